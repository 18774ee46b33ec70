"""Flow Orchestra through its public API: a checked spec, guards and contract validation on.

Each step is one ``RunHandle.step()``: build and validate the agent's input record, call the
agent, validate its output against the contract, merge, route with the compiled guards, and
append one snapshot to the ``SqliteStore`` in one transaction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.measure import LoadRun, StepRun, check_sync, time_load, timed_steps
from benchmarks.workloads import Workload, initial_context, review, write
from fsm import AgentCall, RunHandle, SqliteStore, Workflow, check_spec, parse_spec

RUN_ID = "bench"
"""Known to the loader, as the peers know their thread or app id: looking the run up first
(``list_runs``) would read the runs table into the cache before the timed load."""

_SPEC = """
workflow: review_loop
max_steps: 100000000
contracts:
  Draft: {{title: str, revision: {{type: int, min: 1}}{draft_note}}}
  Review: {{score: {{type: float, min: 0, max: 1}}{review_note}}}
context:
  topic: str
  target: {{type: int, min: 1}}
  title: {{type: str, default: ""}}
  revision: {{type: int, default: 0}}
  score: {{type: float, default: 0.0}}{notes_field}
agents:
  writer: {{input: {{topic: topic, revision: revision}}, output: Draft}}
  reviewer: {{input: {{revision: revision, target: target}}, output: Review}}
states:
  drafting: {{agent: writer, writes: {{title: title, revision: revision{draft_write}}}}}
  reviewing: {{agent: reviewer, writes: {{score: score{review_write}}}}}
  published: {{final: true}}
initial: drafting
transitions:
  drafting: [{{to: reviewing}}]
  reviewing:
    - {{to: published, when: "score >= 0.8"}}
    - {{to: drafting}}
"""


def spec_text(workload: Workload) -> str:
    """The loop as a spec; W2 adds a ``note`` to both outputs, appended to ``notes``."""
    extra = workload.notes
    return _SPEC.format(
        draft_note=", note: str" if extra else "",
        review_note=", note: str" if extra else "",
        notes_field="\n  notes: {type: 'list[str]', merge: append}" if extra else "",
        draft_write=", notes: note" if extra else "",
        review_write=", notes: note" if extra else "",
    )


def agents(workload: Workload) -> dict[str, object]:
    notes = workload.notes

    def writer(inputs: Any, call: AgentCall) -> dict[str, Any]:
        return write(inputs.topic, inputs.revision, notes)

    def reviewer(inputs: Any, call: AgentCall) -> dict[str, Any]:
        return review(inputs.revision, inputs.target, notes)

    return {"writer": writer, "reviewer": reviewer}


def open_workflow(db_path: Path, workload: Workload, sync: str) -> tuple[Workflow, SqliteStore]:
    store = SqliteStore(db_path, durability="full" if check_sync(sync) == "full" else "normal")
    checked = check_spec(parse_spec(spec_text(workload), "review_loop.yaml"))
    return Workflow.from_spec(checked, agents=agents(workload), store=store), store


def start(workflow: Workflow, workload: Workload) -> RunHandle:
    first = initial_context(workload)
    inputs = {"topic": first["topic"], "target": first["target"]}
    return workflow.start(inputs, run_id=RUN_ID, detach=True)


def run_steps(db_path: Path, workload: Workload, sync: str) -> StepRun:
    workflow, store = open_workflow(db_path, workload, sync)
    handle = start(workflow, workload)
    times = timed_steps(handle.step, workload.steps)
    assert handle.status == "completed", (handle.status, handle.error)
    settings = store.settings()
    final = dict(handle.context_json)
    store.close()
    return StepRun(times, settings.journal_mode, settings.synchronous, final)


def load_head(db_path: Path, workload: Workload) -> LoadRun:
    workflow, store = open_workflow(db_path, workload, "normal")
    try:
        return time_load(lambda: workflow.run(RUN_ID), lambda h: dict(h.context_json))
    finally:
        store.close()
