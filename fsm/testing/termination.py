"""Termination: does every cycle of the state graph pass a guard that caps a growing counter?

A transition is *capped* by a counter when its guard can only hold while that counter is below
a literal bound: ``visits.drafting < 3``, ``steps <= 20``, ``3 > visits.x``, ``visits.x == 2``,
and ``and``/``or``/``not`` combinations of those. Counters only grow: ``steps`` on every
transition, ``visits.X`` each time ``X`` is entered. So a capped transition fires finitely often
unless the run stops entering the capped state. That gives the rule (see docs/routing-checks.md):

    a cycle is bounded when one of its transitions is capped by ``steps`` or by ``visits.X``
    for a state ``X`` on that same cycle.

An unbounded cycle still ends (the runtime's step limit fails the run), so it is reported as a
warning, and as an error under ``strict``. The search is exact over the graph: it finds a cycle
violating the rule whenever one exists (error routes count as uncapped edges).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TypeAlias

import attrs

from fsm.guards.nodes import (
    STEPS,
    VISITS,
    Arithmetic,
    Attribute,
    BoolOp,
    Compare,
    Expr,
    Literal,
    LiteralList,
    Name,
    Not,
    Unary,
)
from fsm.spec.checked import CheckedSpec
from fsm.spec.graph import strongly_connected

Counter = tuple[str, ...]
"""``("steps",)`` or ``("visits", state)``."""

_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "==", "in": "not in"}
_NEGATE |= {"not in": "in"}


@attrs.frozen
class GraphEdge:
    """A way to move from ``source`` to ``target``: a transition (``index``) or the error route
    (``index`` -1), with the counters its guard caps."""

    source: str
    target: str
    index: int
    label: str
    limits: tuple[tuple[Counter, int], ...] = ()

    @property
    def caps(self) -> frozenset[Counter]:
        return frozenset(counter for counter, _ in self.limits)

    def enabled(self, visits: Mapping[str, int], steps: int) -> bool:
        """Whether the caps let this edge fire at these counter values."""
        for counter, limit in self.limits:
            value = steps if counter == (STEPS,) else visits.get(counter[1], 0)
            if value >= limit:
                return False
        return True


@attrs.frozen
class UnboundedCycle:
    """A cycle no capped counter bounds: its states in order and its edges' labels."""

    states: tuple[str, ...]
    edges: tuple[GraphEdge, ...]

    def describe(self) -> str:
        hops = self.states[0]
        for edge in self.edges:
            hops += f" --[{edge.label}]--> {edge.target}"
        return f"unbounded cycle {hops} ends only by the step limit"


def caps(expr: Expr) -> frozenset[Counter]:
    """Counters bounded from above whenever ``expr`` holds."""
    return frozenset(cap_limits(expr))


def cap_limits(expr: Expr) -> dict[Counter, int]:
    """Each capped counter with its limit: when ``expr`` holds, ``counter < limit``."""
    return _caps(expr, positive=True)


def _caps(expr: Expr, positive: bool) -> dict[Counter, int]:
    match expr:
        case Not(operand=operand):
            return _caps(operand, not positive)
        case BoolOp(op=bool_op, values=values):
            parts = [_caps(value, positive) for value in values]
            # De Morgan: ``not (a or b)`` is ``not a and not b``.
            if (bool_op == "and") == positive:
                return _tightest(parts)
            common = set(parts[0]).intersection(*parts[1:])
            return {counter: max(part[counter] for part in parts) for counter in common}
        case Compare(left=left, ops=ops, comparators=comparators):
            if not positive and len(ops) > 1:
                return {}  # a false chain says only that one link fails
            operands = (left, *comparators)
            links = zip(ops, operands, operands[1:], strict=False)
            return _tightest([_compare_caps(lhs, op, rhs, positive) for op, lhs, rhs in links])
        case _:
            return {}


def _tightest(parts: list[dict[Counter, int]]) -> dict[Counter, int]:
    merged: dict[Counter, int] = {}
    for part in parts:
        for counter, limit in part.items():
            merged[counter] = min(limit, merged.get(counter, limit))
    return merged


def _compare_caps(lhs: Expr, op: str, rhs: Expr, positive: bool) -> dict[Counter, int]:
    effective = op if positive else _NEGATE.get(op, "")
    side, bound = _shifted_counter(lhs), _numbers(rhs)
    if side is None:
        side, bound, effective = _shifted_counter(rhs), _numbers(lhs), _MIRROR.get(effective, "")
    if side is None or not bound:
        return {}
    counter, sign, offset = side
    # ``sign * counter + offset  op  b``  is  ``counter  op'  (b - offset) / sign``
    bound = [(b - offset) * sign for b in bound]
    if sign < 0:
        effective = _MIRROR.get(effective, "")
    highest = max(bound)
    if effective == "<":
        return {counter: math.ceil(highest)}
    if effective in ("<=", "==") and len(bound) == 1:
        return {counter: math.floor(highest) + 1}
    if effective == "in":
        return {counter: math.floor(highest) + 1}
    return {}


def _shifted_counter(expr: Expr) -> tuple[Counter, int, float] | None:
    """``expr`` as ``sign * counter + offset`` (``visits.x + 1``, ``5 - steps``, ``-visits.x``),
    so a cap written with a little arithmetic is still recognised; None otherwise."""
    counter = counter_of(expr)
    if counter is not None:
        return counter, 1, 0
    match expr:
        case Unary(op=op, operand=operand):
            inner = _shifted_counter(operand)
            if inner is None:
                return None
            found, sign, offset = inner
            return (found, sign, offset) if op == "+" else (found, -sign, -offset)
        case Arithmetic(op="+" | "-" as op, left=left, right=right):
            constant = _numbers(right)
            if len(constant) == 1 and (inner := _shifted_counter(left)) is not None:
                found, sign, offset = inner
                return found, sign, offset + (constant[0] if op == "+" else -constant[0])
            constant = _numbers(left)
            if len(constant) == 1 and (inner := _shifted_counter(right)) is not None:
                found, sign, offset = inner
                if op == "+":
                    return found, sign, offset + constant[0]
                return found, -sign, constant[0] - offset
    return None


def counter_of(expr: Expr) -> Counter | None:
    """``steps`` or ``visits.X`` as a counter, else None."""
    match expr:
        case Name(name=name) if name == STEPS:
            return (STEPS,)
        case Attribute(value=Name(name=base), name=state) if base == VISITS:
            return (VISITS, state)
        case _:
            return None


def _numbers(expr: Expr) -> list[float]:
    """The numeric literal(s) of ``expr``: ``3``, ``-2``, ``[1, 2]``; empty otherwise."""
    match expr:
        case Literal(value=value) if isinstance(value, int | float) and value is not True:
            return [] if value is False else [value]
        case Unary(op="-", operand=operand):
            return [-n for n in _numbers(operand)]
        case LiteralList(items=items):
            found = [n for item in items for n in _numbers(item)]
            return found if len(found) == len(items) else []
        case _:
            return []


def graph_edges(checked: CheckedSpec) -> tuple[GraphEdge, ...]:
    """Every transition and error route of the spec with the counters its guard caps."""
    edges: list[GraphEdge] = []
    for state in checked.spec.states:
        for transition in checked.transitions.get(state.name, ()):
            guard = transition.guard
            bound = tuple(sorted(cap_limits(guard.expr).items())) if guard is not None else ()
            edges.append(
                GraphEdge(
                    state.name,
                    transition.target,
                    transition.definition.index,
                    transition.label,
                    bound,
                )
            )
        if state.on_error is not None:
            edges.append(GraphEdge(state.name, state.on_error, -1, "on_error"))
    return tuple(edges)


CYCLE_BUDGET = 20_000
"""How many subproblems the unbounded-cycle search may split a region into. Whether some
cycle avoids the states capping its own edges is a forbidden-pairs question, exponential in
the worst case; real specs need a few dozen."""


class CycleSearchBudgetExceededError(Exception):
    """``find_unbounded_cycles`` split a region into ``CYCLE_BUDGET`` subproblems undecided."""


def find_unbounded_cycles(
    edges: Iterable[GraphEdge], budget: int = CYCLE_BUDGET
) -> list[UnboundedCycle]:
    """One witness cycle per strongly connected region that has a cycle no counter bounds.
    Raises ``CycleSearchBudgetExceededError`` when a region needs more than ``budget``
    subproblems to decide."""
    witnesses: list[UnboundedCycle] = []
    seen: set[frozenset[str]] = set()
    tried: set[tuple[frozenset[GraphEdge], frozenset[str]]] = set()
    for component in _components(tuple(e for e in edges if (STEPS,) not in e.caps)):
        cycle = _uncapped_cycle(component, frozenset(), tried, budget)
        if cycle is not None and frozenset(cycle.states) not in seen:
            seen.add(frozenset(cycle.states))
            witnesses.append(cycle)
    return witnesses


def _uncapped_cycle(
    edges: tuple[GraphEdge, ...],
    holding: frozenset[str],
    tried: set[tuple[frozenset[GraphEdge], frozenset[str]]],
    budget: int,
) -> UnboundedCycle | None:
    """A cycle among ``edges`` on which no edge is capped by a state of the cycle (edges capped
    by ``steps`` are gone already). ``holding``: states the cycle sought must pass, so that
    the two branches below never search the same cycles twice.

    Take a state X capping an edge of its region: the cycle either avoids X (drop X) or passes
    X (then none of its edges is one X caps: drop those). Each branch removes a state or an
    edge, so the search ends; a region without such an edge has the cycle outright."""
    key = (frozenset(edges), holding)
    if key in tried:
        return None
    if len(tried) >= budget:
        raise CycleSearchBudgetExceededError(len(tried))
    tried.add(key)
    for component in _components(edges):
        states = {e.source for e in component}
        if not holding <= states:
            continue  # the cycles passing every held state are in another region
        capping = sorted(
            {c[1] for e in component for c in e.caps if c[0] == VISITS} & states - holding
        )
        if not capping:
            return _some_cycle(component)
        pivot = capping[0]
        avoiding = tuple(e for e in component if pivot not in (e.source, e.target))
        passing = tuple(e for e in component if (VISITS, pivot) not in e.caps)
        for branch, held in ((avoiding, holding), (passing, holding | {pivot})):
            found = _uncapped_cycle(branch, held, tried, budget)
            if found is not None:
                return found
    return None


def _capped_within(edge: GraphEdge, states: set[str]) -> bool:
    return any(c == (STEPS,) or (c[0] == VISITS and c[1] in states) for c in edge.caps)


def _components(edges: tuple[GraphEdge, ...]) -> list[tuple[GraphEdge, ...]]:
    """Strongly connected components that contain a cycle, as their internal edges (Tarjan)."""
    successors: dict[str, list[str]] = {}
    for edge in edges:
        successors.setdefault(edge.source, []).append(edge.target)
        successors.setdefault(edge.target, [])
    groups = strongly_connected(successors)
    components: list[tuple[GraphEdge, ...]] = []
    for group in groups:
        inside = tuple(e for e in edges if e.source in group and e.target in group)
        if inside:
            components.append(inside)
    return components


def _some_cycle(component: tuple[GraphEdge, ...]) -> UnboundedCycle:
    """A shortest cycle through the component's first state (a strongly connected region)."""
    start = component[0].source
    outgoing: Mapping[str, list[GraphEdge]] = _by_source(component)
    previous: dict[str, GraphEdge | None] = {start: None}
    frontier = [start]
    while frontier:
        next_frontier: list[str] = []
        for node in frontier:
            for edge in outgoing.get(node, []):
                if edge.target == start:
                    path = [edge]
                    back = previous[node]
                    while back is not None:
                        path.append(back)
                        back = previous[back.source]
                    path.reverse()
                    return UnboundedCycle(tuple(e.source for e in path), tuple(path))
                if edge.target not in previous:
                    previous[edge.target] = edge
                    next_frontier.append(edge.target)
        frontier = next_frontier
    raise AssertionError("a strongly connected component always has a cycle")


def _by_source(edges: Iterable[GraphEdge]) -> dict[str, list[GraphEdge]]:
    grouped: dict[str, list[GraphEdge]] = {}
    for edge in edges:
        grouped.setdefault(edge.source, []).append(edge)
    return grouped


def unbounded_cycles(checked: CheckedSpec) -> list[UnboundedCycle]:
    """Every region of ``checked``'s graph with a cycle that only the step limit ends."""
    return find_unbounded_cycles(graph_edges(checked))


WALK_BUDGET = 200_000
"""How many (state, visit counts) points ``run_to_step_limit`` may explore. The points grow
with the product of the caps of independent loops (eight loops capped at 5 visits: 390,625),
so without a budget a spec of a hundred states could take hours and gigabytes."""


_Link: TypeAlias = tuple[str, "_Link | None"]
"""A path as a chain of (state, the path before it): a push shares the whole prefix."""


class WalkBudgetExceededError(Exception):
    """``run_to_step_limit`` explored ``WALK_BUDGET`` points without an answer."""


def run_to_step_limit(
    edges: Iterable[GraphEdge],
    initial: str,
    finals: Iterable[str],
    max_steps: int,
    budget: int = WALK_BUDGET,
) -> tuple[str, ...] | None:
    """A path of ``max_steps`` transitions that never reaches a final state and that every cap
    on its way allows, or None. Meant for graphs whose cycles are all bounded: a bound of
    ``visits.searching < 13`` on a four-state loop still lets runs reach a step limit of 40.
    Guards are assumed satisfiable apart from their caps, so the answer over-approximates.
    Raises ``WalkBudgetExceededError`` after exploring ``budget`` points undecided."""
    edges = tuple(edges)
    outgoing = _by_source(edges)
    final = set(finals)
    tracked = sorted({c[1] for e in edges for c in e.caps if c[0] == VISITS} | {initial})
    slot = {name: index for index, name in enumerate(tracked)}
    # Per edge: (target, the target's slot or -1, its caps as (slot or -1 for steps, limit)).
    moves: dict[str, list[tuple[str, int, tuple[tuple[int, int], ...]]]] = {}
    for source, leaving in outgoing.items():
        moves[source] = [
            (
                edge.target,
                slot.get(edge.target, -1),
                tuple(
                    (-1 if counter == (STEPS,) else slot[counter[1]], limit)
                    for counter, limit in edge.limits
                ),
            )
            for edge in leaving
        ]
    best: dict[tuple[str, tuple[int, ...]], int] = {}
    first = tuple(int(name == initial) for name in tracked)
    stack: list[tuple[str, tuple[int, ...], int, _Link]] = [(initial, first, 0, (initial, None))]
    while stack:
        state, visits, steps, link = stack.pop()
        if state in final:
            continue
        if steps >= max_steps:
            return _unlinked(link)
        key = (state, visits)
        if best.get(key, -1) >= steps:
            continue
        if len(best) >= budget:
            raise WalkBudgetExceededError(len(best))
        best[key] = steps
        for target, target_slot, limits in moves.get(state, ()):
            if all((steps if at < 0 else visits[at]) < limit for at, limit in limits):
                counted = visits
                if target_slot >= 0:
                    counted = (
                        *visits[:target_slot],
                        visits[target_slot] + 1,
                        *visits[target_slot + 1 :],
                    )
                stack.append((target, counted, steps + 1, (target, link)))
    return None


def _unlinked(link: _Link | None) -> tuple[str, ...]:
    """The states of a linked path, first to last."""
    states: list[str] = []
    while link is not None:
        state, link = link
        states.append(state)
    return tuple(reversed(states))
