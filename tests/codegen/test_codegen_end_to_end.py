"""Generated workflows run end to end on SQLite through their typed façade."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import attrs
import pytest
from conftest import REPO, SPECS, generate_package

from fsm import BlockingCallInEventLoopError
from fsm.runtime import load_agents
from fsm.spec.validate import load_checked

FILLED = Path(__file__).resolve().parent / "filled"


def test_filled_in_scaffolds_run_the_content_pipeline(tmp_path: Path, import_package: Any) -> None:
    """Typed agents (one sync, one async) drive a run to approval; a second façade on the same
    SQLite file answers the wait, so the run survived in the store."""
    package = generate_package(REPO / "specs" / "content_pipeline.yaml", tmp_path / "cp_typed")
    for agent in (FILLED / "content_pipeline").glob("*.py"):
        shutil.copyfile(agent, package / "agents_impl" / agent.name)
    generated = import_package(package)
    store = f"sqlite:{tmp_path / 'runs.db'}"
    with generated.ContentPipelineWorkflow(store=store) as workflow:
        run = workflow.start(brief=generated.Brief(topic="typed code generation"))
        assert (run.status, run.state) == ("waiting", "approval")
        assert run.waiting_for == ("approve", "reject")
        assert run.context_json["draft"]["revision"] == 2
        assert run.context_json["review"]["notes"] == ["revision 2 reviewed by reviewer"]
    with generated.ContentPipelineWorkflow(store=store) as reopened:
        done = reopened.send_approve(run.run_id, generated.Decision(editor="ada"))
        assert (done.status, done.state) == ("completed", "published")
        assert done.context_json["decision"] == {"editor": "ada", "comment": ""}
        rules = [snapshot.rule for snapshot in reopened.workflow.history(run.run_id)]
        assert rules == ["start", "default", "revise", "default", "good_enough", "on approve"]


def test_unfilled_scaffold_fails_the_run_with_a_clear_message(
    tmp_path: Path, import_package: Any
) -> None:
    """Until filled in, a scaffold raises NotImplementedError naming the spec and the agent."""
    package = generate_package(REPO / "specs" / "content_pipeline.yaml", tmp_path / "cp_empty")
    generated = import_package(package)
    with generated.ContentPipelineWorkflow(store="memory://") as workflow:
        run = workflow.start(brief=generated.Brief(topic="nothing yet"))
        error = workflow.workflow.history(run.run_id)[-1].error or ""
    assert run.state == "failed"  # the writer's on_error route
    assert "NotImplementedError: agent 'writer' of spec" in error
    assert "fill in agents_impl/writer.py" in error


def test_stale_generated_classes_are_refused(tmp_path: Path, import_package: Any) -> None:
    """A package whose contract classes no longer match the embedded spec fails at start-up."""
    package = generate_package(REPO / "specs" / "content_pipeline.yaml", tmp_path / "cp_stale")
    contracts = package / "contracts.py"
    contracts.write_text(contracts.read_text().replace("    revision: int", "    version: int"))
    generated = import_package(package)
    with pytest.raises(ValueError, match="does not match contract 'Draft'"):
        generated.ContentPipelineWorkflow(store="memory://")


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.stem)
def test_example_agents_run_through_the_typed_facade(
    spec: Path, tmp_path: Path, import_package: Any
) -> None:
    """Each example spec's own agents, passed as the typed agents value, complete a run on
    SQLite, answering waits with the example event data through the typed send_ methods."""
    checked = load_checked(spec)
    loaded = load_agents(checked.spec)  # every example spec ships its agents
    package = generate_package(spec, tmp_path / f"{spec.stem}_pkg")
    generated = import_package(package)
    agents_class = next(v for k, v in vars(generated).items() if k.endswith("Agents"))
    workflow_class = next(v for k, v in vars(generated).items() if k.endswith("Workflow"))
    agents = agents_class(**{name: agent.fn for name, agent in loaded.items()})
    bridge = generated.workflow.typed_bridge()
    start = json.loads((REPO / "specs" / "inputs" / f"{spec.stem}.json").read_text())
    typed_start = {
        field.name: bridge.converter.structure(start[field.name], field.type, field.name)
        for field in checked.spec.context
        if field.required
    }
    with workflow_class(agents=agents, store=f"sqlite:{tmp_path / 'runs.db'}") as workflow:
        run = workflow.start(**typed_start)
        for _ in range(5):
            if run.status != "waiting":
                break
            run = answer_wait(checked, workflow, bridge, run, spec.stem)
        assert run.status == "completed", run.error
        assert attrs.has(type(run.context))


def answer_wait(checked: Any, workflow: Any, bridge: Any, run: Any, stem: str) -> Any:
    """Send the first accepted event that has example data in specs/inputs/."""
    state = checked.spec.state(run.state)
    for event in state.events:
        data_file = REPO / "specs" / "inputs" / f"{stem}_{event.name}.json"
        if event.data_type is None:
            return getattr(workflow, f"send_{event.name}")(run.run_id)
        if data_file.exists():
            data = json.loads(data_file.read_text())
            typed = bridge.converter.structure(data, event.data_type, event.name)
            return getattr(workflow, f"send_{event.name}")(run.run_id, typed)
    pytest.fail(f"no example data to answer {run.waiting_for} in state {run.state}")


def test_the_facade_has_async_twins_for_event_loops(tmp_path: Path, import_package: Any) -> None:
    """Inside an event loop the typed façade is driven with ``async_start`` and
    ``async_send_<event>`` (the writer agent is async); the blocking methods there refuse with
    a usage error instead of failing the run."""
    package = generate_package(REPO / "specs" / "content_pipeline.yaml", tmp_path / "cp_async")
    for agent in (FILLED / "content_pipeline").glob("*.py"):
        shutil.copyfile(agent, package / "agents_impl" / agent.name)
    generated = import_package(package)

    async def drive() -> tuple[Any, Any]:
        with generated.ContentPipelineWorkflow(store="memory://") as workflow:
            run = await workflow.async_start(brief=generated.Brief(topic="async façade"))
            assert (run.status, run.state) == ("waiting", "approval")
            done = await workflow.async_send_approve(run.run_id, generated.Decision(editor="ada"))
            with pytest.raises(BlockingCallInEventLoopError, match="use async_start"):
                workflow.start(brief=generated.Brief(topic="blocking inside a loop"))
            return run, done

    _, done = asyncio.run(drive())
    assert (done.status, done.state) == ("completed", "published")


LINEAR_SPEC = """\
workflow: linear
contracts:
  Code: {value: {type: str, pattern: '(a|aa)+'}, digits: {type: str?, pattern: '\\d+'}}
context:
  code: Code?
agents:
  coder: {output: Code}
states:
  coding: {agent: coder, writes: code}
  done: {final: true}
initial: coding
transitions:
  coding: [{to: done}]
"""


def test_generated_classes_check_patterns_with_re2(tmp_path: Path, import_package: Any) -> None:
    """A generated class refuses a value breaking its pattern, at once even for a pattern
    that makes Python's backtracking re run forever (``(a|aa)+`` on a near miss), and with
    RE2's ASCII ``\\d`` (no Arabic-Indic digits), as the runtime checks do."""
    spec = tmp_path / "linear.yaml"
    spec.write_text(LINEAR_SPEC, encoding="utf-8")
    contracts = import_package(generate_package(spec, tmp_path / "linear"), "contracts")
    assert contracts.Code(value="aaa", digits="42").value == "aaa"
    started = time.perf_counter()
    with pytest.raises(ValueError, match=r"'value' must match '\(a\|aa\)\+'"):
        contracts.Code(value="a" * 1000 + "!")
    assert time.perf_counter() - started < 1.0
    with pytest.raises(ValueError, match="'digits' must match"):
        contracts.Code(value="a", digits="\u0663")
    assert contracts.Code(value="a", digits=None).digits is None
