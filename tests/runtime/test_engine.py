"""The router: written order, first true guard, defaults, events; same decisions as transitions."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.runtime.engine import Router

from .specs import counter, gated


def _ctx(n: int, ack: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(
        n=n, tag="", tags=[], ack=None if ack is None else SimpleNamespace(by=ack)
    )


def test_first_true_guard_fires_even_when_a_later_one_also_holds() -> None:
    """With n >= 3 both 'at_gate' and 'shadowed' hold; the one written first fires."""
    router = Router(gated())
    chosen = router.next("working", _ctx(5), steps=3, visits={"working": 3})
    assert chosen is not None
    assert (chosen.label, chosen.target) == ("at_gate", "gate")


def test_default_fires_when_no_guard_holds() -> None:
    """The unguarded last transition is taken when every guard is false."""
    router = Router(gated())
    chosen = router.next("working", _ctx(1), steps=1, visits={"working": 1})
    assert chosen is not None
    assert (chosen.label, chosen.target) == ("again", "working")


def test_event_transitions_are_tried_in_order_per_event() -> None:
    """An event only considers its own transitions, first true guard first."""
    router = Router(gated())
    boss = router.next("gate", _ctx(3, "boss"), 3, {}, event="go")
    intern = router.next("gate", _ctx(3, "intern"), 3, {}, event="go")
    stop = router.next("gate", _ctx(3, "boss"), 3, {}, event="stop")
    assert boss is not None
    assert boss.label == "boss_says_go"
    assert intern is not None
    assert intern.target == "working"
    assert stop is not None
    assert stop.target == "broken"


def test_unknown_event_or_state_routes_nowhere() -> None:
    """An event a state does not accept, or a state without transitions, gives None."""
    router = Router(gated())
    assert router.next("gate", _ctx(3), 3, {}, event="bogus") is None
    assert router.next("done", _ctx(3), 3, {}) is None
    assert not router.accepts("gate", "bogus")
    assert router.accepts("gate", "go")


def test_steps_and_visits_reach_guards() -> None:
    """Guards read the built-ins passed to next(), not anything kept in the router."""
    router = Router(counter())
    ctx = SimpleNamespace(value=10, items=[])
    enough = router.next("run", ctx, steps=0, visits={})
    assert enough is not None
    assert enough.label == "enough"


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(-5, 10),
    ack=st.none() | st.sampled_from(["boss", "intern"]),
    event=st.sampled_from([None, "go", "stop"]),
    state=st.sampled_from(["working", "gate", "done"]),
)
def test_table_routing_equals_transitions_trigger(
    n: int, ack: str | None, event: str | None, state: str
) -> None:
    """Router.next (reading the machine's table) decides exactly like transitions' trigger."""
    router = Router(gated())
    ctx = _ctx(n, ack)
    chosen = router.next(state, ctx, 4, {"working": 2}, event)
    fired = router.fire(state, ctx, 4, {"working": 2}, event)
    assert (chosen.target if chosen else None) == fired
