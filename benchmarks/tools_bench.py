"""W4 (``fsm validate`` and ``fsm generate`` on generated specs) and W5 (compiled guards
against hand-written lambdas): measurements of ours alone, there is no peer equivalent.

W4 times the in-process path of each command (load + parse + validate; load + check +
codegen + write into a fresh folder) on ``benchmarks.specgen`` specs. W5 alternates compiled
and lambda timings (compiled, lambda, compiled, …) so machine noise hits both alike.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import timeit
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.guards_bench import CASES, CONTEXT, ENV, VISITS, narrowed
from benchmarks.specgen import generate_spec
from codegen.generate import generate
from fsm.diagnostics import SourceSpan
from fsm.guards import build_guard
from fsm.spec.parse import load_spec
from fsm.spec.validate import validate


def _median_seconds(action: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        timings.append(time.perf_counter() - began)
    return statistics.median(timings), min(timings), max(timings)


def measure_w4(state_counts: list[int], repeat: int) -> list[dict[str, Any]]:
    """Seconds for validate and generate per spec size: (median, min, max) each."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for states in state_counts:
            spec = Path(folder) / f"generated_{states}.yaml"
            spec.write_text(generate_spec(states), encoding="utf-8")
            outputs = (Path(folder) / f"out_{states}_{n}" for n in range(10**6))

            def check(path: Path = spec) -> None:
                assert validate(load_spec(path)).ok

            def codegen(path: Path = spec, into: Iterator[Path] = outputs) -> None:
                generate(path, next(into))

            rows.append(
                {
                    "states": states,
                    "validate_s": _median_seconds(check, repeat),
                    "generate_s": _median_seconds(codegen, repeat),
                }
            )
    return rows


def _ns_per_call(function: Callable[..., bool], calls: int) -> float:
    timer = timeit.Timer(
        "function(context, 5, visits)",
        globals={"function": function, "context": CONTEXT, "visits": VISITS},
    )
    return timer.timeit(number=calls) / calls * 1e9


def measure_w5(calls: int, rounds: int = 7) -> list[dict[str, Any]]:
    """Median ns per call of each compiled guard and its lambda, timed alternately."""
    rows = []
    for text, handwritten in CASES:
        guard_env = ENV if "review is not None" in text else narrowed(ENV)
        _, compiled = build_guard(text, SourceSpan("<bench>", 1, 1), guard_env)
        assert compiled(CONTEXT, 5, VISITS) == handwritten(CONTEXT, 5, VISITS)
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(_ns_per_call(compiled, calls))
            theirs.append(_ns_per_call(handwritten, calls))
        rows.append(
            {
                "guard": text,
                "compiled_ns": statistics.median(ours),
                "lambda_ns": statistics.median(theirs),
            }
        )
    return rows
