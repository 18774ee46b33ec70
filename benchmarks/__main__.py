"""``python -m benchmarks``: every variant side by side, results in ``benchmarks/RESULTS.md``.

    python -m benchmarks                 # full run (~10 minutes on 2 cores)
    python -m benchmarks --quick         # small sizes, printed (RESULTS.md is left alone)
    python -m benchmarks profile-w1      # where ours spends a W1 step
    python -m benchmarks fusion-bound    # what fusing a step into one function could save
    python -m benchmarks worker ...      # one measurement (the runner starts these)

Installs nothing: peers are measured when importable (``pip install -e '.[bench]'``) and
listed as skipped otherwise. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from benchmarks.measure import SYNC_LEVELS
from benchmarks.variants import NAMES, OURS, variant_named

ALL_WORKLOADS = ("W1", "W2", "W3", "W4", "W5")
DEFAULT_OUT = Path(__file__).resolve().parent / "RESULTS.md"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Flow Orchestra against the SQLite floor, LangGraph, Burr and transitions.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and 2 repetitions (explicit options still win)",
    )
    parser.add_argument("--reps", type=int, help="repetitions of W1/W2 (default 5, quick 2)")
    parser.add_argument(
        "--full-reps", type=int, help="repetitions at synchronous=FULL (default 5, quick 2)"
    )
    parser.add_argument("--steps", type=int, help="W1 steps (default 1000, quick 200)")
    parser.add_argument("--w2-steps", type=int, help="W2 steps (default 1000, quick 200)")
    parser.add_argument("--w3-steps", type=int, help="W3 run length (default 10000, quick 2000)")
    parser.add_argument("--w3-reps", type=int, help="W3 load processes each (default 5, quick 2)")
    parser.add_argument("--w4-states", type=int, nargs="+", help="W4 sizes (default 100 1000)")
    parser.add_argument("--w5-calls", type=int, help="W5 calls per timing (default 200000)")
    parser.add_argument("--sync", nargs="+", choices=SYNC_LEVELS, default=list(SYNC_LEVELS))
    parser.add_argument("--variants", nargs="+", choices=NAMES, default=list(NAMES))
    parser.add_argument(
        "--workloads", nargs="+", choices=ALL_WORKLOADS, default=list(ALL_WORKLOADS)
    )
    parser.add_argument(
        "--no-fsync-audit", action="store_true", help="skip counting fsyncs per step under strace"
    )
    parser.add_argument(
        "--out",
        help="results file ('-' prints it instead; default: benchmarks/RESULTS.md, "
        "or '-' with --quick)",
    )
    return parser


def _destination(args: argparse.Namespace) -> str:
    """Where the results go: a quick run prints them unless told otherwise.

    RESULTS.md holds the committed full run the docs quote; two small repetitions must not
    silently replace it.
    """
    if args.out is not None:
        return str(args.out)
    return "-" if args.quick else str(DEFAULT_OUT)


def _pick(value: int | None, quick: bool, small: int, full: int) -> int:
    if value is not None:
        return value
    return small if quick else full


def run(argv: list[str]) -> None:
    from benchmarks.report import render
    from benchmarks.runner import Plan, run_plan

    args = _parser().parse_args(argv)
    chosen = [name for name in args.variants if variant_named(name).available()]
    for name in args.variants:
        if name not in chosen:
            print(
                f"skipping {name}: {', '.join(variant_named(name).requires)} not installed "
                "(pip install -e '.[bench]')",
                file=sys.stderr,
            )
    quick = args.quick
    plan = Plan(
        variants=tuple(name for name in NAMES if name in chosen),
        workloads=frozenset(args.workloads),
        syncs=tuple(level for level in SYNC_LEVELS if level in args.sync),
        reps=_pick(args.reps, quick, 2, 5),
        full_reps=_pick(args.full_reps, quick, 2, 5),
        steps=_pick(args.steps, quick, 200, 1000),
        w2_steps=_pick(args.w2_steps, quick, 200, 1000),
        w3_steps=_pick(args.w3_steps, quick, 2000, 10_000),
        w3_reps=_pick(args.w3_reps, quick, 2, 5),
        w4_states=tuple(args.w4_states or ([100] if quick else [100, 1000])),
        w4_repeat=2 if quick else 3,
        w5_calls=_pick(args.w5_calls, quick, 20_000, 200_000),
        fsync_audit=not args.no_fsync_audit and "full" in args.sync and "W1" in args.workloads,
        profile=OURS in chosen,
    )
    began = time.perf_counter()
    results = run_plan(plan, lambda line: print(line, file=sys.stderr, flush=True))
    command = shlex.join(["python", "-m", "benchmarks", *argv])
    text = render(results, command)
    text += f"\nWhole run: {time.perf_counter() - began:.0f} s.\n"
    out = _destination(args)
    if out == "-":
        print(text)
    else:
        Path(out).write_text(text, encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


def main(argv: list[str]) -> None:
    if argv[:1] == ["worker"]:
        from benchmarks.worker import main as worker_main

        worker_main(argv[1:])
    elif argv[:1] == ["profile-w1"]:
        from benchmarks.profile_w1 import main as profile_main

        options = argparse.ArgumentParser(prog="python -m benchmarks profile-w1")
        options.add_argument("--steps", type=int, default=2000)
        options.add_argument("--sync", choices=SYNC_LEVELS, default="normal")
        options.add_argument("--top", type=int, default=25)
        parsed = options.parse_args(argv[1:])
        profile_main(parsed.steps, parsed.sync, parsed.top)
    elif argv[:1] == ["fusion-bound"]:
        from benchmarks.fusion_bound import main as fusion_main

        options = argparse.ArgumentParser(
            prog="python -m benchmarks fusion-bound",
            description="W1 steps through RunHandle.step() and fused into one function by hand.",
        )
        options.add_argument("--steps", type=int, default=3000, help="W1 steps per run")
        options.add_argument("--rounds", type=int, default=7, help="runs of each, interleaved")
        parsed = options.parse_args(argv[1:])
        fusion_main(parsed.steps, parsed.rounds)
    else:
        run(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
