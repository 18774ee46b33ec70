"""Every spec in specs/ runs end to end, offline, with the example agents shipped beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fsm.runtime import Workflow
from fsm.store import MemoryStore

SPECS = Path(__file__).parents[2] / "specs"
INPUTS = SPECS / "inputs"

CASES = [
    ("content_pipeline", "content_pipeline.json", [("approve", "content_pipeline_approve.json")],
     "published"),
    ("support_triage", "support_triage.json", [], "resolved"),
    ("support_triage", "support_triage_urgent.json", [("resolve", "support_triage_resolve.json")],
     "resolved"),
    ("research_assistant", "research_assistant.json", [], "answered"),
]  # fmt: skip


@pytest.mark.parametrize(("spec", "start", "events", "final"), CASES)
def test_example_runs_to_its_final_state(
    spec: str, start: str, events: list[tuple[str, str]], final: str
) -> None:
    """The shipped input (and event data) take the example to its happy final state."""
    workflow = Workflow.from_spec(SPECS / f"{spec}.yaml", store=MemoryStore())
    handle = workflow.start(json.loads((INPUTS / start).read_text()))
    for event, data in events:
        assert event in handle.waiting_for
        handle.send(event, json.loads((INPUTS / data).read_text()))
    assert (handle.status, handle.state) == ("completed", final)


def test_every_spec_has_example_agents_and_an_input() -> None:
    """No spec in specs/ ships without agents and a start input."""
    for spec in SPECS.glob("*.yaml"):
        assert (SPECS / "agents" / f"{spec.stem}.py").is_file(), spec
        assert (INPUTS / f"{spec.stem}.json").is_file(), spec
