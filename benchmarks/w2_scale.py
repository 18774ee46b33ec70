"""W2 far past its 1,000 steps: does a step stay as cheap while the context grows to 20 MB?

    python -m benchmarks.w2_scale --steps 20000 --reps 2 \\
        --tree before=/path/to/old/checkout --tree after=.

Each measurement is a fresh process that runs the W2 loop (one 1 KB note appended per step)
through ``benchmarks.variants.ours`` on a new SQLite file, with ``PYTHONPATH`` pointing at one
checkout, and reports the CPU time per step over each tenth of the run (CPU time: less
sensitive than the wall clock to other processes on a shared machine). The trees take turns
within every repetition; the medians per tenth and the ratio of the last tenth to the first
are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TENTHS = 10


def measure(steps: int) -> list[float]:
    """CPU µs per step over each tenth of a ``steps``-step W2 run, in this process."""
    from benchmarks.variants import ours
    from benchmarks.workloads import Workload

    workload = Workload(name="W2", steps=steps)
    with tempfile.TemporaryDirectory() as folder:
        workflow, store = ours.open_workflow(Path(folder) / "runs.db", workload, "normal")
        handle = ours.start(workflow, workload)
        tenth = steps // TENTHS
        per_tenth = []
        for _ in range(TENTHS):
            began = time.process_time()
            for _ in range(tenth):
                handle.step()
            per_tenth.append((time.process_time() - began) / tenth * 1e6)
        store.close()
    return per_tenth


def _one(tree: Path, steps: int) -> list[float]:
    """Run this file as a script with ``tree`` first on the path: it measures that tree's
    code (an older checkout need not have this file)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(  # our own interpreter and script
        [sys.executable, __file__, "--measure", str(steps)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result: list[float] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.w2_scale")
    parser.add_argument("--steps", type=int, default=20_000, help="W2 steps (default 20000)")
    parser.add_argument("--reps", type=int, default=2, help="runs per tree (default 2)")
    parser.add_argument(
        "--tree", action="append", default=[], help="NAME=PATH of a checkout (repeatable)"
    )
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return
    if args.steps < 2 * TENTHS or args.steps % (2 * TENTHS):
        parser.error(f"--steps must be a multiple of {2 * TENTHS}")
    if not args.tree:
        parser.error("give at least one --tree NAME=PATH")
    trees = [(name, Path(path).resolve()) for name, path in (t.split("=", 1) for t in args.tree)]
    runs: dict[str, list[list[float]]] = {name: [] for name, _ in trees}
    for _ in range(args.reps):
        for name, tree in trees:
            runs[name].append(_one(tree, args.steps))
    print(f"W2, {args.steps} steps, CPU µs per step by tenth (median of {args.reps} runs)")
    for name, _ in trees:
        tenths = [statistics.median(run[i] for run in runs[name]) for i in range(TENTHS)]
        means = [statistics.mean(run) for run in runs[name]]
        print(
            f"  {name:>8}: " + " ".join(f"{value:5.0f}" for value in tenths),
            f"| mean {statistics.median(means):.0f} | last/first {tenths[-1] / tenths[0]:.2f}",
        )


if __name__ == "__main__":
    main()
