"""Run every variant of every workload interleaved, each measurement in its own process.

Order within a repetition is A B C …, then again A B C …, so a burst of machine noise hits
every variant alike; each step measurement gets a fresh database in a fresh temporary folder.
The fsync audit runs each variant's W1 under ``strace -c`` at two lengths and divides the
difference in ``fsync``/``fdatasync`` calls by the difference in steps (setup cancels out).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

REPO = Path(__file__).resolve().parent.parent
Progress = Callable[[str], None]


@attrs.frozen
class Plan:
    """What to run; ``python -m benchmarks --help`` documents each knob."""

    variants: tuple[str, ...]
    workloads: frozenset[str]
    syncs: tuple[str, ...]
    reps: int
    full_reps: int
    steps: int
    w2_steps: int
    w3_steps: int
    w3_reps: int
    w4_states: tuple[int, ...]
    w4_repeat: int
    w5_calls: int
    fsync_audit: bool
    profile: bool


@attrs.frozen
class StepSample:
    """One variant's run of one step workload (all times in µs)."""

    variant: str
    workload: str
    sync: str
    rep: int
    """Which repetition: the variants of one repetition ran back to back (paired ratios)."""
    steps: int
    step_us: tuple[float, ...]
    bytes: int
    written: int
    journal_mode: str
    synchronous: str

    @property
    def median_us(self) -> float:
        """The typical step: robust to scheduler hiccups on a shared machine."""
        return statistics.median(self.step_us)

    @property
    def mean_us(self) -> float:
        """Total time / steps: includes the occasional WAL checkpoint and any noise."""
        return sum(self.step_us) / len(self.step_us)

    @property
    def early_us(self) -> float:
        return statistics.median(self.step_us[: max(1, len(self.step_us) // 10)])

    @property
    def late_us(self) -> float:
        return statistics.median(self.step_us[-max(1, len(self.step_us) // 10) :])


@attrs.frozen
class LoadSample:
    variant: str
    steps: int
    first_us: float
    warm_us: float


@attrs.frozen
class Results:
    plan: Plan
    steps: tuple[StepSample, ...]
    loads: tuple[LoadSample, ...]
    fsyncs: dict[str, float | None]
    w4: tuple[dict[str, Any], ...]
    w5: tuple[dict[str, Any], ...]
    profile: dict[str, Any] | None


def worker(task: str, *options: str, prefix: Sequence[str] = ()) -> dict[str, Any]:
    """Run ``python -m benchmarks worker`` in a fresh process and return its JSON answer."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [*prefix, sys.executable, "-m", "benchmarks", "worker", task, *options]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"worker {task} {' '.join(options)} failed (exit {done.returncode}):\n"
            + done.stderr[-3000:]
        )
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def run_plan(plan: Plan, progress: Progress) -> Results:
    steps = tuple(_step_samples(plan, progress))
    loads = tuple(_load_samples(plan, progress)) if "W3" in plan.workloads else ()
    fsyncs = _fsync_audit(plan, progress) if plan.fsync_audit else {}
    w4: tuple[dict[str, Any], ...] = ()
    if "W4" in plan.workloads:
        progress("W4 validate/generate")
        states = [str(n) for n in plan.w4_states]
        answer = worker("w4", "--states", *states, "--repeat", str(plan.w4_repeat))
        w4 = tuple(answer["rows"])
    w5: tuple[dict[str, Any], ...] = ()
    if "W5" in plan.workloads:
        progress("W5 compiled guards vs lambdas")
        w5 = tuple(worker("w5", "--calls", str(plan.w5_calls))["rows"])
    profile = None
    if plan.profile and "W1" in plan.workloads:
        progress("profile of ours, W1")
        profile = worker("profile", "--steps", str(2 * plan.steps), "--sync", "normal")
    return Results(plan, steps, loads, fsyncs, w4, w5, profile)


def _step_samples(plan: Plan, progress: Progress) -> list[StepSample]:
    samples = []
    for sync in plan.syncs:
        for workload, steps in (("W1", plan.steps), ("W2", plan.w2_steps)):
            if workload not in plan.workloads:
                continue
            reps = plan.full_reps if sync == "full" else plan.reps
            for rep in range(1, reps + 1):
                for variant in plan.variants:
                    with tempfile.TemporaryDirectory(prefix="fsm-bench-") as folder:
                        answer = worker(
                            "steps",
                            "--variant",
                            variant,
                            "--workload",
                            workload,
                            "--steps",
                            str(steps),
                            "--sync",
                            sync,
                            "--db",
                            str(Path(folder) / "bench.db"),
                        )
                    sample = StepSample(
                        variant,
                        workload,
                        sync,
                        rep,
                        steps,
                        tuple(answer["step_us"]),
                        answer["bytes"],
                        answer["written"],
                        answer["journal_mode"],
                        answer["synchronous"],
                    )
                    progress(
                        f"{workload} {sync:<6} rep {rep}/{reps} {variant:<13}"
                        f" median {sample.median_us:8.1f} µs/step, mean {sample.mean_us:8.1f}"
                    )
                    samples.append(sample)
    return samples


def _load_samples(plan: Plan, progress: Progress) -> list[LoadSample]:
    samples = []
    with tempfile.TemporaryDirectory(prefix="fsm-bench-w3-") as folder:
        paths = {}
        for variant in plan.variants:
            progress(f"W3 preparing a {plan.w3_steps:,}-step run for {variant}")
            paths[variant] = Path(folder) / f"{variant}.db"
            worker(
                "prepare",
                "--variant",
                variant,
                "--workload",
                "W1",
                "--steps",
                str(plan.w3_steps),
                "--db",
                str(paths[variant]),
            )
        for rep in range(1, plan.w3_reps + 1):
            for variant in plan.variants:
                answer = worker(
                    "load",
                    "--variant",
                    variant,
                    "--workload",
                    "W1",
                    "--steps",
                    str(plan.w3_steps),
                    "--db",
                    str(paths[variant]),
                )
                progress(
                    f"W3 rep {rep}/{plan.w3_reps} {variant:<13} {answer['first_us'] / 1e3:8.2f} ms"
                )
                samples.append(
                    LoadSample(variant, plan.w3_steps, answer["first_us"], answer["warm_us"])
                )
    return samples


def strace_works() -> bool:
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(
        ["strace", "-f", "-c", "-o", os.devnull, sys.executable, "-c", "pass"],
        capture_output=True,
        check=False,
    )
    return probe.returncode == 0


def _fsync_audit(plan: Plan, progress: Progress) -> dict[str, float | None]:
    """fsync + fdatasync calls per W1 step at synchronous=FULL, per variant (None: no strace)."""
    if not strace_works():
        return dict.fromkeys(plan.variants)
    short, long = 50, 250
    counts: dict[str, float | None] = {}
    for variant in plan.variants:
        calls = []
        for steps in (short, long):
            with tempfile.TemporaryDirectory(prefix="fsm-bench-fsync-") as folder:
                report = Path(folder) / "strace.txt"
                prefix = ("strace", "-f", "-c", "-e", "trace=fsync,fdatasync", "-o", str(report))
                worker(
                    "steps",
                    "--variant",
                    variant,
                    "--workload",
                    "W1",
                    "--steps",
                    str(steps),
                    "--sync",
                    "full",
                    "--db",
                    str(Path(folder) / "bench.db"),
                    prefix=prefix,
                )
                calls.append(_syscall_total(report.read_text()))
        counts[variant] = (calls[1] - calls[0]) / (long - short)
        progress(f"fsync audit {variant:<13} {counts[variant]:.2f} fsync/step at FULL")
    return counts


def _syscall_total(strace_summary: str) -> int:
    total = 0
    for line in strace_summary.splitlines():
        fields = line.split()
        if fields and fields[-1] in {"fsync", "fdatasync"}:
            total += int(fields[3])
    return total
