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

from collections.abc import Mapping
from pathlib import Path as FilePath

import attrs
from hypothesis import strategies as st

from fsm.datatypes import INT, Constraints, FieldDef, OptionalType, RecordType
from fsm.spec.checked import CheckedSpec
from fsm.spec.flow import assigned_by_writes
from fsm.spec.graph import reachable_from, successors
from fsm.spec.validate import load_checked
from fsm.testing.boundaries import CONTEXT, boundary_candidates
from fsm.testing.strategies import values

SpecLike = CheckedSpec | str | FilePath


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
        assigned |= assigned_by_writes(spec, definition.writes)
        event_def = definition.event(event) if event is not None else None
        if event_def is not None:
            assigned |= assigned_by_writes(spec, event_def.writes)
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


def visit_bounds(checked: CheckedSpec, state: str) -> dict[str, Constraints]:
    """Plausible ``visits`` bounds per state for a run that is now in ``state``."""
    spec = checked.spec
    graph = successors(spec)
    limit = spec.max_steps
    reverse: dict[str, list[str]] = {name: [] for name in graph}
    for source, targets in graph.items():
        for target in targets:
            reverse[target].append(source)
    can_lead_here = reachable_from(reverse, state)
    bounds: dict[str, Constraints] = {}
    for other in graph:
        if other not in can_lead_here:
            bounds[other] = Constraints(minimum=0, maximum=0)
        elif other in (state, spec.initial) or _dominates(graph, spec.initial, other, state):
            bounds[other] = Constraints(minimum=1, maximum=limit)
        else:
            bounds[other] = Constraints(minimum=0, maximum=limit)
    return bounds


def _dominates(graph: Mapping[str, list[str]], start: str, node: str, goal: str) -> bool:
    """Every path from ``start`` to ``goal`` passes through ``node``."""
    pruned = {k: [t for t in v if t != node] for k, v in graph.items() if k != node}
    return goal not in reachable_from(pruned, start)


def case_type(checked: CheckedSpec, state: str, event: str | None) -> RecordType:
    """The synthetic record a routing case is drawn from: context, steps, visits."""
    visits = RecordType(
        "Visits",
        tuple(
            FieldDef(name, INT, constraints=bounds)
            for name, bounds in visit_bounds(checked, state).items()
        ),
    )
    steps = Constraints(minimum=0, maximum=max(checked.spec.max_steps - 1, 0))
    return RecordType(
        "RoutingInput",
        (
            FieldDef(CONTEXT, narrowed_context(checked, state, event)),
            FieldDef("steps", INT, constraints=steps),
            FieldDef("visits", visits),
        ),
    )


def routing_cases(
    checked: CheckedSpec, state: str, event: str | None = None, *, boundaries: bool = True
) -> st.SearchStrategy[RoutingCase]:
    """Routing cases of one routing point, boundary candidates mixed in unless disabled."""
    record = case_type(checked, state, event)
    extras = boundary_candidates(checked, state) if boundaries else {}

    def build(data: object) -> RoutingCase:
        assert isinstance(data, dict)
        return RoutingCase(state, event, data[CONTEXT], data["steps"], data["visits"])

    return values(record, extra_values=extras).map(build)


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
        known = ", ".join(name for name, _ in routing_points(checked))
        raise ValueError(f"state {state!r} does not route (routing states: {known})")
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
