"""Per-transition overhead of the runtime against a bare SQLite floor (issue 3's benchmark).

The floor does only what any durable step must: ``json.dumps`` of the record's data plus one
SQLite ``INSERT`` and ``COMMIT`` (WAL, the same ``synchronous`` level as the store). Workloads:

- W1: a small context (an int and a short string), 1,000 steps: median µs per step, ratio.
- W2: a list field growing by one 1 KB item per step (``merge: append``), 1,000 steps: bytes
  stored per step against the bytes appended, and steps 901-1000 against steps 1-100.
- L: loading the state at step 10,000 of a run (``Store.load_state`` and ``Workflow.run``).

Runs are interleaved (floor, runtime, floor, runtime, ...) so machine noise hits both alike.
Usage: ``python benchmarks/transition_overhead.py [--rounds N] [--durability normal|full]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fsm.runtime import AgentCall, Workflow
from fsm.spec.validate import checked_from_text
from fsm.store import SqliteStore

STEPS = 1000
W1_SPEC = """
workflow: w1
max_steps: 100000
contracts:
  Out: {value: int, label: str}
context:
  value: {type: int, default: 0}
  label: {type: str, default: ""}
agents:
  tick: {input: {value: value}, output: Out}
states:
  ticking: {agent: tick, writes: {value: value, label: label}}
  done: {final: true}
initial: ticking
transitions:
  ticking:
    - {to: done, when: "value < 0"}
    - {to: ticking}
"""
W2_SPEC = """
workflow: w2
max_steps: 100000
contracts:
  Out: {item: str}
context:
  items: {type: list[str], merge: append}
agents:
  grow: {input: {}, output: Out}
states:
  growing: {agent: grow, writes: {items: item}}
  done: {final: true}
initial: growing
transitions:
  growing:
    - {to: done, when: "len(items) < 0"}
    - {to: growing}
"""
ITEM = "x" * 1000


def tick(inputs: Any, call: AgentCall) -> dict[str, object]:
    return {"value": inputs.value + 1, "label": f"tick {inputs.value + 1}"}


def grow(inputs: Any, call: AgentCall) -> dict[str, object]:
    return {"item": ITEM[: 1000 - len(str(call.seq))] + str(call.seq)}


def floor(path: Path, durability: str, payloads: list[dict[str, object]]) -> list[float]:
    """Seconds per step of json.dumps + INSERT + COMMIT, the least a durable step costs."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = " + ("FULL" if durability == "full" else "NORMAL"))
    db.execute("CREATE TABLE IF NOT EXISTS steps (run TEXT, seq INT, data BLOB)")
    times: list[float] = []
    for seq, payload in enumerate(payloads, start=1):
        began = time.perf_counter()
        data = json.dumps(payload, separators=(",", ":")).encode()
        db.execute("BEGIN")
        db.execute("INSERT INTO steps VALUES (?, ?, ?)", ("floor", seq, data))
        db.execute("COMMIT")
        times.append(time.perf_counter() - began)
    db.close()
    return times


def runtime(path: Path, durability: str, spec: str, agent: Any, steps: int) -> list[float]:
    """Seconds per ``RunHandle.step()`` (agent, validation, merge, routing, snapshot, commit)."""
    store = SqliteStore(path, durability=durability)  # type: ignore[arg-type]
    checked = checked_from_text(spec, "bench.yaml")
    name = checked.spec.agents[0].name
    workflow = Workflow.from_spec(checked, agents={name: agent}, store=store)
    handle = workflow.start(detach=True)
    times: list[float] = []
    for _ in range(steps):
        began = time.perf_counter()
        handle.step()
        times.append(time.perf_counter() - began)
    store.close()
    return times


def payload_w1(seq: int) -> dict[str, object]:
    return {"run_id": "r" * 32, "seq": seq, "source": "ticking", "target": "ticking",
            "changes": {"value": seq, "label": f"tick {seq}"}}  # fmt: skip


def payload_w2(seq: int) -> dict[str, object]:
    return {"run_id": "r" * 32, "seq": seq, "source": "growing", "target": "growing",
            "appended": {"items": [ITEM]}}  # fmt: skip


def stored_bytes(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        (total,) = db.execute("SELECT SUM(LENGTH(payload)) FROM snapshots WHERE seq > 0").fetchone()
    finally:
        db.close()
    return int(total)


def us(seconds: float) -> str:
    return f"{seconds * 1e6:8.1f} µs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--durability", choices=["normal", "full"], default="normal")
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}  Python {platform.python_version()}  "
          f"SQLite {sqlite3.sqlite_version}  {platform.machine()} {platform.system()}  "
          f"durability={args.durability}  rounds={args.rounds}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        w1_floor: list[float] = []
        w1_run: list[float] = []
        w2_floor: list[float] = []
        w2_early: list[float] = []
        w2_late: list[float] = []
        w2_bytes = 0
        for index in range(args.rounds):
            w1_floor.append(statistics.median(floor(
                folder / f"f1_{index}.db", args.durability,
                [payload_w1(s) for s in range(1, STEPS + 1)])))  # fmt: skip
            w1_run.append(
                statistics.median(
                    runtime(folder / f"r1_{index}.db", args.durability, W1_SPEC, tick, STEPS)
                )
            )
            w2_floor.append(statistics.median(floor(
                folder / f"f2_{index}.db", args.durability,
                [payload_w2(s) for s in range(1, STEPS + 1)])))  # fmt: skip
            times = runtime(folder / f"r2_{index}.db", args.durability, W2_SPEC, grow, STEPS)
            w2_early.append(statistics.median(times[:100]))
            w2_late.append(statistics.median(times[900:]))
            w2_bytes = stored_bytes(folder / f"r2_{index}.db")

        f1, r1 = statistics.median(w1_floor), statistics.median(w1_run)
        print(f"W1 small context, {STEPS} steps (median of per-round medians)")
        print(f"  floor   {us(f1)} / step")
        print(f"  runtime {us(r1)} / step   ratio {r1 / f1:.2f}x   (target <= 2x)")
        f2 = statistics.median(w2_floor)
        early, late = statistics.median(w2_early), statistics.median(w2_late)
        appended = len(json.dumps(ITEM))
        print(f"W2 list growing by 1 KB per step, {STEPS} steps")
        print(f"  floor   {us(f2)} / step")
        print(f"  runtime steps 1-100 {us(early)}, 901-1000 {us(late)}   "
              f"ratio {late / early:.2f}x   (target <= 1.2x)")  # fmt: skip
        print(f"  stored  {w2_bytes / STEPS:8.0f} B / step vs {appended} B appended   "
              f"ratio {w2_bytes / STEPS / appended:.2f}x   (target <= 2x)")  # fmt: skip

        path = folder / "long.db"
        runtime(path, args.durability, W1_SPEC, tick, 10_000)
        store = SqliteStore(path)
        run_id = store.list_runs()[0].run_id
        loads = []
        for _ in range(30):
            began = time.perf_counter()
            store.load_state(run_id, 10_000)
            loads.append(time.perf_counter() - began)
        checked = checked_from_text(W1_SPEC, "bench.yaml")
        workflow = Workflow.from_spec(checked, agents={"tick": tick}, store=store)
        opens = []
        for _ in range(30):
            began = time.perf_counter()
            workflow.run(run_id)
            opens.append(time.perf_counter() - began)
        store.close()
        print("L load the state at step 10,000")
        print(
            f"  Store.load_state {statistics.median(loads) * 1e3:6.2f} ms   "
            f"Workflow.run {statistics.median(opens) * 1e3:6.2f} ms   (target <= 5 ms)"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
