"""The variants compared, one module each, all with the same two entry points.

``run_steps(db_path, workload, sync) -> StepRun`` runs a step workload in a fresh database;
``load_head(db_path, workload) -> LoadRun`` loads the head state of a finished run. Peer modules
import their framework at the top, so they are only imported when the framework is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import attrs

from benchmarks.measure import LoadRun, StepRun
from benchmarks.workloads import Workload

RunSteps = Callable[[Path, Workload, str], StepRun]
LoadHead = Callable[[Path, Workload], LoadRun]


@attrs.frozen
class Variant:
    """One contender: its name in tables, its module and the packages it needs."""

    name: str
    module: str
    requires: tuple[str, ...]
    description: str

    def available(self) -> bool:
        return all(importlib.util.find_spec(package) is not None for package in self.requires)

    def entry_points(self) -> tuple[RunSteps, LoadHead]:
        module: Any = importlib.import_module(f"benchmarks.variants.{self.module}")
        if self.name == "floor-json":
            return partial(module.run_steps, dumps=module.json_dumps), module.load_head
        if self.name == "floor-orjson":
            return partial(module.run_steps, dumps=module.orjson_dumps), module.load_head
        if self.name == "burr-lmda":
            return partial(module.run_steps, routing="lmda"), module.load_head
        return module.run_steps, module.load_head


OURS = "ours"
FLOOR = "floor-json"
VARIANTS = (
    Variant(FLOOR, "floor", (), "json.dumps + INSERT + COMMIT, nothing else"),
    Variant("floor-orjson", "floor", ("orjson",), "orjson.dumps + INSERT + COMMIT"),
    Variant(OURS, "ours", (), "Flow Orchestra public API, guards and validation on"),
    Variant(
        "langgraph",
        "langgraph_peer",
        ("langgraph", "langgraph.checkpoint.sqlite"),
        "StateGraph + conditional edge + SqliteSaver, durability=sync",
    ),
    Variant(
        "burr",
        "burr_peer",
        ("burr",),
        "ApplicationBuilder + expr/default + SQLitePersister (as issue 6 names it)",
    ),
    Variant(
        "burr-lmda",
        "burr_peer",
        ("burr",),
        "the same with Condition.lmda: routing by a Python function, no expr compile per step",
    ),
    Variant(
        "transitions",
        "transitions_peer",
        ("transitions",),
        "Machine + lambda conditions + hand-written snapshot hook",
    ),
)
NAMES = tuple(variant.name for variant in VARIANTS)


def variant_named(name: str) -> Variant:
    for variant in VARIANTS:
        if variant.name == name:
            return variant
    raise ValueError(f"unknown variant {name!r}; choose from {', '.join(NAMES)}")
