"""Routing-case strategies: contract-valid, narrowed by the flow analysis, plausible counters."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.datatypes import OptionalType, RecordType
from fsm.spec.graph import reachable_from
from fsm.spec.validate import checked_from_text, load_checked
from fsm.testing import RoutingCase, check_routing, contexts, outputs
from fsm.testing.contexts import (
    assigned_at_routing,
    narrowed_context,
    path_dominators,
    routing_cases,
    steps_bounds,
    visit_bounds,
)
from fsm.values import check_value
from tests.testing.specs import scoring

PIPELINE = load_checked(Path(__file__).parents[2] / "specs" / "content_pipeline.yaml")


@settings(max_examples=60, deadline=None)
@given(contexts(PIPELINE, "reviewing"))
def test_contexts_are_contract_valid_and_narrowed(case: RoutingCase) -> None:
    """Every reviewing case is a valid context in which the review just written is present."""
    assert not check_value(dict(case.context), PIPELINE.context_type, "context")
    assert case.context["review"] is not None
    assert case.context["draft"] is not None  # assigned on every path into reviewing


@settings(max_examples=60, deadline=None)
@given(contexts(PIPELINE, "reviewing"))
def test_counters_are_plausible(case: RoutingCase) -> None:
    """The current and dominating states were entered; states after it never were."""
    assert case.visits["reviewing"] >= 1
    assert case.visits["drafting"] >= 1
    assert case.visits["published"] == 0
    assert 0 <= case.steps < PIPELINE.spec.max_steps


@settings(max_examples=30, deadline=None)
@given(contexts(PIPELINE, "approval"))
def test_wait_state_cases_carry_their_event(case: RoutingCase) -> None:
    """Cases of a wait state are drawn per event, with the event's data written."""
    assert case.event in ("approve", "reject")
    assert case.context["decision"] is not None


@settings(max_examples=30, deadline=None)
@given(outputs(PIPELINE, "reviewer"))
def test_outputs_are_contract_valid(output: object) -> None:
    """`outputs(spec, agent)` draws valid outputs of the agent's contract."""
    agent = PIPELINE.spec.agent("reviewer")
    assert agent is not None
    assert not check_value(output, agent.output_type, "output")


def test_narrowing_strips_only_assigned_optionals() -> None:
    """Before any review the field stays optional; after the reviewer wrote it, it is not."""
    before = narrowed_context(PIPELINE, "drafting", None).field("review")
    after = narrowed_context(PIPELINE, "reviewing", None).field("review")
    assert before is not None
    assert isinstance(before.type, OptionalType)
    assert after is not None
    assert isinstance(after.type, RecordType)


def test_boundaries_are_hit() -> None:
    """With boundary candidates, score == 0.8 exactly turns up within a few examples."""
    seen: list[float] = []

    @settings(max_examples=100, deadline=None, database=None)
    @given(routing_cases(scoring(), "reviewing"))
    def collect(case: RoutingCase) -> None:
        review = case.context["review"]
        assert isinstance(review, dict)
        seen.append(review["score"])

    collect()
    assert 0.8 in seen


def test_unknown_state_is_a_clear_error() -> None:
    """Asking for a state that does not route names the ones that do."""
    with pytest.raises(ValueError, match="routing states"):
        contexts(PIPELINE, "published")


def test_an_undeclared_state_is_named_as_such_and_each_routing_state_listed_once() -> None:
    """A typo is not "does not route": it is no state at all; the wait state with two events
    is listed once (it used to read "drafting, reviewing, approval, approval")."""
    expected = (
        "state 'reviewng' is not a state of the spec "
        "(routing states: drafting, reviewing, approval)"
    )
    with pytest.raises(ValueError, match="not a state") as caught:
        contexts(PIPELINE, "reviewng")
    assert str(caught.value) == expected
    with pytest.raises(
        ValueError,
        match=r"'published' does not route \(routing states: drafting, reviewing, approval\)$",
    ):
        contexts(PIPELINE, "published")


def test_data_strategy_draws() -> None:
    """`contexts(spec)` without a state mixes every routing point."""

    @settings(max_examples=40, deadline=None, database=None)
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        case = data.draw(contexts(PIPELINE))
        assert case.state in {"drafting", "reviewing", "approval"}

    draw()


MAYBE_AGAIN = """
workflow: f1
max_steps: 10
contracts: {Full: {v: int}, Maybe: {v: int?}}
context: {x: int?}
agents:
  a0: {input: [], output: Full}
  a1: {input: [], output: Maybe}
states:
  s0: {agent: a0, writes: {x: v}}
  s1: {agent: a1, writes: {x: v}}
  gone: {final: true}
  big: {final: true}
  other: {final: true}
initial: s0
transitions:
  s0: [{to: s1}]
  s1:
    - {to: gone, when: "x is None"}
    - {to: big, when: "x > 3"}
    - {to: other}
"""


def test_a_write_that_may_be_none_keeps_the_field_optional_at_routing() -> None:
    """s0 certainly assigns x, but s1 replaces it from an optional output: at s1's routing
    point x may be None again, so `x is None` is live (it was reported dead)."""
    checked = checked_from_text(MAYBE_AGAIN, "f1.yaml")
    assert assigned_at_routing(checked, "s0", None) == frozenset({"x"})
    assert assigned_at_routing(checked, "s1", None) == frozenset()
    report = check_routing(checked, examples=50, runs=5)
    assert report.ok, report.render()
    (point,) = [p for p in report.points if p.state == "s1"]
    assert point.fired["when x is None"] > 0


ACYCLIC = """
workflow: v1
max_steps: 10
context: {n: int}
states: {start: {}, mid: {}, a: {final: true}}
initial: start
transitions:
  start: [{to: mid, when: "visits.start == 1"}]
  mid: [{to: a, when: "steps == 1 and visits.mid == 1"}]
"""


def test_counters_follow_the_graph_where_no_cycle_leads() -> None:
    """A state on no cycle is entered at most once, and with no cycle on the way `steps` is
    exactly the path length: `visits.start == 1`, `steps == 1` are total here (they were
    reported as gaps with visits.start = 2 and steps = 0)."""
    checked = checked_from_text(ACYCLIC, "v1.yaml")
    assert visit_bounds(checked, "mid")["start"].maximum == 1
    bounds = steps_bounds(checked, "mid")
    assert (bounds.minimum, bounds.maximum) == (1, 1)
    report = check_routing(checked, examples=50, runs=3)
    assert report.ok, report.render()


RETRIED = """
workflow: fk
max_steps: 10
contracts: {Out: {ok: bool}}
context: {out: Out?}
agents: {worker: {input: [], output: Out}}
states: {a: {agent: worker, writes: out}, done: {final: true}}
initial: a
transitions:
  a:
    - {to: done, when: "visits.a == 1 and steps == 0"}
"""


def test_an_agent_state_that_can_fail_in_place_counts_as_a_loop() -> None:
    """Its agent may fail (no on_error): that record counts a step and a visit in place, and a
    fork at it retries from there (visits.a == 2, steps == 1), so the guard is a real gap."""
    checked = checked_from_text(RETRIED, "fk.yaml")
    assert visit_bounds(checked, "a")["a"].maximum == 10
    report = check_routing(checked, examples=50, runs=0)
    assert [f.kind for f in report.findings] == ["incomplete"]


def _passes_every_path(graph: dict[str, list[str]], start: str, node: str, goal: str) -> bool:
    """The definition: with ``node`` removed, ``goal`` cannot be reached from ``start``."""
    if node in (start, goal):
        return goal in reachable_from(graph, start)
    pruned = {k: [t for t in v if t != node] for k, v in graph.items() if k != node}
    return goal not in reachable_from(pruned, start)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(2, 9).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n),
            st.integers(0, n - 1),
        )
    )
)
def test_path_dominators_agree_with_removing_each_node(
    drawn: tuple[int, list[tuple[int, int]], int],
) -> None:
    """On random graphs (cycles, self loops, unreachable parts), the one-walk answer is the
    set of nodes whose removal cuts every path, or None when no path exists."""
    size, edges, goal_index = drawn
    graph: dict[str, list[str]] = {f"n{i}": [] for i in range(size)}
    for source, target in edges:
        graph[f"n{source}"].append(f"n{target}")
    goal = f"n{goal_index}"
    found = path_dominators(graph, "n0", goal)
    if goal not in reachable_from(graph, "n0"):
        assert found is None
        return
    expected = {node for node in graph if _passes_every_path(graph, "n0", node, goal)}
    assert found == expected
