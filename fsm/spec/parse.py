"""Spec text → ``Spec``: the driver of the parser, one phase per top-level section.

Phases: load (YAML with positions) → top-level keys → contracts → context → agents → states →
transitions. Each phase reports into one ``Problems`` collector and keeps going, so a spec with
several mistakes gets all of them in one ``SpecError``. Later sections are checked against
what earlier ones declared; a declaration that failed is still known by name, so one mistake
is reported once, not again at every use.

Only what can be checked locally happens here (names, shapes, references, types of writes);
graph, event, guard and context-flow rules run in ``fsm.spec.validate`` on the ``Spec``.
"""

from __future__ import annotations

from pathlib import Path

from fsm.datatypes import DataType
from fsm.diagnostics import Diagnostic, SourceSpan, did_you_mean, sort_diagnostics
from fsm.errors import SpecError
from fsm.spec.load import LMap, LNode, LScalar, describe, load_tree, read_spec_text
from fsm.spec.model import DEFAULT_MAX_STEPS, RESERVED_NAMES, ContextField, Spec
from fsm.spec.parse_agents import parse_agents
from fsm.spec.parse_base import (
    Problems,
    check_keys,
    check_name,
    description,
    entries,
    expect_int,
    expect_map,
    expect_str,
    known_states_hint,
    require,
)
from fsm.spec.parse_contracts import ContractTable, parse_contracts, register_inline_enum
from fsm.spec.parse_fields import FieldDecl, read_field, report_unknown_types, resolve_field
from fsm.spec.parse_states import Scope, parse_states
from fsm.spec.parse_transitions import parse_transitions

TOP_LEVEL_KEYS = (
    "workflow",
    "version",
    "description",
    "max_steps",
    "contracts",
    "context",
    "agents",
    "states",
    "initial",
    "transitions",
)
CONTEXT_OWNER = "Context"


def parse_spec(text: str, path: str) -> Spec:
    """Parse a spec's text; raises ``SpecError`` listing every problem found."""
    root, problems = load_tree(text, path)
    return _parse_document(root, text, path, problems)


def load_spec(path: str | Path) -> Spec:
    """Read and parse a spec file (YAML, or JSON when it ends in ``.json``)."""
    return parse_spec(read_spec_text(path), str(path))


def _parse_document(root: LNode, text: str, path: str, found: list[Diagnostic]) -> Spec:
    """YAML problems that left a usable tree are reported together with the spec's own."""
    problems = Problems()
    problems.diagnostics.extend(found)
    spec = _parse_root(root, text, path, problems)
    if problems or spec is None:
        raise SpecError(sort_diagnostics(problems.diagnostics), {path: text})
    return spec


def _parse_root(root: LNode, text: str, path: str, problems: Problems) -> Spec | None:
    hint = "a spec starts with 'workflow: <name>'; `fsm init NAME` writes a minimal one"
    what = "a mapping of spec sections (workflow, context, states, ...)"
    top = expect_map(root, what, problems, hint)
    if top is None:
        return None
    check_keys(top, TOP_LEVEL_KEYS, "the spec", problems)
    workflow = _workflow(top, problems)
    version = _version(top.get("version"), problems)
    about = description(top, problems)
    max_steps_node = top.get("max_steps")
    max_steps = DEFAULT_MAX_STEPS
    if max_steps_node is not None:
        max_steps = expect_int(max_steps_node, "'max_steps'", problems, 1) or DEFAULT_MAX_STEPS

    contracts = parse_contracts(top.get("contracts"), problems)
    context_node = require(top, "context", "the spec", problems)
    context, context_declared = _parse_context(context_node, contracts, problems)
    agents = parse_agents(top.get("agents"), contracts, problems)
    states_node = require(top, "states", "the spec", problems)
    states_map = None
    if states_node is not None:
        states_map = expect_map(states_node, "a mapping of state names to states", problems)
    state_names = tuple(states_map.keys()) if states_map else ()
    scope = Scope(
        contracts=contracts,
        context={field.name: field for field in context},
        context_declared=context_declared,
        agents={agent.name: agent for agent in agents.agents},
        agents_declared=agents.declared,
        states=state_names,
    )
    states = () if states_map is None else parse_states(states_map, scope, problems)
    initial, initial_span = _initial(top, state_names, states_map is not None, problems)
    known_states = state_names if states_map is not None else None
    transitions = parse_transitions(top.get("transitions"), known_states, problems)

    if problems or workflow is None or version is None or initial is None:
        return None
    return Spec(
        path=path,
        source=text,
        workflow=workflow,
        version=version,
        description=about,
        contracts=contracts.contracts,
        context=context,
        agents=agents.agents,
        states=states,
        initial=initial,
        initial_span=initial_span,
        transitions=transitions,
        max_steps=max_steps,
        span=top.span,
    )


def _workflow(top: LMap, problems: Problems) -> str | None:
    node = require(top, "workflow", "the spec", problems)
    if node is None:
        return None
    name = expect_str(node, "a workflow name", problems)
    if name is None:
        return None
    assert isinstance(node, LScalar)
    return name if check_name(node, "workflow", problems) else None


def _version(node: LNode | None, problems: Problems) -> str | None:
    """An integer or a string, kept as text; a float would lose digits (``1.10`` → ``1.1``)."""
    if node is None:
        return "1"
    value = node.value if isinstance(node, LScalar) else None
    if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
        assert isinstance(node, LScalar)
        return node.text
    # a number or boolean YAML read from the text is kept by quoting; nothing else to quote
    quotable = isinstance(value, float | bool)
    hint = "quote it, e.g. version: '1.2'" if quotable else "e.g. version: 1 or version: '1.2'"
    message = f"expected a version (an integer or a non-blank string), got {describe(node)}"
    problems.error(node.span, message, "spec-value", hint)
    return None


def _initial(
    top: LMap, states: tuple[str, ...], have_states: bool, problems: Problems
) -> tuple[str | None, SourceSpan]:
    # The state every run starts in: the spec says which (the first state is no safe guess).
    example = states[0] if states else "<state>"
    hint = f"add 'initial: {example}' (or another state), naming the state every run starts in"
    node = require(top, "initial", "the spec", problems, hint)
    if node is None:
        return None, top.span
    name = expect_str(node, "the name of the initial state", problems)
    if name is None or not have_states:
        return None, node.span
    if name not in states:
        hint = did_you_mean(name, states) or known_states_hint(states)
        problems.error(node.span, f"unknown initial state {name!r}", "spec-unknown-state", hint)
        return None, node.span
    return name, node.span


def _parse_context(
    node: LNode | None, contracts: ContractTable, problems: Problems
) -> tuple[tuple[ContextField, ...], frozenset[str]]:
    """The context fields; also every declared name, including fields that failed."""
    if node is None:
        return (), frozenset()
    table = expect_map(node, "a mapping of context field names to types", problems)
    if table is None:
        return (), frozenset()
    decls: list[FieldDecl] = []
    for name, key, value in entries(table):
        if not check_name(key, "context field", problems):
            continue
        if name in RESERVED_NAMES:
            message = f"context field name {name!r} is reserved"
            hint = f"guards read '{name}' as a built-in; choose another name"
            problems.error(key.span, message, "spec-name", hint)
            continue
        decls.append(read_field(key, value, CONTEXT_OWNER, problems, context=True))
    named: dict[str, DataType] = dict(contracts.named)
    declared = set(contracts.declared)
    for decl in decls:
        register_inline_enum(decl, declared, named, problems)
    known = declared | set(named)
    fields: list[ContextField] = []
    for decl in decls:
        report_unknown_types(decl, known, problems)
        field = resolve_field(decl, named, problems, context=True)
        if field is not None:
            fields.append(ContextField(field, decl.merge, decl.key.span))
    return tuple(fields), frozenset(table.keys())


__all__ = ["load_spec", "parse_spec"]
