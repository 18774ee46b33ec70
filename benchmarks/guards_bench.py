"""Compiled guards against the equivalent hand-written lambdas: median ns per call and ratio.

Run: ``python benchmarks/guards_bench.py``. Not a test; numbers depend on the machine.
"""

from __future__ import annotations

import platform
import statistics
import timeit
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from fsm.datatypes import FLOAT, INT, STR, DictType, FieldDef, ListType, OptionalType, RecordType
from fsm.diagnostics import SourceSpan
from fsm.guards import GuardEnv, build_guard

REVIEW = RecordType("Review", (FieldDef("score", FLOAT), FieldDef("issues", ListType(STR))))
ENV = GuardEnv(
    {"review": OptionalType(REVIEW), "count": INT, "title": STR, "scores": DictType(FLOAT)},
    ("drafting", "reviewing"),
)
CONTEXT = SimpleNamespace(
    review=SimpleNamespace(score=0.7, issues=["tone"]),
    count=4,
    title="Guards in practice",
    scores={"clarity": 0.9},
)
VISITS = {"drafting": 2}

CASES: list[tuple[str, Callable[[Any, int, Any], bool]]] = [
    (
        "review.score >= 0.8",
        lambda ctx, steps, visits: ctx.review.score >= 0.8,
    ),
    (
        "review is not None and review.score < 0.8 and visits.drafting < 3",
        lambda ctx, steps, visits: (
            ctx.review is not None and ctx.review.score < 0.8 and visits.get("drafting", 0) < 3
        ),
    ),
    (
        "0 < count <= 10 and len(review.issues) > 0 and title.lower().startswith('guards')",
        lambda ctx, steps, visits: (
            0 < ctx.count <= 10
            and len(ctx.review.issues) > 0
            and ctx.title.lower().startswith("guards")
        ),
    ),
    (
        "scores['clarity'] is not None and scores['clarity'] > 0.5 and steps < 40",
        lambda ctx, steps, visits: (
            ctx.scores.get("clarity") is not None and ctx.scores.get("clarity") > 0.5 and steps < 40
        ),
    ),
]


def median_ns(function: Callable[[Any, int, Any], bool], calls: int = 200_000) -> float:
    names = {"function": function, "context": CONTEXT, "visits": VISITS}
    timer = timeit.Timer("function(context, 5, visits)", globals=names)
    runs = timer.repeat(repeat=7, number=calls)
    return statistics.median(runs) / calls * 1e9


def main() -> None:
    print(f"python {platform.python_version()} on {platform.machine()} ({platform.system()})")
    print(f"{'guard':<72} {'compiled':>9} {'lambda':>9} {'ratio':>6}")
    env = ENV
    for text, reference in CASES:
        guard_env = env if "review is not None" in text else narrowed(env)
        _, guard = build_guard(text, SourceSpan("<bench>", 1, 1), guard_env)
        assert guard(CONTEXT, 5, VISITS) == reference(CONTEXT, 5, VISITS)
        compiled, handwritten = median_ns(guard), median_ns(reference)
        label = text if len(text) <= 70 else text[:67] + "..."
        print(
            f"{label:<72} {compiled:>7.1f}ns {handwritten:>7.1f}ns {compiled / handwritten:>6.2f}"
        )


def narrowed(env: GuardEnv) -> GuardEnv:
    return GuardEnv(env.fields, env.states, frozenset({"review"}))


if __name__ == "__main__":
    main()
