"""Where ours spends a W1 step: cProfile of ``RunHandle.step()`` loops, summarised by area.

``python -m benchmarks profile-w1 [--steps 2000] [--sync normal] [--top 25]`` prints the share
of self time per area (store, runtime, contracts, cattrs, attrs, sqlite3, json, …) and then
the top functions by self time and by cumulative time, so an optimisation can aim at the
largest share rather than a guess. cProfile inflates Python-heavy code relative to C calls
such as SQLite's, so read the areas as proportions of the profiled run, not µs.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.variants import ours
from benchmarks.workloads import Workload

# First match wins: (area, substring of the function's file or name).
AREAS = (
    ("store (fsm/store)", "fsm/store/"),
    ("runtime (fsm/runtime)", "fsm/runtime/"),
    ("contracts (fsm/contracts)", "fsm/contracts/"),
    ("values/datatypes (fsm)", "fsm/values.py"),
    ("guards (compiled)", "<guard"),
    ("cattrs", "cattrs"),
    ("attrs", "/attr/"),
    ("attrs", "/attrs/"),
    ("sqlite3 (C: execute, commit)", "sqlite3"),
    ("json", "json"),
    ("benchmark agents", "benchmarks/"),
)


def area_of(filename: str, function: str) -> str:
    where = f"{filename}:{function}"
    for area, marker in AREAS:
        if marker in where:
            return area
    return "other builtins (C)" if filename == "~" else "other Python"


def profile(steps: int, sync: str) -> tuple[pstats.Stats, float]:
    """Profile ``steps`` W1 steps of ours; also return the unprofiled median µs per step for
    scale (the median, as in the tables: the mean is dominated by the few steps that run a WAL
    checkpoint)."""
    workload = Workload("W1", steps)
    with tempfile.TemporaryDirectory(prefix="fsm-profile-") as folder:
        plain = ours.run_steps(Path(folder) / "plain.db", workload, sync)
        workflow, store = ours.open_workflow(Path(folder) / "profiled.db", workload, sync)
        handle = ours.start(workflow, workload)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(steps):
            handle.step()
        profiler.disable()
        store.close()
    return pstats.Stats(profiler), statistics.median(plain.step_seconds) * 1e6


def summary(
    stats: pstats.Stats, top: int, orders: tuple[str, ...] = ("tottime", "cumulative")
) -> str:
    raw = stats.stats  # type: ignore[attr-defined]  # documented pstats attribute, untyped
    areas: dict[str, float] = {}
    total = 0.0
    for (filename, _line, function), (_cc, _nc, self_time, _cum, _callers) in raw.items():
        area = area_of(filename, function)
        areas[area] = areas.get(area, 0.0) + self_time
        total += self_time
    out = io.StringIO()
    out.write("self time by area (share of the profiled run):\n")
    for area, seconds in sorted(areas.items(), key=lambda item: -item[1]):
        out.write(f"  {seconds / total:6.1%}  {area}\n")
    stats.strip_dirs()  # after the areas, which need the full paths
    for order in orders:
        out.write(f"\ntop {top} functions by {order}:\n")
        stats.stream = out  # type: ignore[attr-defined]  # pstats prints to .stream
        stats.sort_stats(order).print_stats(top)
    return out.getvalue()


def main(steps: int, sync: str, top: int) -> None:
    began = time.perf_counter()
    stats, per_step = profile(steps, sync)
    print(
        f"W1, ours, {steps} steps at synchronous={sync.upper()}: "
        f"median {per_step:.1f} µs/step unprofiled ({time.perf_counter() - began:.1f} s total)"
    )
    print(summary(stats, top))
