"""Spec names that cannot become valid, unambiguous Python are spec errors with positions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import HOSTILE_SPEC, LINT_HOSTILE_SPEC, SPECS

from codegen.generate import render_files
from codegen.naming import (
    AGENT_FUNCTION_TEMPLATES,
    CLASS_NAME_TEMPLATES,
    all_named_types,
    check_names,
    enum_member_name,
    module_helpers,
    pascal_case,
)
from codegen.render import GENERATED_TEMPLATES, SCAFFOLD_TEMPLATE
from fsm.errors import SpecError
from fsm.spec.validate import checked_from_text, load_checked

BASE = """\
workflow: demo
contracts:
  {contract}: {{text: str}}
  {extra}
context:
  {context}: {contract}
agents:
  {agent_a}: {{input: {{item: {context}}}, output: {contract}}}
  {agent_b}: {{input: {{item: {context}}}, output: {contract}}}
states:
  first: {{agent: {agent_a}}}
  second: {{agent: {agent_b}}}
  done: {{final: true}}
initial: first
transitions:
  first: [{{to: second}}]
  second: [{{to: done}}]
"""


def spec_text(**changes: str) -> str:
    values = {
        "contract": "Note",
        "extra": "",
        "context": "note",
        "agent_a": "writer",
        "agent_b": "reviewer",
    }
    values.update(changes)
    return BASE.format(**values)


def problems(text: str) -> list[str]:
    checked = checked_from_text(text, "demo.yaml")
    with pytest.raises(SpecError) as caught:
        check_names(checked)
    return [d.headline() for d in caught.value.diagnostics]


def test_valid_names_pass() -> None:
    """A spec with ordinary names gets its generated names without complaint."""
    names = check_names(checked_from_text(spec_text(), "demo.yaml"))
    assert names.workflow_class == "DemoWorkflow"
    assert names.input_classes == {"writer": "WriterInput", "reviewer": "ReviewerInput"}
    assert names.protocol_classes["writer"] == "WriterAgent"


def test_contract_colliding_with_an_agent_protocol() -> None:
    """A contract named WriterAgent collides with the Protocol generated for agent 'writer'.

    (A contract named WriterInput is already a spec error: the runtime uses that name too.)"""
    found = problems(spec_text(extra="WriterAgent: {text: str}"))
    assert found == [
        "demo.yaml:8:3: error: agent 'writer' and contract 'WriterAgent' (line 4) would both "
        "generate the Python name 'WriterAgent' (rename one of them in the spec)"
    ]


def test_agents_differing_only_in_underscores_collide() -> None:
    """Agents foo_bar and foo__bar both map to FooBarInput: validate refuses the spec before
    codegen sees it (the runtime could not build both records either)."""
    with pytest.raises(SpecError) as caught:
        checked_from_text(spec_text(agent_a="foo_bar", agent_b="foo__bar"), "demo.yaml")
    assert [d.headline() for d in caught.value.diagnostics] == [
        "demo.yaml:9:3: error: agent 'foo__bar' would name its input record 'FooBarInput', "
        "which is taken by the input record of agent 'foo_bar' (rename one of the agents)"
    ]


def test_agents_differing_only_in_case_collide() -> None:
    """Agents writer and wRiter have distinct classes but scaffold files that are one file on
    case-insensitive file systems."""
    found = problems(spec_text(agent_a="writer", agent_b="wRiter"))
    assert found == [
        "demo.yaml:9:3: error: agents 'writer' and 'wRiter' differ only in case, so their "
        "scaffolds agents_impl/writer.py and agents_impl/wRiter.py would be one file on macOS "
        "and Windows (rename one of the agents)"
    ]


def test_contract_shadowing_a_builtin() -> None:
    """A contract named like a builtin (Exception) is refused: it would shadow it."""
    found = problems(spec_text(contract="Exception"))
    assert found == [
        "demo.yaml:3:3: error: contract 'Exception' would generate the Python name "
        "'Exception', which shadows a builtin (rename it in the spec)"
    ]


def test_agent_shadowing_a_builtin() -> None:
    """An agent named like a builtin function becomes a scaffold function shadowing it."""
    found = problems(spec_text(agent_a="filter"))
    assert found == [
        "demo.yaml:8:3: error: agent 'filter' would become a function 'filter' in its "
        "scaffold, which shadows a builtin (rename the agent)"
    ]


def test_field_hiding_a_name_the_class_body_uses() -> None:
    """A record field named 'list' would hide the builtin the class annotations use."""
    found = problems(spec_text(extra="Tags: {list: 'list[str]', other: int}"))
    assert found == [
        "demo.yaml:4:10: error: field 'list' of 'Tags' would hide the name 'list' that the "
        "generated class uses in its annotations (rename the field)"
    ]


def test_context_field_clashing_with_start_parameters() -> None:
    """A required context field named run_id would clash with start(run_id=...)."""
    found = problems(spec_text(context="run_id"))
    assert found == [
        "demo.yaml:6:3: error: context field 'run_id' would clash with the parameter or type "
        "'run_id' of the generated start() method (rename the context field)"
    ]


def test_contract_named_like_a_generated_helper() -> None:
    """A contract named AgentCall collides with the name the generated agents module imports."""
    found = problems(spec_text(contract="AgentCall"))
    assert "would generate the name 'AgentCall', which the generated code already uses" in found[0]


def test_enum_values_that_map_to_one_member_name() -> None:
    """Enum values 'a-b' and 'a b' both become member A_B: an error at the enum."""
    found = problems(spec_text(extra="Mode: {enum: [a-b, 'a b', c]}"))
    assert found == [
        "demo.yaml:4:3: error: enum 'Mode': values 'a-b' and 'a b' would both become the member "
        "name A_B (member names are the values in UPPER_SNAKE_CASE without accents, so make the "
        "values differ in more than case, accents or punctuation)"
    ]


def test_enum_values_differing_only_in_case_get_a_hint_that_says_so() -> None:
    """Units 'm' and 'M' differ in a letter's case, which member names (upper case) lose: the
    hint must not claim they differ only in punctuation."""
    found = problems(spec_text(extra="Unit: {enum: [m, M]}"))
    assert len(found) == 1
    assert "values 'm' and 'M' would both become the member name M" in found[0]
    assert "more than case" in found[0]
    assert "not only punctuation" not in found[0]


def test_events_with_one_name_and_two_data_types() -> None:
    """An event name carrying different contracts in two states cannot have one send_ method."""
    text = """\
workflow: demo
contracts:
  A: {x: int}
  B: {y: int}
context:
  a: A?
  b: B?
states:
  one: {wait: {go: {data: A, writes: a}}}
  two: {wait: {go: {data: B, writes: b}}}
  done: {final: true}
initial: one
transitions:
  one: [{on: go, to: two}]
  two: [{on: go, to: done}]
"""
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith("demo.yaml:10:16: error: event 'go' carries B here but A in state")


def test_all_problems_are_reported_at_once() -> None:
    """Several name problems in one spec come back together in one SpecError."""
    found = problems(spec_text(contract="Exception", agent_a="filter", context="run_id"))
    assert len(found) == 3


@pytest.mark.parametrize(
    ("value", "member"),
    [
        ("in progress", "IN_PROGRESS"),
        ("Zürich", "ZURICH"),
        ("123 go", "V_123_GO"),
        ("_private", "PRIVATE"),
        ("¿?", "VALUE_4"),
        ("mro", "MRO"),
        ('"""; import os', "IMPORT_OS"),
    ],
)
def test_enum_member_names(value: str, member: str) -> None:
    """Enum values become UPPER_SNAKE identifiers enum allows, whatever the value's text."""
    assert enum_member_name(value, 4) == member


def test_pascal_case_matches_the_input_record_rule() -> None:
    """Class names follow the same rule as the spec's agent input record names."""
    assert pascal_case("content_pipeline") == "ContentPipeline"
    assert pascal_case("fooBar") == "FooBar"


def test_agent_named_like_a_generated_helper() -> None:
    """An agent named default_agents would clash with the generated wiring function."""
    found = problems(spec_text(agent_b="default_agents"))
    assert found == [
        "demo.yaml:9:3: error: agent 'default_agents' would become a scaffold function next to "
        "the generated names (classes and helpers) it must import (use a lower_snake_case "
        "agent name)"
    ]


@pytest.mark.parametrize(
    ("changes", "position", "kind"),
    [
        ({"extra": "Other: {self: str}"}, "4:11", "field"),
        ({"context": "self"}, "6:3", "context field"),
        ({"agent_a": "self"}, "8:3", "agent"),
    ],
)
def test_self_is_refused_where_names_become_parameters(
    changes: dict[str, str], position: str, kind: str
) -> None:
    """A field, context field or agent named 'self' would be a second 'self' parameter of an
    attrs __init__ (a SyntaxError at import, in generated code and in the runtime's own
    classes): the spec parser refuses it, at the name."""
    with pytest.raises(SpecError) as caught:
        checked_from_text(spec_text(**changes), "demo.yaml")
    first = caught.value.diagnostics[0].headline()
    assert first.startswith(f"demo.yaml:{position}: error: invalid {kind} name 'self': 'self' is")
    assert first.endswith(f"(rename the {kind})")


def test_self_is_refused_as_an_agent_input() -> None:
    """An agent input named 'self' becomes a field of the agent's input record."""
    text = spec_text().replace("{item: note}", "{self: note}", 1)
    with pytest.raises(SpecError) as caught:
        checked_from_text(text, "demo.yaml")
    (first, *_) = [d.headline() for d in caught.value.diagnostics]
    assert first.startswith("demo.yaml:8:20: error: invalid input name 'self'")


def test_contract_named_like_a_template_import() -> None:
    """workflow.py imports TracebackType for __exit__: a contract of that name would rebind it.
    Reserved names are read from the templates, so every template import is covered."""
    found = problems(spec_text(contract="TracebackType"))
    assert found == [
        "demo.yaml:3:3: error: contract 'TracebackType' would generate the name "
        "'TracebackType', which the generated code already uses for itself (in workflow.py) "
        "(rename it in the spec)"
    ]


def module_bindings(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for statement in tree.body:
        match statement:
            case ast.Import(names=names) | ast.ImportFrom(names=names):
                bound.update((a.asname or a.name).split(".")[0] for a in names)
            case ast.FunctionDef(name=name) | ast.ClassDef(name=name):
                bound.add(name)
            case ast.AnnAssign(target=ast.Name(id=name)):
                bound.add(name)
            case ast.Assign(targets=targets):
                bound.update(t.id for t in targets if isinstance(t, ast.Name))
    return bound


@pytest.mark.parametrize("spec", [*SPECS, HOSTILE_SPEC, LINT_HOSTILE_SPEC], ids=lambda p: p.stem)
def test_reserved_names_cover_every_name_a_generated_module_binds(spec: Path) -> None:
    """A module binding spec names comes from a template naming checks those names against, and
    every other name it binds is one that naming reads from the templates: so no spec name can
    rebind an import or definition of the generated code."""
    checked = load_checked(spec)
    names = check_names(checked)
    classes = {t.name for t in all_named_types(checked)} | {
        names.workflow_class,
        names.agents_class,
        *names.input_classes.values(),
        *names.protocol_classes.values(),
    }
    functions = {agent.name for agent in checked.spec.agents}
    templates = dict(GENERATED_TEMPLATES)
    for file in render_files(checked, "spec.yaml"):
        template = SCAFFOLD_TEMPLATE if file.scaffold else templates[file.path]
        bound = module_bindings(ast.parse(file.text))
        own = bound - classes - functions
        if bound & classes:
            assert template in CLASS_NAME_TEMPLATES, file.path
            assert own <= module_helpers().keys(), file.path
        if bound & functions:
            assert template in AGENT_FUNCTION_TEMPLATES, file.path
            assert own <= module_helpers(AGENT_FUNCTION_TEMPLATES).keys(), file.path


def test_agent_named_like_a_generated_agents_impl_module() -> None:
    """An agent named conftest would get the scaffold agents_impl/conftest.py, which fsm
    generate writes itself (to keep pytest off the scaffolds)."""
    found = problems(spec_text(agent_b="conftest"))
    assert found == [
        "demo.yaml:9:3: error: agent 'conftest' would get the scaffold agents_impl/conftest.py, "
        "a file fsm generate writes itself (rename the agent)"
    ]
