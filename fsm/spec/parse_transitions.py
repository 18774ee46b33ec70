"""``transitions:`` → ``TransitionDef`` values, in the order written (the routing order).

Each transition is ``{to, when, on, name}``. The guard (``when``) is kept as text with the span
where it starts, for the guard compiler to parse and check; which events a state may use and
where default transitions belong are validation rules, not parsing.
"""

from __future__ import annotations

from fsm.diagnostics import Position, SourceSpan, did_you_mean
from fsm.spec.load import LNode, LScalar
from fsm.spec.model import TransitionDef
from fsm.spec.parse_base import (
    Problems,
    check_keys,
    check_name,
    entries,
    expect_list,
    expect_map,
    expect_str,
    known_states_hint,
    require,
)

TRANSITION_KEYS = ("to", "when", "on", "name")


def parse_transitions(
    node: LNode | None, states: tuple[str, ...] | None, problems: Problems
) -> tuple[TransitionDef, ...]:
    """``state: [{to, when, on, name}, ...]``, in the order written (the routing order).

    ``states`` is None when the states section is missing or broken (already reported): state
    names are then not checked, rather than each reported unknown."""
    if node is None:
        return ()
    table = expect_map(node, "a mapping of state names to lists of transitions", problems)
    if table is None:
        return ()
    transitions: list[TransitionDef] = []
    for source, key, value in entries(table):
        if states is not None and source not in states:
            hint = did_you_mean(source, states) or "declare the state under 'states:'"
            problems.error(
                key.span, f"transitions of unknown state {source!r}", "spec-unknown-state", hint
            )
        items = expect_list(
            value,
            f"a list of transitions from {source!r}",
            problems,
            "write - {to: <state>, when: <guard>}",
        )
        if items is None:
            continue
        names: set[str] = set()
        for index, item in enumerate(items.items):
            transition = _parse_transition(source, index, item, states, problems)
            if transition is None:
                continue
            if transition.name is not None and transition.name in names:
                message = f"two transitions from {source!r} are named {transition.name!r}"
                problems.error(transition.span, message, "spec-duplicate")
            names.add(transition.name or "")
            transitions.append(transition)
    return tuple(transitions)


def _parse_transition(
    source: str, index: int, node: LNode, states: tuple[str, ...] | None, problems: Problems
) -> TransitionDef | None:
    where = f"transition {index + 1} from {source!r}"
    hint = "write {to: <state>}"
    if isinstance(node, LScalar) and isinstance(node.value, str):
        hint = f"write {{to: {node.text}}}"
    item = expect_map(
        node, f"a transition {{to: <state>, when: <guard>}} as {where}", problems, hint
    )
    if item is None:
        return None
    before = len(problems.diagnostics)
    check_keys(item, TRANSITION_KEYS, where, problems)
    to_node = require(item, "to", where, problems)
    target = None
    if to_node is not None:
        target = expect_str(to_node, "a state name for 'to'", problems)
        if target is not None and states is not None and target not in states:
            hint = did_you_mean(target, states) or known_states_hint(states)
            problems.error(
                to_node.span, f"unknown state {target!r} in 'to'", "spec-unknown-state", hint
            )
    guard, guard_span, guard_positions = _guard(item.get("when"), problems)
    event = _name_value(item.get("on"), "event", problems)
    name = _name_value(item.get("name"), "transition", problems)
    if len(problems.diagnostics) != before or target is None or to_node is None:
        return None
    return TransitionDef(
        source=source,
        index=index,
        target=target,
        guard=guard,
        event=event,
        name=name,
        span=item.span,
        target_span=to_node.span,
        guard_span=guard_span,
        guard_positions=guard_positions,
    )


def _guard(
    node: LNode | None, problems: Problems
) -> tuple[str | None, SourceSpan | None, tuple[Position, ...] | None]:
    """The guard text, untouched, where it starts in the source, and where each of its
    characters was written when YAML changed the text (escapes, folding, block indentation)."""
    if node is None:
        return None, None, None
    hint = 'quote the guard if it looks like a value, e.g. when: "true"'
    text = expect_str(node, "a guard expression (text)", problems, hint)
    if text is None:
        return None, None, None
    assert isinstance(node, LScalar)
    if not text.strip():
        hint = "remove 'when' for a default transition"
        problems.error(node.span, "empty guard", "spec-guard-empty", hint)
        return None, None, None
    return text, node.span_of(0), node.positions


def _name_value(node: LNode | None, kind: str, problems: Problems) -> str | None:
    if node is None:
        return None
    text = expect_str(node, f"a {kind} name", problems)
    if text is None:
        return None
    assert isinstance(node, LScalar)
    return text if check_name(node, kind, problems) else None
