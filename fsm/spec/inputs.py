"""Agent input records: resolve each input path against the context and type it by flow.

An input without ``?`` must be certainly present at every state that runs the agent; its field
in the input record is then non-optional, so agent code never checks for ``None`` it cannot get.
"""

from __future__ import annotations

from collections.abc import Mapping

from fsm.datatypes import DataType, FieldDef, OptionalType, RecordType, strip_optional
from fsm.diagnostics import Diagnostic, did_you_mean
from fsm.spec.flow import FlowResult
from fsm.spec.model import AgentDef, AgentInput, Spec


def input_record_name(agent_name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in agent_name.split("_")) + "Input"


def resolve_path(spec: Spec, item: AgentInput) -> tuple[DataType | None, bool, Diagnostic | None]:
    """The type at ``item.path``, whether a nested segment may be None, or why it fails."""
    head = spec.context_field(item.path[0])
    if head is None:
        names = [f.name for f in spec.context]
        return (
            None,
            False,
            Diagnostic(
                item.span,
                f"input '{item.name}' reads unknown context field '{item.path[0]}'",
                "unknown-input-field",
                hint=did_you_mean(item.path[0], names),
            ),
        )
    current: DataType = head.type
    nested_optional = False
    for depth, name in enumerate(item.path[1:], start=1):
        record = strip_optional(current)
        if depth > 1 and isinstance(current, OptionalType):
            nested_optional = True
        field = record.field(name) if isinstance(record, RecordType) else None
        if field is None:
            where = ".".join(item.path[:depth])
            known = record.field_names() if isinstance(record, RecordType) else ()
            return (
                None,
                False,
                Diagnostic(
                    item.span,
                    f"input '{item.name}' reads '{'.'.join(item.path)}', but '{where}' has no "
                    f"field '{name}'",
                    "unknown-input-field",
                    hint=did_you_mean(name, known),
                ),
            )
        current = field.type
    if len(item.path) > 1 and isinstance(current, OptionalType):
        nested_optional = True
    return current, nested_optional, None


def build_input_records(
    spec: Spec, flow: FlowResult
) -> tuple[dict[str, RecordType], list[Diagnostic]]:
    records: dict[str, RecordType] = {}
    problems: list[Diagnostic] = []
    states_by_agent: dict[str, list[str]] = {}
    for state in spec.states:
        if state.agent is not None:
            states_by_agent.setdefault(state.agent, []).append(state.name)
    for agent in spec.agents:
        fields, agent_problems = _input_fields(spec, agent, flow, states_by_agent)
        problems.extend(agent_problems)
        records[agent.name] = RecordType(
            input_record_name(agent.name), tuple(fields), f"Input of agent '{agent.name}'."
        )
    return records, problems


def _input_fields(
    spec: Spec,
    agent: AgentDef,
    flow: FlowResult,
    states_by_agent: Mapping[str, list[str]],
) -> tuple[list[FieldDef], list[Diagnostic]]:
    fields: list[FieldDef] = []
    problems: list[Diagnostic] = []
    for item in agent.inputs:
        data_type, nested_optional, problem = resolve_path(spec, item)
        if problem is not None or data_type is None:
            problems.extend([problem] if problem else [])
            continue
        if item.optional:
            fields.append(FieldDef(item.name, OptionalType(strip_optional(data_type))))
            continue
        if nested_optional:
            problems.append(
                Diagnostic(
                    item.span,
                    f"input '{item.name}' reads '{'.'.join(item.path)}', which may be None",
                    "optional-input",
                    hint=f"read it as optional ('{'.'.join(item.path)}?') and handle None",
                )
            )
            continue
        head = item.path[0]
        if head in flow.optional_fields:
            for state in states_by_agent.get(agent.name, []):
                if head in flow.assigned_on_entry.get(state, frozenset()):
                    continue
                path = flow.unassigned_path(spec.initial, state, head)
                route = " -> ".join(path) if path else state
                problems.append(
                    Diagnostic(
                        item.span,
                        f"agent '{agent.name}' reads '{head}' in state '{state}', but '{head}' "
                        f"is not assigned on every path there (e.g. {route})",
                        "context-flow",
                        hint=f"write '{head}' on that path, or read it as optional: '{head}?'",
                    )
                )
        fields.append(FieldDef(item.name, strip_optional(data_type)))
    return fields, problems
