"""`fsm graph` and `fsm check`: diagrams with guards and run paths, reports and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fsm.cli.main import main
from fsm.diagram import TakenStep, dot, mermaid
from fsm.runtime import Workflow
from fsm.spec.validate import load_checked

ROOT = Path(__file__).parents[2]
PIPELINE = ROOT / "specs" / "content_pipeline.yaml"
SPEC = load_checked(PIPELINE).spec


def test_mermaid_has_ordered_guards_and_error_routes() -> None:
    """Edges carry order, name and guard (escaped); error routes are dashed."""
    text = mermaid(SPEC)
    assert text.startswith("flowchart TD\n")
    assert 'reviewing -->|"1. good_enough [review.score #gt;= 0.8]"| approval' in text
    assert 'drafting -.->|"on_error"| failed' in text
    assert "published((" in text
    assert "approval{{" in text


def test_run_path_is_highlighted() -> None:
    """A run's edges are counted and styled, its states classed visited, its state current."""
    taken = [
        TakenStep("drafting", "reviewing", "default"),
        TakenStep("reviewing", "drafting", "revise"),
        TakenStep("drafting", "reviewing", "default"),
    ]
    text = mermaid(SPEC, taken, current="reviewing")
    assert "(taken 2x)" in text
    assert "linkStyle" in text
    assert "class drafting,reviewing visited" in text
    assert "class reviewing current" in text
    assert 'color="#1d4ed8"' in dot(SPEC, taken)


def test_graph_command_highlights_a_stored_run(tmp_path: Path) -> None:
    """`fsm graph --run` reads the run's history from the store and draws its path."""
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    workflow = Workflow.from_spec(PIPELINE, store=store)
    inputs = json.loads((ROOT / "specs" / "inputs" / "content_pipeline.json").read_text())
    with workflow:
        run = workflow.start(inputs)
    result = CliRunner().invoke(
        main, ["graph", str(PIPELINE), "--run", run.run_id, "--store", store]
    )
    assert result.exit_code == 0, result.output
    assert "linkStyle" in result.output
    assert f"class {run.state} current" in result.output


def test_graph_command_refuses_a_run_of_another_workflow(tmp_path: Path) -> None:
    """A run drawn on another workflow's spec would mark states that spec does not have: it
    is an error that names the run's own spec."""
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    workflow = Workflow.from_spec(PIPELINE, store=store)
    inputs = json.loads((ROOT / "specs" / "inputs" / "content_pipeline.json").read_text())
    with workflow:
        run = workflow.start(inputs)
    other = ROOT / "specs" / "support_triage.yaml"
    result = CliRunner().invoke(main, ["graph", str(other), "--run", run.run_id, "--store", store])
    assert result.exit_code == 1
    assert "belongs to workflow 'content_pipeline', not 'support_triage'" in result.output
    assert f"fsm graph {PIPELINE} --run {run.run_id} --store" in result.output
    assert "flowchart" not in result.output


def test_graph_command_dot_format() -> None:
    """`--format dot` prints a Graphviz digraph."""
    result = CliRunner().invoke(main, ["graph", str(PIPELINE), "--format", "dot"])
    assert result.exit_code == 0
    assert result.output.startswith('digraph "content_pipeline" {')


def test_check_command_passes_and_prints_json() -> None:
    """`fsm check --json` exits 0 on the example spec with a machine-readable report."""
    args = ["check", str(PIPELINE), "--json", "--examples", "60", "--runs", "3", "--seed", "1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True
    assert report["seed"] == 1
    assert report["findings"] == []


def test_check_json_has_one_shape_per_argument_count_and_reports_invalid_specs(
    tmp_path: Path,
) -> None:
    """One SPEC: an object; several: a list, one entry each, an invalid spec included with
    its diagnostics (it used to vanish from stdout, and the shape followed the valid ones)."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: bad\nstates: {}\n")
    args = ["--json", "--examples", "10", "--runs", "0"]
    alone = CliRunner().invoke(main, ["check", str(bad), *args])
    assert alone.exit_code == 1
    entry = json.loads(alone.stdout)
    assert (entry["path"], entry["valid"], entry["ok"]) == (str(bad), False, False)
    assert entry["diagnostics"][0]["severity"] == "error"
    both = CliRunner().invoke(main, ["check", str(bad), str(PIPELINE), *args])
    assert both.exit_code == 1
    first, second = json.loads(both.stdout)
    assert (first["valid"], second["valid"], second["ok"]) == (False, True, True)
    assert second["workflow"] == "content_pipeline"


def test_check_command_fails_with_counterexample(tmp_path: Path) -> None:
    """A spec with a routing gap exits 1 and prints the counterexample's context as JSON."""
    text = PIPELINE.read_text().replace("    - {to: failed, name: out_of_revisions}\n", "")
    broken = tmp_path / "content_pipeline.yaml"
    broken.write_text(text)
    (tmp_path / "agents").symlink_to(ROOT / "specs" / "agents")
    result = CliRunner().invoke(main, ["check", str(broken), "--examples", "60", "--runs", "0"])
    assert result.exit_code == 1
    assert "is not total" in result.output
    assert "context: {" in result.output


def test_check_command_invalid_spec_is_a_clean_error(tmp_path: Path) -> None:
    """An invalid spec prints diagnostics, not a traceback, and exits 1."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("workflow: x\n")
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


def test_check_of_several_specs_says_what_is_wrong_with_each_it_skips(tmp_path: Path) -> None:
    """A missing file among several is said to be missing, not 'an invalid spec'; the others
    are still checked."""
    missing = tmp_path / "missing.yaml"
    result = CliRunner().invoke(
        main, ["check", str(missing), str(ROOT / "specs" / "content_pipeline.yaml"), "--runs", "0"]
    )
    assert result.exit_code == 1
    assert f"{missing}: spec file not found: {missing}; `fsm validate {missing}`" in result.output
    assert "content_pipeline.yaml: routing ok" in result.output
