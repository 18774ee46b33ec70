"""One measurement in a fresh process: the runner starts one of these per variant and repetition.

``python -m benchmarks worker TASK ...`` prints one JSON object on stdout. Tasks: ``steps`` (a
step workload in a fresh database), ``prepare`` (a long W1 run to load later), ``load`` (load
its head state), ``w4`` and ``w5`` (ours only). Every step and load result is checked against
the context computed without any framework, so a variant that did different work fails loudly
instead of producing a flattering number.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks.measure import SYNC_LEVELS, bytes_on_disk
from benchmarks.variants import NAMES, variant_named
from benchmarks.workloads import WORKLOADS, Workload, digest, expected_context


class MismatchError(AssertionError):
    """A variant ended with a context other than the reference one."""


def _check(variant: str, got: dict[str, Any], workload: Workload) -> None:
    want = expected_context(workload)
    if digest(got) != digest(want):
        differing = sorted(k for k in want.keys() | got.keys() if got.get(k) != want.get(k))
        raise MismatchError(f"{variant} ended with a different context; fields {differing}")


def written_bytes() -> int:
    """Bytes this process has passed to write calls so far (Linux ``/proc/self/io``), or 0."""
    try:
        with open("/proc/self/io", encoding="ascii") as io:
            for line in io:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def steps_task(variant: str, workload: Workload, sync: str, db_path: Path) -> dict[str, Any]:
    run_steps, _ = variant_named(variant).entry_points()
    before = written_bytes()
    run = run_steps(db_path, workload, sync)
    written = written_bytes() - before
    _check(variant, run.final_context, workload)
    return {
        "step_us": [round(s * 1e6, 2) for s in run.step_seconds],
        "bytes": bytes_on_disk(db_path),
        "written": written,
        "journal_mode": run.journal_mode,
        "synchronous": run.synchronous,
    }


def load_task(variant: str, workload: Workload, db_path: Path) -> dict[str, Any]:
    _, load_head = variant_named(variant).entry_points()
    loaded = load_head(db_path, workload)
    _check(variant, loaded.context, workload)
    return {"first_us": loaded.first_seconds * 1e6, "warm_us": loaded.warm_seconds * 1e6}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks worker")
    parser.add_argument("task", choices=["steps", "prepare", "load", "w4", "w5", "profile"])
    parser.add_argument("--variant", choices=NAMES, default="ours")
    parser.add_argument("--workload", choices=WORKLOADS, default="W1")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--sync", choices=SYNC_LEVELS, default="normal")
    parser.add_argument("--db", type=Path)
    parser.add_argument("--states", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--calls", type=int, default=100_000)
    args = parser.parse_args(argv)
    workload = Workload(args.workload, args.steps)
    result: dict[str, Any]
    if args.task == "steps":
        result = steps_task(args.variant, workload, args.sync, args.db)
    elif args.task == "prepare":
        result = steps_task(args.variant, workload, args.sync, args.db)
        result = {"bytes": result["bytes"]}
    elif args.task == "load":
        result = load_task(args.variant, workload, args.db)
    elif args.task == "profile":
        from benchmarks.profile_w1 import profile, summary

        stats, per_step = profile(args.steps, args.sync)
        result = {"per_step_us": per_step, "text": summary(stats, 12, orders=("tottime",))}
    elif args.task == "w4":
        from benchmarks.tools_bench import measure_w4

        result = {"rows": measure_w4(args.states, args.repeat)}
    else:
        from benchmarks.tools_bench import measure_w5

        result = {"rows": measure_w5(args.calls)}
    print(json.dumps(result))
