"""Strategies for the inputs routing sees: a state, an event, a context, ``steps`` and ``visits``.

A routing case is what the runtime hands the router after a state's agent (or an event) was
merged: so the context is generated from the context contract *narrowed* to what the flow
analysis proved there — optional fields certainly assigned on entry, plus those the state's own
writes (or the event's writes) just assigned, are never ``None``. Without that, ``fsm check``
would report guards "raising" on contexts no run can produce.

Counters are plausible rather than exact: ``visits`` of a state that cannot lead to the current
one is 0, of a state every path passes through (and the current state) at least 1, all at most
the step limit; ``steps`` is below the step limit. The whole case is drawn by
``fsm.testing.strategies.values`` over a synthetic record, so boundary candidates
(``fsm.testing.boundaries``) mix in at paths like ``("visits", "drafting")``.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any, TypeVar, cast

import attrs
from hypothesis import strategies as st

from fsm.datatypes import (
    INT,
    Constraints,
    DataType,
    DictType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
    strip_optional,
)
from fsm.diagnostics import SourceSpan
from fsm.guards.nodes import STEPS, VISITS, Call, Name
from fsm.spec.checked import CheckedSpec
from fsm.spec.flow import assigned_by_writes, unset_by_writes, written_record
from fsm.spec.graph import cyclic_states, distances_from, reachable_from, successors
from fsm.spec.model import Spec
from fsm.spec.validate import load_checked
from fsm.testing.boundaries import (
    CONTEXT,
    UNBUILDABLE,
    boundary_candidates,
    length_candidates,
    minimal,
)
from fsm.testing.strategies import Path, values

SpecLike = CheckedSpec | str | FilePath
T = TypeVar("T")


@attrs.frozen
class RoutingCase:
    """One input of routing: ``context`` is JSON-ready data of the context contract."""

    state: str
    event: str | None
    context: Mapping[str, object]
    steps: int
    visits: Mapping[str, int]


def as_checked(spec: SpecLike) -> CheckedSpec:
    """Accept a checked spec or a path to a spec file (loaded and validated)."""
    return spec if isinstance(spec, CheckedSpec) else load_checked(spec)


def routing_points(checked: CheckedSpec) -> tuple[tuple[str, str | None], ...]:
    """Every (state, event) at which routing chooses a transition, in spec order."""
    points: list[tuple[str, str | None]] = []
    for state in checked.spec.states:
        for transition in checked.transitions.get(state.name, ()):
            point = (state.name, transition.event)
            if point not in points:
                points.append(point)
    return tuple(points)


def assigned_at_routing(checked: CheckedSpec, state: str, event: str | None) -> frozenset[str]:
    """Optional context fields certainly non-None when ``state`` routes (on ``event``)."""
    spec = checked.spec
    definition = spec.state(state)
    assigned = set(checked.assigned_on_entry.get(state, frozenset()))
    if definition is not None:
        event_def = definition.event(event) if event is not None else None
        sources = [(definition.writes, written_record(spec, definition))]
        if event_def is not None:
            sources.append((event_def.writes, written_record(spec, definition, event_def)))
        for writes, record in sources:
            # as the context-flow analysis does: a write from a value that may be absent can
            # set a field None again, whatever was assigned before
            assigned -= unset_by_writes(spec, writes, record)
            assigned |= assigned_by_writes(spec, writes, record)
    return frozenset(assigned)


def narrowed_context(checked: CheckedSpec, state: str, event: str | None) -> RecordType:
    """The context contract with the fields assigned at this routing point made non-optional."""
    assigned = assigned_at_routing(checked, state, event)
    fields = tuple(
        attrs.evolve(f, type=f.type.inner)
        if f.name in assigned and isinstance(f.type, OptionalType)
        else f
        for f in checked.context_type.fields
    )
    return attrs.evolve(checked.context_type, fields=fields)


def counter_graph(spec: Spec) -> dict[str, list[str]]:
    """How ``steps`` and ``visits`` can grow: the transitions and error routes, plus a loop on
    every agent state without an ``on_error`` route. Its agent may fail there, and the record
    of that failure counts a step and a visit while the run stays put; forking at that record
    (to retry) continues from those counts."""
    graph = successors(spec)
    for state in spec.states:
        if state.agent is not None and state.on_error is None and state.name in graph:
            graph[state.name] = [*graph[state.name], state.name]
    return graph


def visit_bounds(checked: CheckedSpec, state: str) -> dict[str, Constraints]:
    """Plausible ``visits`` bounds per state for a run that is now in ``state``: none for a
    state that cannot lead here, at least one for a state every path here passes, and at most
    one for a state on no cycle (it can only be entered once)."""
    spec = checked.spec
    graph = counter_graph(spec)
    limit = spec.max_steps
    reverse: dict[str, list[str]] = {name: [] for name in graph}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    can_lead_here = reachable_from(reverse, state)
    cyclic = cyclic_states(graph)
    dominators = path_dominators(graph, spec.initial, state)
    bounds: dict[str, Constraints] = {}
    for other in graph:
        most = limit if other in cyclic else 1
        if other not in can_lead_here:
            bounds[other] = Constraints(minimum=0, maximum=0)
        elif other in (state, spec.initial) or dominators is None or other in dominators:
            bounds[other] = Constraints(minimum=1, maximum=most)
        else:
            bounds[other] = Constraints(minimum=0, maximum=most)
    return bounds


def steps_bounds(checked: CheckedSpec, state: str) -> Constraints:
    """Plausible ``steps`` when routing in ``state``: at least the fewest transitions from the
    initial state to it; at most the most of them when no cycle can lead here, and always
    below ``max_steps`` (routing never happens at the limit)."""
    spec = checked.spec
    graph = counter_graph(spec)
    fewest = distances_from(graph, spec.initial).get(state, 0)
    most = max(spec.max_steps - 1, 0)
    longest = _longest_acyclic_path(graph, spec.initial, state)
    if longest is not None:
        most = min(most, longest)
    return Constraints(minimum=min(fewest, most), maximum=most)


def _longest_acyclic_path(graph: Mapping[str, list[str]], start: str, goal: str) -> int | None:
    """The most transitions from ``start`` to ``goal`` when no cycle lies on the way (every
    state that can reach ``goal`` is on none), else None."""
    reverse: dict[str, list[str]] = {name: [] for name in graph}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    before = reachable_from(reverse, goal) & reachable_from(graph, start)
    if start not in before or before & cyclic_states(graph):
        return None
    longest: dict[str, int] = {}
    for node in _topological(graph, before):
        preceding = [longest[p] + 1 for p in reverse[node] if p in longest]
        longest[node] = max(preceding) if preceding else 0
    return longest.get(goal)


def _topological(graph: Mapping[str, list[str]], nodes: set[str]) -> list[str]:
    """``nodes`` (acyclic among themselves) with every edge pointing forward (Kahn)."""
    incoming = dict.fromkeys(nodes, 0)
    for node in nodes:
        for target in graph.get(node, ()):
            if target in incoming:
                incoming[target] += 1
    ready = sorted(node for node, count in incoming.items() if count == 0)
    ordered: list[str] = []
    while ready:
        node = ready.pop()
        ordered.append(node)
        for target in graph.get(node, ()):
            if target in incoming:
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
    return ordered


def path_dominators(graph: Mapping[str, list[str]], start: str, goal: str) -> set[str] | None:
    """The nodes every path from ``start`` to ``goal`` passes through, both ends included;
    None when no path leads there (every node then does, vacuously).

    Only the nodes of one path can be such nodes. Walking that path in order, with everything
    reachable off it from the nodes before, a path node is passed by every path exactly when
    nothing reached so far jumps past it. One walk of the graph: testing each node by removing
    it and searching again was quadratic per routing point, cubic per spec."""
    parents: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in graph.get(node, ()):
            if target not in parents:
                parents[target] = node
                queue.append(target)
    if goal not in parents:
        return None
    path = [goal]
    while (before := parents[path[-1]]) is not None:
        path.append(before)
    path.reverse()
    position = {node: index for index, node in enumerate(path)}
    seen = set(path)
    furthest = 0
    passed: set[str] = set()
    for index, node in enumerate(path):
        if furthest <= index:
            passed.add(node)
        stack = [node]
        while stack:
            for target in graph.get(stack.pop(), ()):
                at = position.get(target)
                if at is not None:
                    furthest = max(furthest, at)
                elif target not in seen:
                    seen.add(target)
                    stack.append(target)
    return passed


def visits_type(checked: CheckedSpec, state: str) -> RecordType:
    """``visits`` as a record of one int per state, with the plausible bounds."""
    fields = tuple(
        FieldDef(name, INT, constraints=bounds)
        for name, bounds in visit_bounds(checked, state).items()
    )
    return RecordType("Visits", fields)


def guard_fields(checked: CheckedSpec, state: str, event: str | None) -> frozenset[str]:
    """Top-level context fields the guards of this routing point read."""
    return frozenset(
        path[0]
        for transition in checked.outgoing(state, event)
        if transition.guard is not None
        for path in transition.guard.reads
        if path and path[0] not in (STEPS, VISITS)
    )


def routing_cases(
    checked: CheckedSpec,
    state: str,
    event: str | None = None,
    *,
    boundaries: bool = True,
    focus: bool = False,
) -> st.SearchStrategy[RoutingCase]:
    """Routing cases of one routing point, boundary candidates mixed in unless disabled.

    With ``focus``, context fields no guard of the point reads hold one small fixed value:
    routing cannot depend on them (guards are pure), and generating them is most of the cost.
    """
    return _routing_cases(checked, state, event, boundaries=boundaries, focus=focus)[0]


def focused_routing_cases(
    checked: CheckedSpec, state: str, event: str | None = None
) -> tuple[st.SearchStrategy[RoutingCase], Mapping[str, object]]:
    """``routing_cases(..., focus=True)`` and the values it holds fixed, by field. Every case
    it draws shares these very objects (not copies), so an evaluator can recognise them and
    build them once (``Evaluator.hold``); nothing may change them."""
    return _routing_cases(checked, state, event, boundaries=True, focus=True)


def _routing_cases(
    checked: CheckedSpec, state: str, event: str | None, *, boundaries: bool, focus: bool
) -> tuple[st.SearchStrategy[RoutingCase], Mapping[str, object]]:
    extras = boundary_candidates(checked, state) if boundaries else {}
    lengths = length_candidates(checked, state) if boundaries else {}
    record = narrowed_context(checked, state, event)
    only = guard_fields(checked, state, event) if focus else None
    counted_steps = steps_bounds(checked, state)
    held = _held_values(record, only)
    strategy = st.builds(
        RoutingCase,
        state=st.just(state),
        event=st.just(event),
        context=_context_strategy(
            record,
            _under(extras, CONTEXT),
            _under(lengths, CONTEXT),
            held,
            counted_only(checked, state, event) if focus else frozenset(),
        ),
        steps=values(INT, counted_steps, extra_values=_under(extras, STEPS)),
        visits=_visits_strategy(checked, state, event, _under(extras, VISITS), focus),
    )
    return strategy, held


def _held_values(record: RecordType, only: frozenset[str] | None) -> dict[str, object]:
    """The fields a focused strategy holds fixed (no guard reads them) and their value; none
    without focus."""
    if only is None:
        return {}
    held: dict[str, object] = {}
    for field in record.fields:
        fixed = minimal(field.type, field.constraints)
        if field.name not in only and fixed is not UNBUILDABLE:
            held[field.name] = fixed
    return held


def _visits_strategy(
    checked: CheckedSpec,
    state: str,
    event: str | None,
    extras: Mapping[Path, list[object]],
    focus: bool,
) -> st.SearchStrategy[Mapping[str, int]]:
    """``visits`` of every state; with ``focus`` only the counters the point's guards read are
    drawn, the others hold their least plausible value (routing cannot depend on them, and a
    spec of hundreds of states made drawing the rest most of the cost)."""
    if not focus:
        return values(visits_type(checked, state), extra_values=extras).map(_counts)
    bounds = visit_bounds(checked, state)
    read = sorted(
        {
            path[1]
            for transition in checked.outgoing(state, event)
            if transition.guard is not None
            for path in transition.guard.reads
            if len(path) > 1 and path[0] == VISITS and path[1] in bounds
        }
    )
    fixed = {name: int(bound.minimum or 0) for name, bound in bounds.items() if name not in read}
    record = RecordType("Visits", tuple(FieldDef(n, INT, constraints=bounds[n]) for n in read))
    wanted = {path: found for path, found in extras.items() if path[:1] and path[0] in read}
    return values(record, extra_values=wanted).map(lambda found: {**fixed, **_counts(found)})


def _counts(drawn: object) -> dict[str, int]:
    """A drawn ``Visits`` record (JSON: a dict of ints)."""
    assert isinstance(drawn, dict)
    return drawn


def _under(extras: Mapping[Path, list[T]], head: str) -> dict[Path, list[T]]:
    return {path[1:]: found for path, found in extras.items() if path[:1] == (head,)}


def _context_strategy(
    record: RecordType,
    extras: Mapping[Path, list[object]],
    lengths: Mapping[Path, list[int]],
    held: Mapping[str, object],
    counted_only: frozenset[str] = frozenset(),
) -> st.SearchStrategy[dict[str, object]]:
    fields: dict[str, st.SearchStrategy[object]] = {}
    for field in record.fields:
        if field.name in held:
            continue
        wanted = lengths.get((field.name,))
        sized = _repeated(field, wanted) if wanted else None
        if field.name in counted_only and sized is not None:
            fields[field.name] = sized
            continue
        strategy = values(field.type, field.constraints, extra_values=_under(extras, field.name))
        if sized is not None:
            strategy = st.one_of(strategy, sized)
        fields[field.name] = strategy
    if not held:
        return st.fixed_dictionaries(fields)
    # Fields held fixed are added after drawing (one draw per field, however trivial, was most
    # of the cost on contexts of hundreds of fields); the record's field order is kept. Every
    # case shares the held objects themselves: a copy per case cost as much as the rest of
    # drawing it on large contexts, and the evaluator recognises them (``Evaluator.hold``).
    order = [field.name for field in record.fields]

    def complete(drawn: dict[str, object]) -> dict[str, object]:
        return {name: drawn[name] if name in drawn else held[name] for name in order}

    return st.fixed_dictionaries(fields).map(complete)


def _repeated(field: FieldDef, lengths: list[int]) -> st.SearchStrategy[object] | None:
    """Values of the wanted lengths (or any small length) made of one repeated item: cheap even
    when items are costly to draw (patterns), and enough for guards that only count. Lists
    repeat an item, dicts map distinct keys to it, strings repeat a letter; None for a type
    that has no length, or a string with a pattern (a repeated letter would not match)."""
    low, high = field.constraints.min_len or 0, field.constraints.max_len
    fitting = [n for n in lengths if n >= low and (high is None or n <= high)]
    sizes = st.integers(low, low + 20 if high is None else min(high, low + 20))
    if fitting:
        sizes = st.one_of(st.sampled_from(fitting), sizes)
    match strip_optional(field.type):
        case ListType(item=item_type):
            return st.builds(
                lambda one, n: [copy.deepcopy(one) for _ in range(n)], _one_item(item_type), sizes
            )
        case DictType(value=item_type):
            return st.builds(
                lambda one, n: {f"k{i}": copy.deepcopy(one) for i in range(n)},
                _one_item(item_type),
                sizes,
            )
        case ScalarType(name="str") if field.constraints.pattern is None:
            return sizes.map(lambda n: "a" * n)
        case _:
            return None


def _one_item(item_type: DataType) -> st.SearchStrategy[object]:
    fixed = minimal(item_type)
    return st.just(fixed) if fixed is not UNBUILDABLE else values(item_type)


def counted_only(checked: CheckedSpec, state: str, event: str | None) -> frozenset[str]:
    """Fields (lists, dicts, strings) the point's guards use only as ``len(field)``: their
    contents cannot matter."""
    inside_len: set[str] = set()
    elsewhere: set[str] = set()

    def visit(node: object, in_len: bool) -> None:
        if isinstance(node, Name):
            (inside_len if in_len else elsewhere).add(node.name)
            return
        if not attrs.has(type(node)):
            return
        direct = isinstance(node, Call) and node.function == "len"
        for field in attrs.fields(cast(Any, type(node))):
            value = getattr(node, field.name)
            for child in value if isinstance(value, tuple) else (value,):
                if attrs.has(type(child)) and not isinstance(child, SourceSpan):
                    visit(child, direct and isinstance(child, Name))

    for transition in checked.outgoing(state, event):
        if transition.guard is not None:
            visit(transition.guard.expr, False)
    return frozenset(inside_len - elsewhere)


def contexts(
    spec: SpecLike, state: str | None = None, *, boundaries: bool = True
) -> st.SearchStrategy[RoutingCase]:
    """Routing cases of ``state`` (each of its events), or of every routing point when None.

    >>> @given(contexts("specs/content_pipeline.yaml", "reviewing"))
    ... def test_reviewing_routes(case): ...
    """
    checked = as_checked(spec)
    points = [p for p in routing_points(checked) if state is None or p[0] == state]
    if not points:
        known = ", ".join(dict.fromkeys(name for name, _ in routing_points(checked)))
        declared = checked.spec.state(state or "") is not None
        problem = "does not route" if declared else "is not a state of the spec"
        raise ValueError(f"state {state!r} {problem} (routing states: {known})")
    return st.one_of(
        *(routing_cases(checked, name, event, boundaries=boundaries) for name, event in points)
    )


def outputs(spec: SpecLike, agent: str) -> st.SearchStrategy[object]:
    """Contract-valid outputs of ``agent`` (JSON-ready data), for fake agents in tests."""
    checked = as_checked(spec)
    definition = checked.spec.agent(agent)
    if definition is None:
        known = ", ".join(a.name for a in checked.spec.agents) or "none"
        raise ValueError(f"spec has no agent {agent!r} (agents: {known})")
    return values(definition.output_type)
