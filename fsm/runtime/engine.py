"""Routing on a ``transitions.Machine``: the only module of Flow Orchestra that imports it.

One machine is built per ``CheckedSpec``: its states, and every transition in the order the spec
writes it, with the compiled guard as its condition. A transition tried after a state's agent
uses the internal trigger ``ROUTE_TRIGGER``; a wait state's transitions use the event's name.

The machine is the definition; ``Router.next`` drives it through its cheapest API: it reads the
machine's own ordered transition table once (``Machine.get_transitions``) and, per step, calls the
conditions in that order until one holds. ``transitions``' ``trigger`` machinery (event data,
callbacks, model state bookkeeping) costs about 15 µs per call, half of the SQLite commit a step
pays anyway; reading the table costs about 1 µs (numbers in docs/runtime.md).
``Router.fire`` runs the same decision through a real ``trigger`` on a throwaway model, so tests
can prove both ways agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from transitions import Machine, Transition

from fsm.errors import RoutingError
from fsm.spec.checked import CheckedSpec, CheckedTransition

ROUTE_TRIGGER = "_route"
"""Trigger of the transitions tried after a state's agent (or of a route state)."""

Route = tuple[tuple[Callable[..., object] | None, CheckedTransition], ...]


class GuardRaisedError(RoutingError):
    """A guard raised while routing; the message names the guard, where it is, and why."""

    def __init__(self, transition: CheckedTransition, failure: Exception) -> None:
        definition = transition.definition
        where = definition.guard_span or definition.span
        super().__init__(
            f"{where}: guard `{definition.guard}` of the transition {definition.source} -> "
            f"{definition.target} raised {type(failure).__name__}: {failure}; make the guard "
            f"hold for every value its fields may take (e.g. test `x is not None` first, keep "
            f"numbers in float range)"
        )


class _SpecTransition(Transition):
    """A ``transitions`` transition that remembers the spec transition it was built from."""

    def __init__(self, *args: Any, checked: CheckedTransition, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.checked = checked


class _SpecMachine(Machine):
    transition_cls = _SpecTransition


class _Probe:
    """A throwaway model for ``Router.fire``; ``transitions`` attaches ``trigger`` and ``state``."""


def build_machine(checked: CheckedSpec) -> Any:
    """The spec as a model-less ``transitions.Machine`` (no auto transitions, no callbacks)."""
    spec = checked.spec
    machine = _SpecMachine(
        model=None,
        states=[state.name for state in spec.states],
        initial=spec.initial,
        auto_transitions=False,
        send_event=False,
        ignore_invalid_triggers=True,
    )
    for state in spec.states:
        for transition in checked.transitions.get(state.name, ()):
            machine.add_transition(
                transition.event if transition.event is not None else ROUTE_TRIGGER,
                state.name,
                transition.target,
                conditions=[transition.guard_fn] if transition.guard_fn is not None else None,
                checked=transition,
            )
    return machine


class Router:
    """Chooses the transition that fires: a pure function of (state, context, steps, visits,
    event). Built once per spec and shared by every run of it."""

    def __init__(self, checked: CheckedSpec) -> None:
        self._machine = build_machine(checked)
        self._routes: dict[tuple[str, str | None], Route] = {}
        for state in checked.spec.states:
            for event in {t.event for t in checked.transitions.get(state.name, ())}:
                trigger = event if event is not None else ROUTE_TRIGGER
                self._routes[(state.name, event)] = tuple(
                    (_condition(t), t.checked)
                    for t in self._machine.get_transitions(trigger, state.name)
                )

    def next(
        self,
        state: str,
        context: object,
        steps: int,
        visits: Mapping[str, int],
        event: str | None = None,
    ) -> CheckedTransition | None:
        """The first transition of ``state`` (on ``event``) whose guard holds, or None.

        A guard that raises (the checker rules out nearly every way, but not all: an int too
        large for a float, a value the flow analysis could not see) raises ``GuardRaisedError``
        naming the guard, so the step fails with a record instead of a traceback."""
        for guard, transition in self._routes.get((state, event), ()):
            if guard is None:
                return transition
            try:
                if guard(context, steps, visits):
                    return transition
            except Exception as failure:  # whatever a guard raises is reported, not propagated
                raise GuardRaisedError(transition, failure) from failure
        return None

    def accepts(self, state: str, event: str) -> bool:
        return (state, event) in self._routes

    def fire(
        self,
        state: str,
        context: object,
        steps: int,
        visits: Mapping[str, int],
        event: str | None = None,
    ) -> str | None:
        """The target ``transitions``' own ``trigger`` reaches (None when nothing fires).

        Slow (a model is attached and removed per call); it exists so tests can check that
        ``next`` decides exactly as the library does."""
        if (state, event) not in self._routes:
            return None
        probe: Any = _Probe()
        self._machine.add_model(probe, initial=state)
        try:
            fired = probe.trigger(event or ROUTE_TRIGGER, context, steps, visits)
            return str(probe.state) if fired else None
        finally:
            self._machine.remove_model(probe)


def _condition(transition: _SpecTransition) -> Callable[..., object] | None:
    conditions = transition.conditions
    if not conditions:
        return None
    (only,) = conditions
    func = only.func
    assert callable(func)  # we only ever pass compiled guards, never method names
    return func
