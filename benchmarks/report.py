"""Turn measurements into ``RESULTS.md``: machine, versions, one table per workload, targets.

The headline per-step figure of a run is its median step (robust to a noisy, shared machine);
over repetitions we print the median, min and max of those, and ratios of the medians. The
mean per step (total time / steps: WAL checkpoints and hiccups included) is printed beside it.
The targets also give each ratio paired: the median over repetitions of the ratio within one
repetition, whose variants ran back to back, so a slow phase of the machine that spans a few
repetitions moves both sides of a ratio instead of one.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import time
from collections.abc import Iterable
from importlib import metadata

from benchmarks.runner import REPO, LoadSample, Results, StepSample
from benchmarks.variants import FLOOR, OURS, variant_named
from benchmarks.workloads import appended_bytes

PACKAGES = (
    "flow-orchestra",
    "transitions",
    "attrs",
    "cattrs",
    "langgraph",
    "langgraph-checkpoint",
    "langgraph-checkpoint-sqlite",
    "apache-burr",
    "orjson",
)


def machine() -> list[str]:
    """Date, machine, Python, SQLite and package versions, as report lines."""
    versions = []
    for package in PACKAGES:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M %Z')}; commit {_commit()}",
        f"- machine: {platform.machine()} {platform.system()} {platform.release()}, "
        f"nproc {os.cpu_count()}, CPU {_cpu_model()}",
        f"- Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}",
        f"- packages: {', '.join(versions)}",
    ]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    """The commit measured: from git, or for an exported tree (``git archive``, no ``.git``)
    from ``FSM_BENCH_COMMIT``, which the export recipe in docs/benchmarks.md sets."""
    exported = os.environ.get("FSM_BENCH_COMMIT")
    if exported and not (REPO / ".git").exists():
        return f"{exported} (exported tree)"
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    commit = done.stdout.strip() or "unknown"
    dirty = subprocess.run(
        [
            "git",
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
            "fsm",
            "codegen",
            "benchmarks",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    return commit + (" plus uncommitted changes" if dirty.stdout.strip() else "")


def _median(values: Iterable[float]) -> float:
    return statistics.median(list(values))


def _by_variant(samples: Iterable[StepSample]) -> dict[str, list[StepSample]]:
    grouped: dict[str, list[StepSample]] = {}
    for sample in samples:
        grouped.setdefault(sample.variant, []).append(sample)
    return grouped


def step_medians(results: Results, workload: str, sync: str) -> dict[str, float]:
    """Median over repetitions of each variant's median µs per step."""
    chosen = [s for s in results.steps if s.workload == workload and s.sync == sync]
    return {v: _median(s.median_us for s in ss) for v, ss in _by_variant(chosen).items()}


def step_means(results: Results, workload: str, sync: str) -> dict[str, float]:
    """Median over repetitions of each variant's mean µs per step."""
    chosen = [s for s in results.steps if s.workload == workload and s.sync == sync]
    return {v: _median(s.mean_us for s in ss) for v, ss in _by_variant(chosen).items()}


def paired_ratio(
    results: Results, workload: str, sync: str, variant: str, reference: str
) -> float | None:
    """Median over repetitions of (variant's median step / reference's median step) within
    the same repetition; None when no repetition has both."""
    by_rep: dict[int, dict[str, float]] = {}
    for sample in results.steps:
        if sample.workload == workload and sample.sync == sync:
            by_rep.setdefault(sample.rep, {})[sample.variant] = sample.median_us
    ratios = [
        medians[variant] / medians[reference]
        for medians in by_rep.values()
        if variant in medians and reference in medians
    ]
    return _median(ratios) if ratios else None


def _paired(ratio: float | None) -> str:
    return "" if ratio is None else f"; paired {ratio:.2f}x"


def _ratio(value: float, reference: float | None) -> str:
    return f"{value / reference:.2f}x" if reference else "-"


def _speed(ours: float, theirs: float) -> str:
    if theirs >= ours:
        return f"{theirs / ours:.1f}x faster"
    return f"{ours / theirs:.1f}x slower"


def step_table(results: Results, workload: str, sync: str) -> list[str]:
    chosen = [s for s in results.steps if s.workload == workload and s.sync == sync]
    if not chosen:
        return []
    grouped = _by_variant(chosen)
    ours = _median(s.median_us for s in grouped[OURS]) if OURS in grouped else None
    steps = chosen[0].steps
    head = (
        "| variant | median µs/step | min | max | mean µs/step | vs ours | ours is "
        "| written B/step | journal/sync |"
    )
    rule = "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    if workload == "W2":
        head += " steps 1-10% µs | last 10% µs | late/early | bytes/step |"
        rule += "---:|---:|---:|---:|"
    lines = [
        f"### {workload} at synchronous={sync.upper()} ({steps:,} steps, "
        f"{len(grouped[chosen[0].variant])} repetitions)",
        "",
        head,
        rule,
    ]
    for variant, samples in grouped.items():
        medians = [s.median_us for s in samples]
        median = _median(medians)
        mean = _median(s.mean_us for s in samples)
        faster = _speed(ours, median) if ours and variant != OURS else "-"
        modes = sorted({f"{s.journal_mode}/{s.synchronous}" for s in samples})
        row = (
            f"| {variant} | {median:,.1f} | {min(medians):,.1f} | {max(medians):,.1f} | "
            f"{mean:,.1f} | {_ratio(median, ours)} | {faster} | "
            f"{_median(s.written for s in samples) / steps:,.0f} | {', '.join(modes)} |"
        )
        if workload == "W2":
            early = _median(s.early_us for s in samples)
            late = _median(s.late_us for s in samples)
            per_step = _median(s.bytes for s in samples) / steps
            row += f" {early:,.1f} | {late:,.1f} | {late / early:.2f}x | {per_step:,.0f} |"
        lines.append(row)
    return [*lines, ""]


def load_table(loads: tuple[LoadSample, ...]) -> list[str]:
    if not loads:
        return []
    grouped: dict[str, list[LoadSample]] = {}
    for sample in loads:
        grouped.setdefault(sample.variant, []).append(sample)
    ours = _median(s.first_us for s in grouped[OURS]) if OURS in grouped else None
    lines = [
        f"### W3 resume: load the state at step {loads[0].steps:,} "
        f"({len(next(iter(grouped.values())))} fresh processes each)",
        "",
        "| variant | first load ms (median) | min | max | vs ours | warm reload ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for variant, samples in grouped.items():
        first = [s.first_us / 1e3 for s in samples]
        median = _median(first)
        warm = _median(s.warm_us / 1e3 for s in samples)
        lines.append(
            f"| {variant} | {median:.3f} | {min(first):.3f} | {max(first):.3f} | "
            f"{_ratio(median * 1e3, ours)} | {warm:.3f} |"
        )
    return [*lines, ""]


def tools_tables(results: Results) -> list[str]:
    lines = []
    if results.w4:
        lines += [
            "### W4 `fsm validate` / `fsm generate` on generated specs (in process)",
            "",
            "| states | validate s (median) | min | max | generate s (median) | min | max |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in results.w4:
            v, g = row["validate_s"], row["generate_s"]
            lines.append(
                f"| {row['states']:,} | {v[0]:.3f} | {v[1]:.3f} | {v[2]:.3f} | "
                f"{g[0]:.3f} | {g[1]:.3f} | {g[2]:.3f} |"
            )
        lines.append("")
    if results.w5:
        lines += [
            "### W5 compiled guard vs hand-written lambda (ns per call, medians)",
            "",
            "| guard | compiled | lambda | ratio |",
            "|---|---:|---:|---:|",
        ]
        for row in results.w5:
            c, h = row["compiled_ns"], row["lambda_ns"]
            lines.append(f"| `{row['guard']}` | {c:.0f} | {h:.0f} | {c / h:.2f}x |")
        lines.append("")
    return lines


def fsync_table(results: Results) -> list[str]:
    if not results.fsyncs:
        return []
    lines = [
        "### fsync audit: `fsync`+`fdatasync` calls per W1 step at synchronous=FULL "
        "(strace, 250 - 50 steps)",
        "",
        "| variant | fsyncs per step |",
        "|---|---:|",
    ]
    for variant, count in results.fsyncs.items():
        lines.append(f"| {variant} | {'n/a (no strace)' if count is None else f'{count:.2f}'} |")
    return [*lines, ""]


def targets(results: Results) -> list[str]:
    """Each target of issue 6 with the measured figure and whether it is met."""
    lines = ["## Targets (issue 6)", ""]

    def verdict(ok: bool) -> str:
        return "met" if ok else "**not met**"

    for sync, limit in (("normal", 2.0), ("full", 1.3)):
        medians = step_medians(results, "W1", sync)
        if OURS in medians and FLOOR in medians:
            ratio = medians[OURS] / medians[FLOOR]
            paired = paired_ratio(results, "W1", sync, OURS, FLOOR)
            lines.append(
                f"- W1 at {sync.upper()}: ours {medians[OURS]:,.1f} µs vs floor "
                f"{medians[FLOOR]:,.1f} µs = {ratio:.2f}x{_paired(paired)} "
                f"(target ≤ {limit}x): {verdict(ratio <= limit)}"
            )
    # The peer targets name no workload: each step workload gets its own verdict.
    for workload in ("W1", "W2"):
        for sync in ("normal", "full"):
            lines.extend(_peer_targets(results, workload, sync))
    if results.fsyncs.get(OURS) is not None:
        count = results.fsyncs[OURS]
        assert count is not None
        lines.append(
            f"- W1 at FULL: {count:.2f} fsync per step (target exactly 1): "
            f"{verdict(0.95 <= count <= 1.1)}"
        )
    ours_w2 = [s for s in results.steps if s.workload == "W2" and s.variant == OURS]
    if ours_w2:
        per_step = _median(s.bytes for s in ours_w2) / ours_w2[0].steps
        ratio = per_step / appended_bytes()
        lines.append(
            f"- W2 bytes on disk per step: {per_step:,.0f} B for {appended_bytes():,} B "
            f"appended = {ratio:.2f}x (target ≤ 2x): {verdict(ratio <= 2)}"
        )
        for sync in sorted({s.sync for s in ours_w2}):
            measured = _early_late(results, OURS, sync)
            assert measured is not None  # ours ran W2 at this level
            early, late = measured
            growth = late / early
            line = f"- W2 at {sync.upper()}: late/early {late:,.1f}/{early:,.1f} µs = {growth:.2f}x"
            floor = _early_late(results, FLOOR, sync)
            if floor is not None:  # judged against the floor's, whose work per step is fixed
                growth /= floor[1] / floor[0]
                line += f", the floor's {floor[1] / floor[0]:.2f}x: {growth:.2f}x the floor's"
            lines.append(f"{line} (target ≤ 1.2x): {verdict(growth <= 1.2)}")
    ours_w3 = [s.first_us for s in results.loads if s.variant == OURS]
    if ours_w3:
        ms = _median(ours_w3) / 1e3
        lines.append(
            f"- W3 resume at step {results.loads[0].steps:,}: {ms:.2f} ms "
            f"(target ≤ 5 ms): {verdict(ms <= 5)}"
        )
    if results.w5:
        worst = max(row["compiled_ns"] / row["lambda_ns"] for row in results.w5)
        lines.append(
            f"- W5: worst compiled/lambda ratio {worst:.2f}x (target ≤ 1.5x): "
            f"{verdict(worst <= 1.5)}"
        )
    return [*lines, ""]


def _early_late(results: Results, variant: str, sync: str) -> tuple[float, float] | None:
    """(early, late) median W2 step of ``variant``: medians over repetitions, None if unmeasured.

    Both sides move with the SQLite files too, not only with the state: at FULL the last
    steps, written once the WAL has been checkpointed and is reused rather than grown, take
    about half as long for every variant, the floor included. The floor does the same work
    at every step, so its late/early is that effect alone, and ours is judged relative to it.
    """
    chosen = [s for s in results.steps if s.workload == "W2" and s.variant == variant]
    chosen = [s for s in chosen if s.sync == sync]
    if not chosen:
        return None
    return _median(s.early_us for s in chosen), _median(s.late_us for s in chosen)


def _peer_targets(results: Results, workload: str, sync: str) -> list[str]:
    """How many times as fast as Burr (target 4x) and LangGraph (20x) ours steps."""
    medians = step_medians(results, workload, sync)
    means = step_means(results, workload, sync)
    lines = []
    for peer, factor in (("burr", 4.0), ("burr-lmda", 4.0), ("langgraph", 20.0)):
        if OURS in medians and peer in medians:
            speedup = medians[peer] / medians[OURS]
            by_mean = means[peer] / means[OURS]
            paired = paired_ratio(results, workload, sync, peer, OURS)
            verdict = "met" if speedup >= factor else "**not met**"
            lines.append(
                f"- {workload} at {sync.upper()}: {speedup:.2f}x as fast as {peer} by median "
                f"step ({by_mean:.2f}x by mean{_paired(paired)}) (target ≥ {factor:.0f}x): "
                f"{verdict}{_floor_reach(medians, peer, factor)}"
            )
    return lines


def _floor_reach(medians: dict[str, float], peer: str, factor: float) -> str:
    """Where a peer target is missed, how fast the floor itself is against that peer: the
    floor only serialises and INSERTs, so a target the floor misses too (or barely meets) is
    out of reach of any step that also routes and validates."""
    if FLOOR not in medians or medians[OURS] * factor <= medians[peer]:
        return ""
    floor_speedup = medians[peer] / medians[FLOOR]
    return f"; the floor itself is {floor_speedup:.2f}x as fast as {peer}"


def render(results: Results, command: str) -> str:
    """The whole RESULTS.md text."""
    plan = results.plan
    lines = [
        "# Benchmark results",
        "",
        f"Reproduce: `{command}` (see docs/benchmarks.md).",
        "",
        *machine(),
        "",
        "## Variants",
        "",
    ]
    for name in plan.variants:
        lines.append(f"- **{name}**: {variant_named(name).description}")
    lines += ["", *targets(results), "## Tables", ""]
    for sync in plan.syncs:
        lines += step_table(results, "W1", sync)
    for sync in plan.syncs:
        lines += step_table(results, "W2", sync)
    lines += fsync_table(results)
    lines += load_table(results.loads)
    lines += tools_tables(results)
    if results.profile:
        lines += [
            f"## Where ours spends a W1 step (cProfile; unprofiled median "
            f"{results.profile['per_step_us']:.1f} µs/step)",
            "",
            "Reproduce with `python -m benchmarks profile-w1` (adds the cumulative view).",
            "",
            "```",
            results.profile["text"].rstrip(),
            "```",
            "",
        ]
    return "\n".join(lines).rstrip() + "\n"
