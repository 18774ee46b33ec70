"""``fsm init`` creates a project that validates, passes ``fsm check``, runs and generates."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen.project import workflow_name_for
from fsm.cli.main import main


def test_init_creates_a_project_that_validates_and_runs(tmp_path: Path) -> None:
    """The skeleton's spec is valid and its example agents run it to completion."""
    runner = CliRunner()
    project = tmp_path / "My Flow"
    created = runner.invoke(main, ["init", str(project)])
    assert created.exit_code == 0, created.output
    assert sorted(p.name for p in project.iterdir()) == [
        "README.md",
        "agents.py",
        "input.json",
        "my_flow.yaml",
    ]
    spec = str(project / "my_flow.yaml")
    assert runner.invoke(main, ["validate", spec]).exit_code == 0
    ran = runner.invoke(
        main,
        ["run", spec, "--input", f"@{project / 'input.json'}", "--store", "memory://", "--json"],
    )
    assert ran.exit_code == 0, ran.output
    assert '"status": "completed"' in ran.output
    assert '"state": "answered"' in ran.output


def test_init_project_generates_a_package(tmp_path: Path) -> None:
    """fsm generate works on the skeleton's spec, and --check then passes."""
    runner = CliRunner()
    project = tmp_path / "starter"
    assert runner.invoke(main, ["init", str(project)]).exit_code == 0
    spec, out = str(project / "starter.yaml"), str(project / "starter_pkg")
    generated = runner.invoke(main, ["generate", spec, "-o", out])
    assert generated.exit_code == 0, generated.output
    assert "fill in the new agent scaffold(s)" in generated.output
    assert runner.invoke(main, ["generate", spec, "-o", out, "--check"]).exit_code == 0


def test_init_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    """fsm init never overwrites: an existing, non-empty folder is an error (exit 1)."""
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "taken")])
    assert result.exit_code == 1
    assert "already exists and is not an empty folder" in result.output
    assert (tmp_path / "taken" / "notes.txt").read_text() == "mine"


def test_workflow_names_from_folder_names() -> None:
    """Folder names become valid workflow identifiers."""
    assert workflow_name_for(Path("My Flow-2")) == "my_flow_2"
    assert workflow_name_for(Path("2fast")) == "wf_2fast"
    assert workflow_name_for(Path("class")) == "wf_class"
    # accents come off the letters instead of the letters being dropped ('ünï' gave 'n')
    assert workflow_name_for(Path("ünï")) == "uni"
    assert workflow_name_for(Path("Über Fluß")) == "uber_fluss"


def test_fsm_run_calls_the_filled_in_scaffolds_the_readme_points_impl_at(tmp_path: Path) -> None:
    """The README's path from `fsm init` to `fsm run` on the generated scaffolds works: impl
    pointed at a scaffold file loads it with its relative imports, from any working folder."""
    runner = CliRunner()
    project = tmp_path / "starter"
    assert runner.invoke(main, ["init", str(project)]).exit_code == 0
    spec_path, out = project / "starter.yaml", str(project / "starter_pkg")
    readme = (project / "README.md").read_text()
    impl = "starter_pkg/agents_impl/answerer.py:answerer"
    assert f"`impl: {impl}`" in readme
    spec_path.write_text(spec_path.read_text().replace("agents.py:answer", impl))
    assert runner.invoke(main, ["generate", str(spec_path), "-o", out]).exit_code == 0
    scaffold = project / "starter_pkg" / "agents_impl" / "answerer.py"
    body = scaffold.read_text()
    start = body.index("    raise NotImplementedError(")
    scaffold.write_text(
        body[:start] + '    return Answer(text="from the scaffold", confidence=0.9)\n'
    )
    given = f"@{project / 'input.json'}"
    ran = runner.invoke(
        main, ["run", str(spec_path), "--input", given, "--store", "memory://", "--json"]
    )
    assert ran.exit_code == 0, ran.output
    assert '"state": "answered"' in ran.output
    assert "from the scaffold" in ran.output
    check = runner.invoke(main, ["generate", str(spec_path), "-o", out, "--check"])
    assert check.exit_code == 0, check.output


def test_init_dot_names_the_project_after_the_empty_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fsm init .` in an empty folder takes the folder's name (it was refused: the name of
    '.' is empty)."""
    project = tmp_path / "triage_bot"
    project.mkdir()
    monkeypatch.chdir(project)
    result = CliRunner().invoke(main, ["init", "."])
    assert result.exit_code == 0, result.output
    assert (project / "triage_bot.yaml").is_file()
    assert "workflow: triage_bot" in (project / "triage_bot.yaml").read_text()
    assert result.stdout.splitlines()[-1] == "next: fsm run triage_bot.yaml --input @input.json"


def test_init_where_the_folder_cannot_be_created_is_one_error_line(tmp_path: Path) -> None:
    """A folder that cannot be made (here under a file; also read-only or no permission)
    exits 1 with the reason, not a traceback."""
    (tmp_path / "notes.txt").write_text("mine")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "notes.txt" / "flow")])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith(f"error: cannot create {tmp_path / 'notes.txt' / 'flow'}: ")
    assert len(result.stderr.splitlines()) == 1
