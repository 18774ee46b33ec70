"""``fsm check`` on large specs, one checkout against another in one run.

    python -m benchmarks.check_bench --states 18 50 100 --reps 3 \\
        --tree before=/path/to/old/checkout --tree after=.

Each measurement is a fresh ``python -m fsm check`` process on a
``benchmarks.specgen.generate_record_chain`` spec, with ``PYTHONPATH`` pointing at one checkout.
The trees take turns within every repetition (before, after, before, after, ...), so load from
other processes on a shared machine hits both alike; medians and the ratio are printed, with
the CPU seconds of each process (less sensitive to that load than the wall clock).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.specgen import generate_record_chain


def _one(tree: Path, spec: Path) -> tuple[float, float, str]:
    """Wall and CPU seconds of one ``fsm check`` of ``spec`` run from ``tree``; its summary."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    done = subprocess.run(  # our own interpreter and module
        [sys.executable, "-m", "fsm", "check", str(spec)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.strip().splitlines()
    summary = lines[-1] if lines else done.stderr.strip()[-200:]
    return wall, cpu, summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.check_bench")
    parser.add_argument("--states", type=int, nargs="+", default=[18, 50, 100])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument(
        "--tree", action="append", required=True, help="NAME=PATH of a checkout (repeatable)"
    )
    args = parser.parse_args(argv)
    trees = [(name, Path(path).resolve()) for name, path in (t.split("=", 1) for t in args.tree)]
    with tempfile.TemporaryDirectory() as folder:
        for states in args.states:
            spec = Path(folder) / f"chain_{states}.yaml"
            spec.write_text(generate_record_chain(states), encoding="utf-8")
            walls: dict[str, list[float]] = {name: [] for name, _ in trees}
            cpus: dict[str, list[float]] = {name: [] for name, _ in trees}
            for rep in range(args.reps):
                for name, tree in trees:
                    wall, cpu, summary = _one(tree, spec)
                    walls[name].append(wall)
                    cpus[name].append(cpu)
                    print(f"{states} states, {name}, rep {rep + 1}: {wall:.1f} s ({cpu:.1f} s CPU)")
                    print(f"    {summary}", flush=True)
            first = trees[0][0]
            for name, _ in trees:
                wall, cpu = statistics.median(walls[name]), statistics.median(cpus[name])
                ratio = statistics.median(walls[first]) / wall
                print(
                    f"{states} states {name}: median {wall:.1f} s wall, {cpu:.1f} s CPU"
                    f" ({ratio:.2f}x against {first})",
                    flush=True,
                )


if __name__ == "__main__":
    main()
