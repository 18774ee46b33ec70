"""The workloads every variant runs, defined once so that all of them do the same work.

W1 and W2 are a draft → review → (draft | publish) loop. The writer bumps ``revision`` and
titles the draft; the reviewer scores it 0.5 (revise) until the revision reaches ``target``,
then 0.9 (publish). ``target`` is half the step count, so every variant takes exactly ``steps``
transitions and ends in ``published`` with the same context: the harness compares a digest of
the final context across variants to prove they did the same work. In W2 each agent also
appends one 1 KB note to a growing list.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import attrs

TOPIC = "durable agent workflows"
NOTE_BYTES = 1000
PUBLISH_SCORE = 0.8
WORKLOADS = ("W1", "W2")


@attrs.frozen
class Workload:
    """A step workload: W1 (small context) or W2 (a list growing by one 1 KB note per step)."""

    name: str
    steps: int

    def __attrs_post_init__(self) -> None:
        if self.name not in WORKLOADS:
            raise ValueError(f"workload must be one of {WORKLOADS}; got {self.name!r}")
        if self.steps < 2 or self.steps % 2:
            raise ValueError(f"steps must be an even number >= 2; got {self.steps}")

    @property
    def notes(self) -> bool:
        return self.name == "W2"

    @property
    def target(self) -> int:
        """The revision the reviewer publishes: one writer and one reviewer call per two steps."""
        return self.steps // 2


def initial_context(workload: Workload) -> dict[str, Any]:
    context: dict[str, Any] = {
        "topic": TOPIC,
        "target": workload.target,
        "title": "",
        "revision": 0,
        "score": 0.0,
    }
    if workload.notes:
        context["notes"] = []
    return context


def note(revision: int, author: str) -> str:
    """A 1,000-character note, different for every step (no two rows compress alike)."""
    head = f"{author} {revision:08d} "
    return head + "n" * (NOTE_BYTES - len(head))


def write(topic: str, revision: int, notes: bool) -> dict[str, Any]:
    """The writer agent's output: the next revision of the draft."""
    output: dict[str, Any] = {
        "title": f"{topic}, revision {revision + 1}",
        "revision": revision + 1,
    }
    if notes:
        output["note"] = note(revision + 1, "writer")
    return output


def review(revision: int, target: int, notes: bool) -> dict[str, Any]:
    """The reviewer agent's output: publishable only once the target revision is reached."""
    output: dict[str, Any] = {"score": 0.9 if revision >= target else 0.5}
    if notes:
        output["note"] = note(revision, "reviewer")
    return output


def merge(context: dict[str, Any], output: dict[str, Any]) -> None:
    """Apply an agent's output the way the spec's ``writes`` do (note → notes, appended)."""
    for key, value in output.items():
        if key == "note":
            context["notes"].append(value)
        else:
            context[key] = value


def run_agent(state: str, context: dict[str, Any], workload: Workload) -> dict[str, Any]:
    """Call the agent of ``state`` on ``context`` (plain-dict variants share this)."""
    if state == "drafting":
        return write(context["topic"], context["revision"], workload.notes)
    return review(context["revision"], context["target"], workload.notes)


def route(state: str, context: dict[str, Any]) -> str:
    """The loop's routing, hand-written: what every variant's guards must decide."""
    if state == "drafting":
        return "reviewing"
    return "published" if context["score"] >= PUBLISH_SCORE else "drafting"


def expected_context(workload: Workload) -> dict[str, Any]:
    """The context after ``workload.steps`` transitions, computed without any framework."""
    context = initial_context(workload)
    state = "drafting"
    for _ in range(workload.steps):
        merge(context, run_agent(state, context, workload))
        state = route(state, context)
    assert state == "published"
    return context


def digest(context: dict[str, Any]) -> str:
    """A short fingerprint of a context, independent of key order and int/float spelling."""
    canonical = {k: float(v) if k == "score" else v for k, v in context.items()}
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def appended_bytes() -> int:
    """Bytes one W2 step appends: one note as JSON."""
    return len(json.dumps(note(1, "writer")))
