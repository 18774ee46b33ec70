"""Local rules on transitions and states that need no guard or flow analysis.

One pure ``check_*`` per rule; each returns every diagnostic it finds.
"""

from __future__ import annotations

from fsm.datatypes import EnumType, FieldDef, RecordType, strip_optional
from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.spec.inputs import input_record_name
from fsm.spec.model import Spec


def check_default_transition_last(spec: Spec) -> list[Diagnostic]:
    """A guardless transition always fires, so any transition after it (same event) is dead."""
    problems: list[Diagnostic] = []
    for state in spec.states:
        seen_default: dict[str | None, str] = {}
        for transition in spec.transitions_from(state.name):
            key = transition.event
            if key in seen_default:
                problems.append(
                    Diagnostic(
                        transition.span,
                        f"transition to '{transition.target}' can never fire: the transition "
                        f"to '{seen_default[key]}' before it has no guard and always fires",
                        "default-not-last",
                        hint="move the guardless (default) transition to the end of the list",
                    )
                )
            elif transition.guard is None:
                seen_default[key] = transition.target
    return problems


def check_event_transitions(spec: Spec) -> list[Diagnostic]:
    """``on:`` belongs to wait states only; a wait state routes only on its declared events."""
    problems: list[Diagnostic] = []
    for transition in spec.transitions:
        state = spec.state(transition.source)
        if state is None:
            continue
        if state.kind != "wait" and transition.event is not None:
            problems.append(
                Diagnostic(
                    transition.span,
                    f"event transition 'on: {transition.event}' in state '{state.name}', "
                    "which is not a wait state",
                    "event-on-non-wait",
                    hint=f"declare 'wait: [{transition.event}]' on the state, or remove 'on:'",
                )
            )
        elif state.kind == "wait" and transition.event is None:
            problems.append(
                Diagnostic(
                    transition.span,
                    f"wait state '{state.name}' only moves on events; this transition has no 'on:'",
                    "wait-needs-event",
                    hint="add 'on: <event>' naming one of the events the state waits for",
                )
            )
        elif state.kind == "wait" and state.event(transition.event or "") is None:
            known = ", ".join(e.name for e in state.events)
            problems.append(
                Diagnostic(
                    transition.span,
                    f"state '{state.name}' does not wait for event '{transition.event}'",
                    "unknown-event",
                    hint=f"it waits for: {known}" if known else None,
                )
            )
    for state in spec.states:
        handled = {t.event for t in spec.transitions_from(state.name)}
        problems.extend(
            Diagnostic(
                event.span,
                f"event '{event.name}' of state '{state.name}' has no transition",
                "event-without-transition",
                hint=f"add '{{on: {event.name}, to: <state>}}' to 'transitions: {state.name}'",
            )
            for event in state.events
            if event.name not in handled
        )
    return problems


def check_error_routes(spec: Spec) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for state in spec.states:
        if state.on_error is None:
            continue
        span = state.on_error_span or state.span
        if state.agent is None:
            problems.append(
                Diagnostic(
                    span,
                    f"'on_error' on state '{state.name}', which runs no agent and cannot fail",
                    "on-error-without-agent",
                    hint="remove 'on_error'",
                )
            )
    return problems


def check_unused_declarations(spec: Spec) -> list[Diagnostic]:
    """Unused agents are likely typos; reported as warnings, they do not fail validation."""
    used = {state.agent for state in spec.states if state.agent}
    return [
        Diagnostic(
            agent.span,
            f"agent '{agent.name}' is not used by any state",
            "unused-agent",
            severity="warning",
        )
        for agent in spec.agents
        if agent.name not in used
    ]


def check_generated_names_are_free(spec: Spec) -> list[Diagnostic]:
    """The runtime names the context record ``Context`` and each agent's input record
    ``<Agent>Input``; a contract or an inline enum (``<Contract><Field>``) with one of those
    names would be ambiguous (the run failed on it, with a traceback, when it built the
    input)."""
    taken = {"Context": "the context record"}
    clashes: list[Diagnostic] = []
    for agent in spec.agents:
        name = input_record_name(agent.name)
        if name in taken:  # my_agent and myAgent: two different records named MyAgentInput
            clashes.append(_input_name_clash(agent.name, agent.span, name, taken[name]))
            continue
        taken[name] = f"the input record of agent '{agent.name}'"
    named = [(c.name, "contract name", c.span) for c in spec.contracts]
    named.extend(_inline_enums(spec))
    return clashes + [
        Diagnostic(
            span,
            f"{kind} '{name}' is taken by {taken[name]}",
            "reserved-contract-name",
            hint="rename the contract"
            if kind == "contract name"
            else "rename the field or the agent",
        )
        for name, kind, span in named
        if name in taken
    ]


def _input_name_clash(agent: str, span: SourceSpan, name: str, owner: str) -> Diagnostic:
    return Diagnostic(
        span,
        f"agent '{agent}' would name its input record '{name}', which is taken by {owner}",
        "reserved-contract-name",
        hint="rename one of the agents",
    )


def _inline_enums(spec: Spec) -> list[tuple[str, str, SourceSpan]]:
    """The enums written inline on contract and context fields (``{enum: [...]}``), which are
    named after their contract and field, with the field's position."""
    declared = {contract.name for contract in spec.contracts}
    fields: list[tuple[FieldDef, SourceSpan]] = [(f.field, f.span) for f in spec.context]
    for contract in spec.contracts:
        if isinstance(contract.type, RecordType):
            spans = contract.field_spans
            fields.extend((f, spans.get(f.name, contract.span)) for f in contract.type.fields)
    return [
        (inner.name, "the name of the inline enum", span)
        for field, span in fields
        if isinstance(inner := strip_optional(field.type), EnumType) and inner.name not in declared
    ]
