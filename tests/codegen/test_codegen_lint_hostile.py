"""The lint-hostile spec (realistic names and texts that once broke generated code) yields a
package that imports and runs; test_codegen_quality checks it with ruff and mypy --strict, and
test_codegen_golden pins its files."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import LINT_HOSTILE_SPEC, REPO, generate_package


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_package(LINT_HOSTILE_SPEC, tmp_path_factory.mktemp("lint") / "lint_pkg")


def test_start_takes_a_context_field_named_data(package: Path, import_package: Any) -> None:
    """start(data=...) passes the context field on: start() has no local of its own that a
    context field's name could shadow."""
    generated = import_package(package)

    def writer(inputs: Any, call: Any) -> Any:
        return generated.Draft(body=inputs.data.body.upper())

    agents = generated.ContentPublishingPipelineAgents(
        writer=writer,
        step9=lambda inputs, call: generated.Item10(text=inputs.data.body),
        step10=lambda inputs, call: generated.Item9(text=inputs.item.text + "!"),
        reviewer=lambda inputs, call: generated.EditorialReviewDecision(approved=False),
        echoAgent=lambda inputs, call: inputs.noteIn,
        test_echo=lambda inputs, call: inputs.note,
    )
    workflow_class = generated.ContentPublishingPipelineWorkflow
    with workflow_class(agents=agents, store="memory://") as workflow:
        run = workflow.start(
            data=generated.Draft(body="hi"), firstNote=generated.Note(textBody="x")
        )
        assert (run.status, run.state) == ("waiting", "waiting")
        decision = generated.EditorialReviewDecision(approved=True)
        run = workflow.send_approve_or_reject_the_draft(run.run_id, decision)
    assert run.status == "completed"
    assert run.context_json["out"] == {"body": "HI"}
    assert run.context_json["other"] == {"text": "hi!"}
    assert run.context_json["decision"]["approved"] is True
    assert run.context_json["echoed"] == {"textBody": "x"}


def test_ambiguous_characters_reach_the_code_escaped_and_exact(
    package: Path, import_package: Any
) -> None:
    """Typographic characters are written as escapes in literals, docstrings and comments, and
    denote exactly the spec's text."""
    contracts = import_package(package, "contracts")
    assert contracts.Remark().text == "it\u2019s \u2013 fine"
    assert [member.value for member in contracts.RemarkMood] == ["naïve \u2013 ok", "ΑΒΓ", "Αλφα"]
    assert (
        contracts.Remark.__doc__
        == "Editors\u2019 remark \u2013 approve \xd7 reject, or say \u201cwhy\u201d"
    )
    source = (package / "contracts.py").read_text(encoding="utf-8")
    assert '"it\\u2019s \\u2013 fine"' in source
    assert "Αλφα" in source  # a Greek word stays readable: ruff does not report it


def test_camel_case_names_are_exempted_per_file(package: Path) -> None:
    """Files with spec names pep8-naming reports carry one directive naming exactly those codes
    (ruff's RUF100 would report any other); the rest carry none."""
    directives = {
        path.relative_to(package).as_posix(): [
            line for line in path.read_text(encoding="utf-8").splitlines() if "ruff: noqa" in line
        ]
        for path in package.rglob("*.py")
    }
    assert directives["contracts.py"] == ["# ruff: noqa: N815"]
    assert directives["agents.py"] == ["# ruff: noqa: N815"]
    assert directives["workflow.py"] == ["# ruff: noqa: N802, N803"]
    assert directives["agents_impl/echoAgent.py"] == ["# ruff: noqa: N802, N999"]
    assert directives["agents_impl/__init__.py"] == directives["spec.py"] == []


def test_pytest_does_not_collect_the_scaffolds(package: Path) -> None:
    """The scaffold of agent test_echo is named like a test module; the generated
    agents_impl/conftest.py keeps pytest from collecting it (and from taking its 'inputs'
    parameter for a missing fixture)."""
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    result = subprocess.run(
        [*command, str(package / "agents_impl")],
        cwd=package.parent,
        env={**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == pytest.ExitCode.NO_TESTS_COLLECTED, result.stdout + result.stderr
    assert "test_echo" not in result.stdout
