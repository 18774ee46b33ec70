"""Termination analysis: which guards cap which counters, and which cycles stay unbounded."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.diagnostics import SourceSpan
from fsm.guards import parse_guard
from fsm.testing.termination import (
    GraphEdge,
    WalkBudgetExceededError,
    cap_limits,
    find_unbounded_cycles,
    run_to_step_limit,
)

SPAN = SourceSpan("t.yaml", 1, 1)
DRAFT = ("visits", "drafting")


@pytest.mark.parametrize(
    ("guard", "expected"),
    [
        ("visits.drafting < 3", {DRAFT: 3}),
        ("visits.drafting <= 3", {DRAFT: 4}),
        ("3 > visits.drafting", {DRAFT: 3}),
        ("visits.drafting == 2", {DRAFT: 3}),
        ("visits.drafting in [1, 2]", {DRAFT: 3}),
        ("not visits.drafting >= 3", {DRAFT: 3}),
        ("not (visits.drafting != 2)", {DRAFT: 3}),
        ("steps < 10 and visits.drafting < 5", {("steps",): 10, DRAFT: 5}),
        ("visits.drafting < 2 or visits.drafting < 4", {DRAFT: 4}),
        ("not (steps >= 9 or visits.drafting > 1)", {("steps",): 9, DRAFT: 2}),
        ("0 < visits.drafting < 3", {DRAFT: 3}),
        ("steps + 1 < 3", {("steps",): 2}),
        ("visits.drafting + 1 < 5", {DRAFT: 4}),
        ("-visits.drafting > -5", {DRAFT: 5}),
        ("5 - visits.drafting > 2", {DRAFT: 3}),
        ("visits.drafting - 1 <= 2", {DRAFT: 4}),
        ("2 + visits.drafting == 4", {DRAFT: 3}),
        ("not (visits.drafting + 1 >= 5)", {DRAFT: 4}),
        ("+visits.drafting < 3", {DRAFT: 3}),
    ],
)
def test_guards_that_cap_a_counter(guard: str, expected: dict[tuple[str, ...], int]) -> None:
    """Upper bounds on counters are found through comparisons, mirrors and and/or/not."""
    assert cap_limits(parse_guard(guard, SPAN)) == expected


@pytest.mark.parametrize(
    "guard",
    [
        "visits.drafting > 3",
        "visits.drafting >= 0",
        "visits.drafting != 2",
        "visits.drafting < 3 or steps > 1",
        "not visits.drafting < 3",
        "not (0 < visits.drafting < 3)",
        "visits.drafting * 2 < 5",
        "steps - visits.drafting < 3",
        "-visits.drafting in [-1, -2]",
    ],
)
def test_guards_that_do_not_cap(guard: str) -> None:
    """Lower bounds, disjunctions with an uncapped side and negated caps bound nothing."""
    assert cap_limits(parse_guard(guard, SPAN)) == {}


def edge(source: str, target: str, *limits: tuple[tuple[str, ...], int]) -> GraphEdge:
    return GraphEdge(source, target, 0, f"{source}->{target}", tuple(limits))


def test_cycle_capped_by_a_state_on_it_is_bounded() -> None:
    """A revise loop capped by the visits of a state on the loop is bounded."""
    edges = [edge("draft", "review"), edge("review", "draft", (("visits", "draft"), 3))]
    assert find_unbounded_cycles(edges) == []


def test_cap_on_a_state_off_the_cycle_does_not_bound_it() -> None:
    """A cap on a counter the cycle never increments does not bound the cycle."""
    edges = [
        edge("start", "a"),
        edge("a", "b"),
        edge("b", "a", (("visits", "start"), 3)),
    ]
    (cycle,) = find_unbounded_cycles(edges)
    assert set(cycle.states) == {"a", "b"}
    assert "ends only by the step limit" in cycle.describe()


def test_uncapped_parallel_edge_makes_the_cycle_unbounded() -> None:
    """Capping one of two edges between the same states leaves the other way round open."""
    edges = [
        edge("a", "b"),
        edge("b", "a", (("visits", "a"), 3)),
        edge("b", "a"),
    ]
    (cycle,) = find_unbounded_cycles(edges)
    assert cycle.edges[-1].limits == ()


def test_steps_cap_bounds_any_cycle() -> None:
    """``steps < N`` bounds every cycle through the edge it guards."""
    assert find_unbounded_cycles([edge("a", "b"), edge("b", "a", (("steps",), 10))]) == []


def test_nested_cycle_avoiding_the_capped_state_is_found() -> None:
    """An inner loop that never re-enters the capped state is still reported."""
    edges = [
        edge("a", "b"),
        edge("b", "c"),
        edge("c", "b"),
        edge("c", "a", (("visits", "a"), 2)),
        edge("b", "a", (("visits", "a"), 2)),
    ]
    (cycle,) = find_unbounded_cycles(edges)
    assert set(cycle.states) == {"b", "c"}


def test_bounded_cycles_can_still_reach_the_step_limit() -> None:
    """A loop of four states allowed 12 rounds exceeds a step limit of 40."""
    loop = ["plan", "search", "gather", "check"]
    edges = [edge(loop[i], loop[i + 1]) for i in range(3)]
    edges.append(edge("check", "plan", (("visits", "plan"), 13)))
    edges.append(edge("check", "done"))
    path = run_to_step_limit(edges, "plan", ["done"], 40)
    assert path is not None
    assert len(path) == 41
    edges[-2] = edge("check", "plan", (("visits", "plan"), 3))
    assert run_to_step_limit(edges, "plan", ["done"], 40) is None


def test_independent_capped_loops_do_not_explode_the_step_limit_walk() -> None:
    """Eight loops capped at 5 visits make 5**8 combinations of visit counts: the walk gives
    up at its budget (quickly, in little memory) instead of exploring them all."""
    edges: list[GraphEdge] = []
    for index in range(8):
        here, there, after = f"s{index}", f"t{index}", f"s{index + 1}"
        edges.append(edge(here, there, (("visits", here), 5)))
        edges.append(edge(there, here))
        edges.append(edge(here, after))
    edges.append(edge("s8", "done"))
    with pytest.raises(WalkBudgetExceededError):
        run_to_step_limit(edges, "s0", ["done"], 1000, budget=5_000)
    assert run_to_step_limit([*edges[:6], edge("s2", "done")], "s0", ["done"], 1000) is None


STATES = ["a", "b", "c", "d", "e"]
random_edges = st.lists(
    st.tuples(
        st.sampled_from(STATES),
        st.sampled_from(STATES),
        st.sampled_from([None, "steps", *STATES]),
    ),
    max_size=10,
)


def _limits(cap: str | None) -> tuple[tuple[tuple[str, ...], int], ...]:
    if cap is None:
        return ()
    return (((STEPS_COUNTER if cap == "steps" else ("visits", cap)), 3),)


STEPS_COUNTER = ("steps",)


def _good_cycle_exists(edges: list[GraphEdge]) -> bool:
    """Brute force: some simple cycle whose edges no state of the cycle (or steps) caps."""

    def extend(path: list[GraphEdge], start: str) -> bool:
        here = path[-1].target if path else start
        for nxt in edges:
            if nxt.source != here:
                continue
            walk = [*path, nxt]
            states = {e.source for e in walk}
            if nxt.target == start:
                if all(
                    c != ("steps",) and not (c[0] == "visits" and c[1] in states)
                    for e in walk
                    for c in e.caps
                ):
                    return True
            elif nxt.target not in states and extend(walk, start):
                return True
        return False

    return any(extend([], state) for state in STATES)


@settings(max_examples=400, deadline=None)
@given(random_edges)
def test_the_cycle_search_agrees_with_brute_force(drawn: list[tuple[str, str, str | None]]) -> None:
    """Unbounded cycles are found exactly when one exists, and each witness is one."""
    edges = [edge(source, target, *_limits(cap)) for source, target, cap in drawn]
    found = find_unbounded_cycles(edges)
    assert bool(found) == _good_cycle_exists(edges)
    for cycle in found:
        states = set(cycle.states)
        assert cycle.edges[-1].target == cycle.states[0]
        for e in cycle.edges:
            assert all(c[0] == "visits" and c[1] not in states for c in e.caps)


@pytest.mark.parametrize("shift", range(-3, 4))
@pytest.mark.parametrize("op", ["<", "<=", "==", ">", ">=", "!="])
@pytest.mark.parametrize("form", ["visits.x + {k} {op} {b}", "{k} - visits.x {op} {b}"])
def test_a_recognised_cap_is_sound(form: str, op: str, shift: int) -> None:
    """Whatever cap is read from a shifted counter, the guard is false at and above it (checked
    by evaluating the comparison for counter values 0..30)."""
    text = form.format(k=shift, op=op, b=4)
    caps = cap_limits(parse_guard(text, SPAN))
    if not caps:
        return
    (cap,) = caps.values()
    python = text.replace("visits.x", "x")
    for x in range(31):
        if eval(python, {"x": x}):  # the comparison text written above, ints only
            assert x < cap, (text, x, cap)
