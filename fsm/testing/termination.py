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

from collections.abc import Iterable, Mapping

import attrs

from fsm.guards.nodes import (
    STEPS,
    VISITS,
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

Counter = tuple[str, ...]
"""``("steps",)`` or ``("visits", state)``."""

_UPPER_WHEN_TRUE = {"<", "<=", "=="}
"""Ops for which ``counter OP literal`` holding bounds the counter from above."""
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
    caps: frozenset[Counter] = frozenset()


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
    return _caps(expr, positive=True)


def _caps(expr: Expr, positive: bool) -> frozenset[Counter]:
    match expr:
        case Not(operand=operand):
            return _caps(operand, not positive)
        case BoolOp(op=bool_op, values=values):
            parts = [_caps(value, positive) for value in values]
            conjunction = (
                bool_op == "and"
            ) == positive  # De Morgan: not (a or b) = not a and not b
            if conjunction:
                return frozenset().union(*parts)
            return frozenset.intersection(*parts)
        case Compare(left=left, ops=ops, comparators=comparators):
            if not positive and len(ops) > 1:
                return frozenset()  # a false chain says only that one link fails
            found: set[Counter] = set()
            operands = (left, *comparators)
            for compare_op, lhs, rhs in zip(ops, operands, operands[1:], strict=False):
                found |= _compare_caps(lhs, compare_op, rhs, positive)
            return frozenset(found)
        case _:
            return frozenset()


def _compare_caps(lhs: Expr, op: str, rhs: Expr, positive: bool) -> set[Counter]:
    effective = op if positive else _NEGATE.get(op, "")
    counter = counter_of(lhs)
    if counter is not None and _is_number(rhs):
        if effective in _UPPER_WHEN_TRUE:
            return {counter}
        if effective == "in" and isinstance(rhs, LiteralList):
            return {counter}
    counter = counter_of(rhs)
    if counter is not None and _is_number(lhs) and _MIRROR.get(effective) in _UPPER_WHEN_TRUE:
        return {counter}
    return set()


def counter_of(expr: Expr) -> Counter | None:
    """``steps`` or ``visits.X`` as a counter, else None."""
    match expr:
        case Name(name=name) if name == STEPS:
            return (STEPS,)
        case Attribute(value=Name(name=base), name=state) if base == VISITS:
            return (VISITS, state)
        case _:
            return None


def _is_number(expr: Expr) -> bool:
    match expr:
        case Literal(value=value):
            return isinstance(value, int | float) and not isinstance(value, bool)
        case Unary(operand=operand):
            return _is_number(operand)
        case LiteralList(items=items):
            return all(_is_number(item) for item in items)
        case _:
            return False


def graph_edges(checked: CheckedSpec) -> tuple[GraphEdge, ...]:
    """Every transition and error route of the spec with the counters its guard caps."""
    edges: list[GraphEdge] = []
    for state in checked.spec.states:
        for transition in checked.transitions.get(state.name, ()):
            bound = caps(transition.guard.expr) if transition.guard is not None else frozenset()
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


def find_unbounded_cycles(edges: Iterable[GraphEdge]) -> list[UnboundedCycle]:
    """One witness cycle per strongly connected region that has a cycle no counter bounds."""
    witnesses: list[UnboundedCycle] = []
    seen: set[frozenset[str]] = set()
    for component in _components(tuple(edges)):
        cycle = _uncapped_cycle(component, set())
        if cycle is not None and frozenset(cycle.states) not in seen:
            seen.add(frozenset(cycle.states))
            witnesses.append(cycle)
    return witnesses


def _uncapped_cycle(
    edges: tuple[GraphEdge, ...], tried: set[frozenset[GraphEdge]]
) -> UnboundedCycle | None:
    """A cycle among ``edges`` on which no edge is capped by steps or by a state of the cycle.

    Such a cycle avoids every edge that is capped inside its region, or avoids the capped state
    of one such edge; both cases shrink the graph, so the recursion ends."""
    key = frozenset(edges)
    if key in tried:
        return None
    tried.add(key)
    for component in _components(edges):
        states = {e.source for e in component}
        capped = [e for e in component if _capped_within(e, states)]
        if not capped:
            return _some_cycle(component)
        smaller = [tuple(e for e in component if e not in capped)]
        for state in sorted({c[1] for e in capped for c in e.caps if c[0] == VISITS} & states):
            smaller.append(tuple(e for e in component if state not in (e.source, e.target)))
        for candidate in smaller:
            found = _uncapped_cycle(candidate, tried)
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
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(node: str) -> None:
        # Recursion depth is bounded by the number of states, which specs keep small.
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in successors[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: set[str] = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            groups.append(group)

    for node in sorted(successors):
        if node not in index:
            visit(node)
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
