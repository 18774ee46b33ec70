"""A hostile spec (quotes, triple quotes, backslashes, newlines, bidi controls, ``\"\"\"; import
os``) yields code that compiles, does nothing on import but define things, and carries every
text as data, exactly."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import HOSTILE_SPEC, generate_package

from fsm.contracts import json_schema
from fsm.datatypes import RecordType
from fsm.spec.validate import load_checked

ALLOWED_IMPORTS = {
    "__future__",
    "attrs",
    "codegen.support",
    "collections.abc",
    "enum",
    "fsm.contracts",
    "fsm.runtime",
    "fsm.spec.checked",
    "fsm.spec.validate",
    "fsm.store",
    "fsm.testing",
    "functools",
    "hypothesis",
    "pathlib",
    "pytest",
    "types",
    "typing",
}
DEFINITIONS = (ast.Import, ast.ImportFrom, ast.ClassDef, ast.FunctionDef, ast.AnnAssign)


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package(HOSTILE_SPEC, tmp_path_factory.mktemp("hostile") / "hostile_pkg")


def modules(package: Path) -> dict[str, ast.Module]:
    return {
        path.relative_to(package).as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(package.rglob("*.py"))
    }


def test_every_file_compiles(package: Path) -> None:
    """Every generated file is valid Python."""
    files = sorted(package.rglob("*.py"))
    assert len(files) >= 4  # __init__, contracts, agents, workflow at least
    for path in files:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_modules_only_define_things(package: Path) -> None:
    """At module level there are only imports, definitions, annotated constants and docstrings:
    no statement a spec text could have smuggled in."""
    for name, tree in modules(package).items():
        for statement in tree.body:
            is_docstring = isinstance(statement, ast.Expr) and isinstance(
                statement.value, ast.Constant
            )
            simple_assign = isinstance(statement, ast.Assign) and all(
                isinstance(t, ast.Name) for t in statement.targets
            )
            assert isinstance(statement, DEFINITIONS) or is_docstring or simple_assign, (
                f"{name}:{statement.lineno}: unexpected {type(statement).__name__}"
            )


def test_only_expected_modules_are_imported(package: Path) -> None:
    """No generated file imports anything beyond the framework and typing helpers."""
    for name, tree in modules(package).items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found = {node.module or ""}
            else:
                continue
            assert found <= ALLOWED_IMPORTS, f"{name} imports {found - ALLOWED_IMPORTS}"


def test_texts_reach_the_code_exactly(package: Path, import_package: Any) -> None:
    """Enum values, defaults, patterns, JSON Schemas and descriptions equal the spec's texts."""
    checked = load_checked(HOSTILE_SPEC)
    mood = checked.spec.contract("Mood")
    note = checked.spec.contract("Note")
    assert mood is not None
    assert note is not None
    contracts = import_package(package, "contracts")
    assert [member.value for member in contracts.Mood] == list(mood.type.values)
    instance = contracts.Note()
    text_field = note.type.field("text")
    assert text_field is not None
    assert instance.text == text_field.default == '"""; import os; os.system(\'rm -rf /\') #'
    assert instance.mood == '"""; import os'
    assert instance.tags == ["'", '"', "\\", "\n", '"""']
    assert instance.weights == {'a"b': 1.0, "c'd": 2.5}
    assert {
        name: json_schema(checked.spec.contract(name).type)  # type: ignore[union-attr]
        for name in ("Mood", "Note")
    } == contracts.JSON_SCHEMAS
    doc = inspect.getdoc(contracts.Note) or ""
    assert doc.split() == note.type.description.split()
    assert (inspect.getdoc(contracts.Mood) or "").split() == mood.type.description.split()


def test_pattern_validator_matches_like_the_spec(package: Path, import_package: Any) -> None:
    """The text field's validator uses exactly the spec's regex, matched in full by RE2."""
    contracts = import_package(package, "contracts")
    note = load_checked(HOSTILE_SPEC).spec.contract("Note")
    assert note is not None
    assert isinstance(note.type, RecordType)
    spec_field = note.type.field("text")
    assert spec_field is not None
    validator = attrs.fields(contracts.Note).text.validator  # the only one: not wrapped
    assert validator.pattern == spec_field.constraints.pattern


def test_hostile_workflow_runs(package: Path, import_package: Any) -> None:
    """The façade of the hostile spec runs an echo agent to completion."""
    generated = import_package(package)

    def echo(inputs: Any, call: Any) -> Any:
        return inputs.note

    agents = generated.HostileAgents(echoer=echo)
    with generated.HostileWorkflow(agents=agents, store="memory://") as workflow:
        run = workflow.start(note=generated.Note(tags=["x"]))
    assert run.status == "completed"
    assert run.context_json["echo"]["mood"] == '"""; import os'
