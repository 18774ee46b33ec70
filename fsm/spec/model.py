"""The parsed spec: frozen values in which every node keeps the span of the text it came from.

``parse`` builds a ``Spec`` from YAML; ``validate`` checks it and yields a ``CheckedSpec`` (see
``fsm.spec.checked``). Codegen, the runtime and the routing tests all consume the same objects,
and none of them re-reads YAML or re-parses type or guard text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Literal, Protocol, TypeVar

import attrs

from fsm.datatypes import DataType, EnumType, FieldDef, OptionalType, RecordType
from fsm.diagnostics import Position, SourceSpan

MergePolicy = Literal["replace", "append"]
StateKind = Literal["agent", "wait", "final", "route"]

RESERVED_NAMES = frozenset({"steps", "visits"})
"""Guard built-ins: ``steps`` (transitions taken) and ``visits.<state>`` (times entered)."""

DEFAULT_MAX_STEPS = 1000


class _HasName(Protocol):
    @property
    def name(self) -> str: ...


_Named = TypeVar("_Named", bound=_HasName)


@attrs.frozen
class ContractDef:
    """A named record or enum type declared under ``contracts:``."""

    name: str
    type: RecordType | EnumType
    span: SourceSpan
    field_spans: Mapping[str, SourceSpan] = attrs.field(factory=dict)


@attrs.frozen
class ContextField:
    """A field of the run's memory. ``required`` fields must be supplied when a run starts;
    optional ones (``T?``) hold ``None`` until a state writes them."""

    field: FieldDef
    merge: MergePolicy
    span: SourceSpan

    @property
    def name(self) -> str:
        return self.field.name

    @property
    def type(self) -> DataType:
        return self.field.type

    @property
    def required(self) -> bool:
        """Must be given in the start input: not optional and no default."""
        return not self.field.has_default and not isinstance(self.field.type, OptionalType)


@attrs.frozen
class AgentInput:
    """One field of an agent's input record, read from a context path.

    ``path`` is the context path (``("brief",)`` or ``("brief", "topic")``); ``optional`` is
    true when the spec wrote ``review?``: the agent accepts ``None`` and the flow check does not
    demand that the field be assigned first."""

    name: str
    path: tuple[str, ...]
    optional: bool
    span: SourceSpan


@attrs.frozen
class RetryPolicy:
    """How often an agent is tried and how long to wait between tries (exponential backoff)."""

    attempts: int = 1
    backoff: float = 0.0
    multiplier: float = 2.0
    max_backoff: float = 30.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based). The growth
        saturates at ``max_backoff``: past about 1,000 doublings a float power overflows, and
        a long retry policy (``retry: 2000``) must not crash its step there."""
        if self.backoff == 0:
            return 0.0
        try:
            grown = self.backoff * float(self.multiplier) ** (attempt - 1)
        except OverflowError:
            return self.max_backoff
        return min(grown, self.max_backoff)


@attrs.frozen
class AgentDef:
    name: str
    inputs: tuple[AgentInput, ...]
    output: str  # contract name
    output_type: RecordType
    impl: str | None  # "package.module:attribute"
    retry: RetryPolicy
    timeout: float | None
    description: str
    span: SourceSpan
    output_span: SourceSpan
    impl_span: SourceSpan | None = None  # where ``impl`` is written, for errors loading it


@attrs.frozen
class WriteDef:
    """Merge (part of) an agent's output or event data into a context field.

    ``source`` is a path into the output; empty means the whole output."""

    field: str
    source: tuple[str, ...]
    span: SourceSpan


@attrs.frozen
class EventDef:
    """An event a wait state accepts, optionally carrying data of a contract type."""

    name: str
    data: str | None  # contract name
    data_type: RecordType | None
    writes: tuple[WriteDef, ...]
    span: SourceSpan


@attrs.frozen
class StateDef:
    """A state. ``agent`` states run an agent then route; ``wait`` states wait for an event;
    ``route`` states only route; ``final`` states end the run."""

    name: str
    kind: StateKind
    agent: str | None
    writes: tuple[WriteDef, ...]
    events: tuple[EventDef, ...]
    on_error: str | None
    description: str
    span: SourceSpan
    on_error_span: SourceSpan | None = None

    @property
    def final(self) -> bool:
        return self.kind == "final"

    def event(self, name: str) -> EventDef | None:
        for event in self.events:
            if event.name == name:
                return event
        return None


@attrs.frozen
class TransitionDef:
    """One outgoing transition of ``source``, tried in ``index`` order.

    ``guard`` is the guard's text and ``guard_span`` where that text starts (column of its first
    character), so guard diagnostics point inside the YAML string; ``guard_positions`` is where
    each character was written when YAML changed the text (escapes, folded lines, block
    indentation), None when offsets from ``guard_span`` are exact. ``event`` is set on
    transitions of wait states."""

    source: str
    index: int
    target: str
    guard: str | None
    event: str | None
    name: str | None
    span: SourceSpan
    target_span: SourceSpan
    guard_span: SourceSpan | None = None
    guard_positions: tuple[Position, ...] | None = None

    @property
    def label(self) -> str:
        """How logs and history name the rule that fired."""
        if self.name:
            return self.name
        if self.event is not None:
            return f"on {self.event}" + (f" when {self.guard}" if self.guard else "")
        return f"when {self.guard}" if self.guard else "default"


@attrs.frozen
class Spec:
    """A whole workflow spec as written (parsed, not yet checked)."""

    path: str
    source: str
    workflow: str
    version: str
    description: str
    contracts: tuple[ContractDef, ...]
    context: tuple[ContextField, ...]
    agents: tuple[AgentDef, ...]
    states: tuple[StateDef, ...]
    initial: str
    initial_span: SourceSpan
    transitions: tuple[TransitionDef, ...]
    max_steps: int
    span: SourceSpan
    _index: _SpecIndex = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        # Lookups by name are constant time so checks stay linear on specs with 1,000s of states.
        object.__setattr__(self, "_index", _SpecIndex.of(self))

    @property
    def spec_hash(self) -> str:
        """sha256 of the source text: runs are pinned to the spec they started with."""
        return self._index.spec_hash

    def state(self, name: str) -> StateDef | None:
        return self._index.states.get(name)

    def agent(self, name: str) -> AgentDef | None:
        return self._index.agents.get(name)

    def contract(self, name: str) -> ContractDef | None:
        return self._index.contracts.get(name)

    def context_field(self, name: str) -> ContextField | None:
        return self._index.context.get(name)

    def transitions_from(self, state: str) -> tuple[TransitionDef, ...]:
        return self._index.outgoing.get(state, ())

    def context_type(self) -> RecordType:
        """The context as one record type (named ``Context``) for guards and contracts."""
        return RecordType("Context", tuple(f.field for f in self.context))


@attrs.frozen
class _SpecIndex:
    """Name → node lookups for a ``Spec`` (first declaration wins, as duplicates are errors)."""

    spec_hash: str
    states: Mapping[str, StateDef]
    agents: Mapping[str, AgentDef]
    contracts: Mapping[str, ContractDef]
    context: Mapping[str, ContextField]
    outgoing: Mapping[str, tuple[TransitionDef, ...]]

    @classmethod
    def of(cls, spec: Spec) -> _SpecIndex:
        outgoing: dict[str, list[TransitionDef]] = {}
        for transition in spec.transitions:
            outgoing.setdefault(transition.source, []).append(transition)
        return cls(
            spec_hash=hashlib.sha256(spec.source.encode("utf-8")).hexdigest(),
            states=_first_by_name(spec.states),
            agents=_first_by_name(spec.agents),
            contracts=_first_by_name(spec.contracts),
            context=_first_by_name(spec.context),
            outgoing={name: tuple(items) for name, items in outgoing.items()},
        )


def _first_by_name(items: tuple[_Named, ...]) -> dict[str, _Named]:
    index: dict[str, _Named] = {}
    for item in items:
        index.setdefault(item.name, item)
    return index
