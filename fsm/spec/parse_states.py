"""``states:`` → ``StateDef`` values.

A state holds at most one of ``agent`` (with ``writes`` and ``on_error``), ``wait`` or
``final: true``; a state with none of them (``{}``) is a *route* state that only routes.
``writes`` merges an agent's output (or an event's data) into context fields: a field name
takes the whole value, ``{field: path}`` a part of it (``.`` is the whole value). Writes are
type-checked here; graph, event and flow rules belong to the validator.
``parse_transitions`` lives in its own module.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from fsm.datatypes import (
    DataType,
    ListType,
    OptionalType,
    RecordType,
    render_type,
    strip_optional,
)
from fsm.diagnostics import did_you_mean, indefinite
from fsm.spec.load import LList, LMap, LNode, LScalar, describe
from fsm.spec.model import (
    AgentDef,
    ContextField,
    EventDef,
    StateDef,
    StateKind,
    WriteDef,
)
from fsm.spec.parse_base import (
    Problems,
    check_keys,
    check_name,
    description,
    entries,
    exclusive,
    expect_map,
    expect_str,
    is_identifier,
    known_states_hint,
    yaml11_boolean_hint,
)
from fsm.spec.parse_contracts import ContractTable, record_contract

STATE_KEYS = ("agent", "writes", "on_error", "wait", "final", "description")
EVENT_KEYS = ("data", "writes")


@attrs.frozen
class Scope:
    """Everything a state may refer to. ``*_declared`` also holds names whose definition
    failed, so a broken declaration is reported once, not again at every use."""

    contracts: ContractTable
    context: Mapping[str, ContextField]
    context_declared: frozenset[str]
    agents: Mapping[str, AgentDef]
    agents_declared: frozenset[str]
    states: tuple[str, ...]


def parse_states(node: LMap, scope: Scope, problems: Problems) -> tuple[StateDef, ...]:
    states: list[StateDef] = []
    for _, key, value in entries(node):
        named = check_name(key, "state", problems)
        state = _parse_state(key, value, scope, problems)
        if state is not None and named:
            states.append(state)
    return tuple(states)


def _parse_state(key: LScalar, node: LNode, scope: Scope, problems: Problems) -> StateDef | None:
    where = f"state {key.text!r}"
    if not isinstance(node, LMap):
        message = f"expected a mapping for {where}, got {describe(node)}"
        hint = "write {agent: ...}, {wait: [...]}, {final: true}, or {} for a route state"
        problems.error(node.span, message, "spec-shape", hint)
        return None
    before = len(problems.diagnostics)
    check_keys(node, STATE_KEYS, where, problems)
    exclusive(node, ("agent", "wait", "final"), where, problems)
    kind: StateKind = "route"
    agent_name: str | None = None
    writes: tuple[WriteDef, ...] = ()
    events: tuple[EventDef, ...] = ()
    agent_node, wait_node, final_node = node.get("agent"), node.get("wait"), node.get("final")
    writes_node = node.get("writes")
    if agent_node is not None:
        kind = "agent"
        agent_name, agent = _agent(agent_node, scope, problems)
        if writes_node is not None:
            source = None if agent is None else (agent.output, agent.output_type)
            writes = _parse_writes(writes_node, source, scope, problems)
    elif writes_node is not None:
        writes_key = node.key("writes")
        assert writes_key is not None
        message = f"'writes' in {where}, which runs no agent"
        hint = "add 'agent:', or write event data with wait: {event: {data: C, writes: ...}}"
        problems.error(writes_key.span, message, "spec-writes-without-agent", hint)
    if wait_node is not None:
        kind = "wait"
        events = _parse_events(wait_node, where, scope, problems)
    if final_node is not None:
        kind = "final"
        if not (isinstance(final_node, LScalar) and final_node.value is True):
            message = f"expected 'final: true' in {where}, got {describe(final_node)}"
            hint = "only final states write 'final'; remove it from other states"
            if isinstance(final_node, LScalar) and isinstance(final_node.value, str):
                hint = yaml11_boolean_hint(final_node.value) or hint
            problems.error(final_node.span, message, "spec-value", hint)
    on_error, on_error_span = None, None
    on_error_node = node.get("on_error")
    if on_error_node is not None:
        on_error = _state_ref(on_error_node, "'on_error'", scope, problems)
        on_error_span = on_error_node.span
    text = description(node, problems)
    if len(problems.diagnostics) != before:
        return None
    return StateDef(
        name=key.text,
        kind=kind,
        agent=agent_name,
        writes=writes,
        events=events,
        on_error=on_error,
        description=text,
        span=key.span,
        on_error_span=on_error_span,
    )


def _agent(node: LNode, scope: Scope, problems: Problems) -> tuple[str | None, AgentDef | None]:
    name = expect_str(node, "an agent name", problems)
    if name is None:
        return None, None
    if name not in scope.agents_declared:
        hint = did_you_mean(name, scope.agents_declared) or "declare it under 'agents:'"
        problems.error(node.span, f"unknown agent {name!r}", "spec-unknown-agent", hint)
        return None, None
    return name, scope.agents.get(name)


def _state_ref(node: LNode, what: str, scope: Scope, problems: Problems) -> str | None:
    name = expect_str(node, f"a state name for {what}", problems)
    if name is None or name in scope.states:
        return name
    hint = did_you_mean(name, scope.states) or known_states_hint(scope.states)
    problems.error(node.span, f"unknown state {name!r} in {what}", "spec-unknown-state", hint)
    return None


# A source of writes: (contract name, its record type), or None when it failed to resolve.
_Source = tuple[str, RecordType] | None


def _parse_writes(
    node: LNode, source: _Source, scope: Scope, problems: Problems
) -> tuple[WriteDef, ...]:
    """``writes: field`` (the whole value) or ``writes: {field: path, ...}``."""
    if isinstance(node, LScalar) and isinstance(node.value, str):
        write = WriteDef(node.value, (), node.span)
        return (write,) if _check_write(write, node, source, scope, problems) else ()
    mapping = expect_map(
        node, "a context field name, or a mapping of context fields to paths", problems
    )
    if mapping is None:
        return ()
    writes: list[WriteDef] = []
    for name, key, value in entries(mapping):
        text = expect_str(value, "a path into the value ('.' for all of it)", problems)
        if text is None:
            continue
        path = () if text == "." else tuple(text.split("."))
        if not all(is_identifier(segment) for segment in path):
            hint = "write '.', a field name, or field names joined by '.'"
            problems.error(value.span, f"invalid path {text!r}", "spec-path", hint)
            continue
        write = WriteDef(name, path, key.span)
        if _check_write(write, key, source, scope, problems, path_node=value):
            writes.append(write)
    return tuple(writes)


def _check_write(
    write: WriteDef,
    field_node: LNode,
    source: _Source,
    scope: Scope,
    problems: Problems,
    *,
    path_node: LNode | None = None,
) -> bool:
    if write.field not in scope.context_declared:
        hint = did_you_mean(write.field, scope.context_declared) or "declare it under 'context:'"
        message = f"unknown context field {write.field!r}"
        problems.error(field_node.span, message, "spec-unknown-field", hint)
        return False
    if source is None:
        return True  # the agent or contract failed and was reported
    value_type = _path_type(source, write.source, path_node or field_node, problems)
    field = scope.context.get(write.field)
    if value_type is None or field is None:
        return value_type is not None  # a failed field was reported where it is declared
    value_name = ".".join((source[0], *write.source)) if write.source else indefinite(source[0])
    if field.merge == "append":
        assert isinstance(field.type, ListType)
        if value_type in (field.type.item, field.type):
            return True
        accepts = f"{render_type(field.type.item)} or {render_type(field.type)}"
        hint = f"'{field.name}' has merge: append; it accepts {accepts}"
    else:
        if value_type in (field.type, strip_optional(field.type)):
            return True
        needed = render_type(strip_optional(field.type))
        hint = f"a write replaces the field, so the value must be {needed}"
    shown = f"{value_name} ({render_type(value_type)})" if write.source else value_name
    message = f"cannot write {shown} into context field {field.name!r} ({render_type(field.type)})"
    problems.error(field_node.span, message, "spec-write-type", hint)
    return False


def _path_type(
    source: tuple[str, RecordType], path: tuple[str, ...], node: LNode, problems: Problems
) -> DataType | None:
    """The type at ``path`` in the source record; optional when any step on the way is."""
    current: DataType = source[1]
    maybe_none = False
    for depth, name in enumerate(path):
        record = strip_optional(current)
        maybe_none = maybe_none or isinstance(current, OptionalType)
        where = ".".join((source[0], *path[:depth]))
        offset = len(".".join(path[:depth])) + (1 if depth else 0)
        span = node.span_of(offset, offset + len(name)) if isinstance(node, LScalar) else node.span
        if not isinstance(record, RecordType):
            message = f"cannot read {name!r} from {where}, which is {render_type(current)}"
            problems.error(span, message, "spec-path")
            return None
        field = record.field(name)
        if field is None:
            known = ", ".join(record.field_names())
            hint = did_you_mean(name, record.field_names()) or f"{record.name} has: {known}"
            problems.error(span, f"{record.name} has no field {name!r}", "spec-path", hint)
            return None
        current = field.type
    if maybe_none and not isinstance(current, OptionalType):
        return OptionalType(current)
    return current


def _parse_events(
    node: LNode, where: str, scope: Scope, problems: Problems
) -> tuple[EventDef, ...]:
    """``wait: [approve, reject]`` or ``wait: {approve: {data: Decision, writes: decision}}``."""
    events: list[EventDef] = []
    if isinstance(node, LList):
        seen: set[str] = set()
        for item in node.items:
            name = expect_str(item, "an event name", problems)
            if name is None:
                continue
            assert isinstance(item, LScalar)
            if not check_name(item, "event", problems):
                continue
            if name in seen:
                problems.error(item.span, f"duplicate event {name!r} in {where}", "spec-duplicate")
                continue
            seen.add(name)
            events.append(EventDef(name, None, None, (), item.span))
    elif isinstance(node, LMap):
        for _, key, value in entries(node):
            if check_name(key, "event", problems):
                event = _parse_event(key, value, scope, problems)
                if event is not None:
                    events.append(event)
    else:
        message = f"expected the events of {where} as a list or a mapping, got {describe(node)}"
        problems.error(node.span, message, "spec-shape", "e.g. wait: [approve, reject]")
        return ()
    if not events and not (node.items if isinstance(node, LList) else node.entries):
        hint = "list the events it waits for, e.g. wait: [approve, reject]"
        problems.error(node.span, f"{where} waits for no event", "spec-wait-empty", hint)
    return tuple(events)


def _parse_event(key: LScalar, node: LNode, scope: Scope, problems: Problems) -> EventDef | None:
    where = f"event {key.text!r}"
    if isinstance(node, LScalar) and node.value is None:
        return EventDef(key.text, None, None, (), key.span)
    event = expect_map(node, f"null or {{data: Contract, writes: ...}} for {where}", problems)
    if event is None:
        return None
    before = len(problems.diagnostics)
    check_keys(event, EVENT_KEYS, where, problems)
    data_node, writes_node = event.get("data"), event.get("writes")
    data: tuple[str, RecordType] | None = None
    declared_data = False
    if data_node is not None:
        record = record_contract(data_node, "event data", scope.contracts, problems)
        data = None if record is None else (record.name, record)
        declared_data = data is not None or (
            isinstance(data_node, LScalar) and data_node.text in scope.contracts.declared
        )
    writes: tuple[WriteDef, ...] = ()
    if writes_node is not None:
        if data_node is None:
            writes_key = event.key("writes")
            assert writes_key is not None
            message = f"'writes' in {where}, which carries no data"
            problems.error(
                writes_key.span, message, "spec-writes-without-data", "add 'data: <Contract>'"
            )
        elif declared_data:
            writes = _parse_writes(writes_node, data, scope, problems)
    if len(problems.diagnostics) != before or (data_node is not None and data is None):
        return None
    return EventDef(
        key.text, data[0] if data else None, data[1] if data else None, writes, key.span
    )
