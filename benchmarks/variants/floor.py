"""The floor: the least any durable step costs — serialise the context, one INSERT, one COMMIT.

No framework, no validation, no routing machinery: the shared agents and hand-written routing
of ``benchmarks.workloads``, then ``json.dumps`` (or ``orjson.dumps``) of the record and one
autocommitted INSERT. In W2 the record holds the context without the notes plus the one note
appended (an append-only log's minimum); re-serialising the whole growing list would make the
"floor" quadratic and no floor at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.measure import LoadRun, StepRun, connect, pragmas, time_load, timed_steps
from benchmarks.workloads import Workload, initial_context, merge, route, run_agent

Dumps = Callable[[Any], bytes]

_CREATE = "CREATE TABLE IF NOT EXISTS steps (seq INTEGER PRIMARY KEY, data BLOB NOT NULL)"
_INSERT = "INSERT INTO steps (seq, data) VALUES (?, ?)"
_HEAD = "SELECT data FROM steps ORDER BY seq DESC LIMIT 1"


class Position:
    """Where the hand-written loop is: its state and the last seq written."""

    def __init__(self) -> None:
        self.state = "drafting"
        self.seq = 0


def json_dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def orjson_dumps(value: Any) -> bytes:
    import orjson

    return orjson.dumps(value)


def run_steps(db_path: Path, workload: Workload, sync: str, dumps: Dumps) -> StepRun:
    db = connect(db_path, sync, isolation_level=None)
    db.execute(_CREATE)
    context = initial_context(workload)
    position = Position()

    def step() -> None:
        state = position.state
        output = run_agent(state, context, workload)
        merge(context, output)
        target = route(state, context)
        seq = position.seq + 1
        record: dict[str, Any] = {"seq": seq, "source": state, "target": target}
        if workload.notes:
            record["context"] = {k: v for k, v in context.items() if k != "notes"}
            record["appended"] = [output["note"]]
        else:
            record["context"] = context
        db.execute(_INSERT, (seq, dumps(record)))
        position.state, position.seq = target, seq

    times = timed_steps(step, workload.steps)
    journal, synchronous = pragmas(db)
    db.close()
    return StepRun(times, journal, synchronous, context)


def load_head(db_path: Path, workload: Workload) -> LoadRun:
    """The last record's context; ``workload`` is unused (the record holds it all)."""
    db = connect(db_path, "normal", isolation_level=None)

    def load() -> dict[str, Any]:
        (data,) = db.execute(_HEAD).fetchone()
        context: dict[str, Any] = json.loads(data)["context"]
        return context

    try:
        return time_load(load, dict)
    finally:
        db.close()
