"""Context flow: which optional context fields are certainly assigned when a state is entered.

A forward "must" analysis over the state graph. A field declared ``T?`` starts as ``None``; it is
assigned on an edge when the source state's agent (or the event's data) writes it, or when the
guards on the edge prove it non-``None`` (``review is not None``, or an earlier transition's guard
``review is None`` having failed). The set at a state's entry is the intersection over every edge
into it, so a field counts as assigned only when *every* path into the state assigns it.
A write whose value may be absent (an optional output field) can set a field back to ``None``,
so it takes the field out of the set before the edge's certain writes and guard facts add
theirs. Error routes (``on_error``) carry the source's entry set: the failed agent wrote nothing.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping

import attrs

from fsm.datatypes import OptionalType, RecordType, strip_optional
from fsm.spec.graph import shortest_path
from fsm.spec.model import EventDef, Spec, StateDef, TransitionDef, WriteDef

GuardFacts = tuple[frozenset[str], frozenset[str]]
"""(fields non-None when a guard holds, fields non-None when it does not)."""

NO_FACTS: GuardFacts = (frozenset(), frozenset())


@attrs.frozen
class Edge:
    """One way control can pass from ``source`` to ``target`` and what it assigns on the way."""

    source: str
    target: str
    assigns: frozenset[str]  # optional fields assigned or proven non-None on this edge
    transition: TransitionDef | None  # None for an error route
    unsets: frozenset[str] = frozenset()
    """Optional fields this edge's writes may set to None (before ``assigns`` applies)."""

    def after(self, entry: frozenset[str]) -> frozenset[str]:
        """What is assigned after this edge, given what was assigned on entering its source."""
        return (entry - self.unsets) | self.assigns


@attrs.frozen
class FlowResult:
    optional_fields: frozenset[str]
    assigned_on_entry: Mapping[str, frozenset[str]]
    edges: tuple[Edge, ...]
    """Edges with what is assigned after them: the source's entry set plus the edge's own."""
    guard_assumptions: Mapping[tuple[str, int], frozenset[str]]
    """For each transition (source, index): fields known non-None when its guard is evaluated."""

    def unassigned_path(self, initial: str, state: str, field: str) -> list[str] | None:
        """A path of states from the initial state into ``state`` on which ``field`` is never
        assigned: the witness printed with a context-flow error."""
        unassigning: dict[str, list[str]] = {}
        for edge in self.edges:
            if field not in edge.assigns:
                unassigning.setdefault(edge.source, []).append(edge.target)
        return shortest_path(unassigning, initial, state)


def assigned_by_writes(
    spec: Spec, writes: tuple[WriteDef, ...], record: RecordType | None
) -> frozenset[str]:
    """Optional context fields that these writes certainly set to a non-None value.

    ``record`` is the type the writes read from: the agent's output, or the event's data."""
    assigned: set[str] = set()
    for write in writes:
        field = spec.context_field(write.field)
        if field is None or not isinstance(field.type, OptionalType):
            continue
        if field.merge == "replace" and _source_is_certain(write, record):
            assigned.add(write.field)
    return frozenset(assigned)


def unset_by_writes(
    spec: Spec, writes: tuple[WriteDef, ...], record: RecordType | None
) -> frozenset[str]:
    """Optional context fields these writes may set to None: replaced from a value that may
    be absent."""
    return frozenset(
        write.field
        for write in writes
        if (field := spec.context_field(write.field)) is not None
        and isinstance(field.type, OptionalType)
        and field.merge == "replace"
        and not _source_is_certain(write, record)
    )


def written_record(spec: Spec, state: StateDef, event: EventDef | None = None) -> RecordType | None:
    """What the state's writes (or the event's, when given) read from. Found from the state
    itself, never by comparing writes: an alias (``*name``) makes two states' writes equal."""
    if event is not None:
        return event.data_type
    agent = spec.agent(state.agent) if state.agent is not None else None
    return agent.output_type if agent is not None else None


def _source_is_certain(write: WriteDef, record: RecordType | None) -> bool:
    """Writing the whole output (or a non-optional output field) always yields a value."""
    return not write.source or _output_path_required(write, record)


def _output_path_required(write: WriteDef, record: RecordType | None) -> bool:
    """A path is certain when no segment along it is optional."""
    if record is None:
        return False
    current: object = record
    for name in write.source:
        if not isinstance(current, RecordType):
            return False
        field = current.field(name)
        if field is None or isinstance(field.type, OptionalType):
            return False
        current = strip_optional(field.type)
    return True


def build_edges(spec: Spec, facts: Mapping[tuple[str, int], GuardFacts]) -> list[Edge]:
    """All edges with what each assigns, plus the guard assumptions per transition."""
    edges, _ = _edges_and_assumptions(spec, facts)
    return edges


def _edges_and_assumptions(
    spec: Spec, facts: Mapping[tuple[str, int], GuardFacts]
) -> tuple[list[Edge], dict[tuple[str, int], Edge]]:
    """The edges, and per transition (source, index) an edge-shaped record of what is known
    when its guard is evaluated (after the writes, before its own guard's facts)."""
    edges: list[Edge] = []
    assumptions: dict[tuple[str, int], Edge] = {}
    for state in spec.states:
        output = written_record(spec, state)
        base_writes = assigned_by_writes(spec, state.writes, output)
        base_unsets = unset_by_writes(spec, state.writes, output)
        earlier_false: dict[str | None, frozenset[str]] = {}
        for transition in spec.transitions_from(state.name):
            event = state.event(transition.event) if transition.event is not None else None
            event_writes = event.writes if event is not None else ()
            event_data = written_record(spec, state, event)
            writes = base_writes | assigned_by_writes(spec, event_writes, event_data)
            unsets = base_unsets | unset_by_writes(spec, event_writes, event_data)
            prior = earlier_false.get(transition.event, frozenset())
            known = Edge(state.name, transition.target, writes | prior, transition, unsets)
            assumptions[(state.name, transition.index)] = known
            if_true, if_false = facts.get((state.name, transition.index), NO_FACTS)
            edges.append(attrs.evolve(known, assigns=known.assigns | if_true))
            if transition.guard is not None:
                earlier_false[transition.event] = prior | if_false
        if state.on_error is not None:
            edges.append(Edge(state.name, state.on_error, frozenset(), None))
    return edges, assumptions


def analyse_flow(spec: Spec, facts: Mapping[tuple[str, int], GuardFacts]) -> FlowResult:
    """Solve the must-assign equations by iteration to the greatest fixpoint."""
    optional = frozenset(f.name for f in spec.context if isinstance(f.type, OptionalType))
    edges, local_assumptions = _edges_and_assumptions(spec, facts)
    names = [state.name for state in spec.states]
    entry: dict[str, frozenset[str]] = dict.fromkeys(names, optional)
    if spec.initial in entry:
        entry[spec.initial] = frozenset()
    incoming: dict[str, list[Edge]] = {name: [] for name in names}
    targets: dict[str, list[str]] = {name: [] for name in names}
    for edge in edges:
        if edge.target in incoming:
            incoming[edge.target].append(edge)
            if edge.source in targets:
                targets[edge.source].append(edge.target)
    # A worklist in reverse postorder from the initial state: facts flow along transitions, so
    # each state is mostly settled after its predecessors, and only the targets of a state
    # whose entry set changed are looked at again (sweeping in declaration order took a pass
    # per state on a spec listed backwards: cubic).
    order = _reverse_postorder(targets, spec.initial, names)
    rank = {name: position for position, name in enumerate(order)}
    pending = [(rank[name], name) for name in order]
    heapq.heapify(pending)
    queued = set(order)
    while pending:
        _, name = heapq.heappop(pending)
        queued.discard(name)
        sets = [e.after(entry[e.source]) for e in incoming[name] if e.source in entry]
        if name == spec.initial:
            sets.append(frozenset())
        new = frozenset.intersection(*sets) & optional if sets else optional
        if new == entry[name]:
            continue
        entry[name] = new
        for target in targets[name]:
            if target not in queued:
                queued.add(target)
                heapq.heappush(pending, (rank[target], target))
    full_edges = tuple(
        attrs.evolve(
            edge,
            assigns=edge.after(entry.get(edge.source, frozenset())) & optional,
            unsets=frozenset(),
        )
        for edge in edges
    )
    assumptions = {
        key: known.after(entry.get(key[0], frozenset())) & optional
        for key, known in local_assumptions.items()
    }
    return FlowResult(optional, entry, full_edges, assumptions)


def _reverse_postorder(targets: Mapping[str, list[str]], start: str, names: list[str]) -> list[str]:
    """Every state, those reachable from ``start`` in reverse postorder of a depth-first walk
    (iterative), then the rest in declaration order."""
    seen: set[str] = set()
    finished: list[str] = []
    if start in targets:
        seen.add(start)
        work = [(start, iter(targets[start]))]
        while work:
            node, pending = work[-1]
            for nxt in pending:
                if nxt not in seen and nxt in targets:
                    seen.add(nxt)
                    work.append((nxt, iter(targets[nxt])))
                    break
            else:
                work.pop()
                finished.append(node)
    order = finished[::-1]
    return order + [name for name in names if name not in seen]
