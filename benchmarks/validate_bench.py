"""How long ``fsm validate`` takes on large generated specs (target: 1,000 states ≤ 1 s).

Run: ``python -m benchmarks.validate_bench [--states 1000] [--repeat 5]``. Prints the median and
the range of load + parse + validate, in process, and of the whole ``fsm validate`` command.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.specgen import generate_spec
from fsm.spec.parse import parse_spec
from fsm.spec.validate import validate


def time_in_process(text: str, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of load + parse + validate (CPU time is steadier on a
    shared machine)."""
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = validate(parse_spec(text, "generated.yaml"))
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        assert result.ok, result.errors[:3]
    return wall, cpu


def time_command(path: Path, repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "fsm", "validate", str(path)], check=True, capture_output=True
        )
        timings.append(time.perf_counter() - started)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(
        f"{'states':>7} {'transitions':>12} {'in-process median s':>20} {'min':>7} {'max':>7}"
        f" {'cpu median s':>13} {'fsm validate median s':>22}"
    )
    for states in args.states:
        text = generate_spec(states)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "generated.yaml"
            path.write_text(text, encoding="utf-8")
            inner, cpu = time_in_process(text, args.repeat)
            outer = time_command(path, args.repeat)
        print(
            f"{states:>7} {3 * states:>12} {statistics.median(inner):>20.3f} {min(inner):>7.3f}"
            f" {max(inner):>7.3f} {statistics.median(cpu):>13.3f}"
            f" {statistics.median(outer):>22.3f}"
        )


if __name__ == "__main__":
    main()
