"""``transitions``: a ``Machine`` with hand-written lambda conditions and a snapshot hook.

What a user of the bare library writes: the model holds the context as a dict, a ``next``
trigger whose ordered transitions carry the routing conditions, and an ``after_state_change``
callback that serialises the whole context with ``json.dumps`` and INSERTs it (autocommit: one
transaction per step). No contracts, no validation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from transitions import Machine

from benchmarks.measure import LoadRun, StepRun, connect, pragmas, time_load, timed_steps
from benchmarks.workloads import PUBLISH_SCORE, Workload, initial_context, merge, run_agent

_CREATE = "CREATE TABLE IF NOT EXISTS snapshots (seq INTEGER PRIMARY KEY, state TEXT, data BLOB)"
_INSERT = "INSERT INTO snapshots (seq, state, data) VALUES (?, ?, ?)"
_HEAD = "SELECT data FROM snapshots ORDER BY seq DESC LIMIT 1"


class LoopRun:
    """The model: ``transitions`` attaches ``state`` and the ``next`` trigger to it."""

    state: str

    def __init__(self, workload: Workload, db: Any) -> None:
        self.workload = workload
        self.context = initial_context(workload)
        self.seq = 0
        self.db = db

    def publishable(self) -> bool:
        return bool(self.context["score"] >= PUBLISH_SCORE)

    def snapshot(self) -> None:
        self.seq += 1
        data = json.dumps(self.context, separators=(",", ":")).encode()
        self.db.execute(_INSERT, (self.seq, self.state, data))

    def step(self) -> None:
        merge(self.context, run_agent(self.state, self.context, self.workload))
        self.next()  # type: ignore[attr-defined]  # attached by Machine


def build_machine(run: LoopRun) -> Machine:
    machine = Machine(
        model=run,
        states=["drafting", "reviewing", "published"],
        initial="drafting",
        auto_transitions=False,
        after_state_change=run.snapshot,
    )
    machine.add_transition("next", "drafting", "reviewing")
    machine.add_transition("next", "reviewing", "published", conditions=[run.publishable])
    machine.add_transition("next", "reviewing", "drafting")
    return machine


def run_steps(db_path: Path, workload: Workload, sync: str) -> StepRun:
    db = connect(db_path, sync, isolation_level=None)
    db.execute(_CREATE)
    run = LoopRun(workload, db)
    build_machine(run)
    times = timed_steps(run.step, workload.steps)
    assert run.state == "published", run.state
    journal, synchronous = pragmas(db)
    db.close()
    return StepRun(times, journal, synchronous, run.context)


def load_head(db_path: Path, workload: Workload) -> LoadRun:
    db = connect(db_path, "normal", isolation_level=None)

    def load() -> dict[str, Any]:
        (data,) = db.execute(_HEAD).fetchone()
        context: dict[str, Any] = json.loads(data)
        return context

    try:
        return time_load(load, dict)
    finally:
        db.close()
