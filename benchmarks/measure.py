"""What one measurement returns, and the SQLite helpers every variant uses for equal settings.

Every variant writes to SQLite in WAL mode at the same ``synchronous`` level; peers get a
connection we opened and configured, and each variant reports the PRAGMAs its connection
actually has after the run (read back from SQLite, not echoed), so the report can show that
the durability was equal.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import attrs

T = TypeVar("T")
SYNC_LEVELS = ("normal", "full")
_SYNC_NAMES = {0: "off", 1: "normal", 2: "full", 3: "extra"}


@attrs.frozen
class StepRun:
    """One variant running one step workload in one fresh database."""

    step_seconds: tuple[float, ...]
    journal_mode: str
    synchronous: str
    final_context: dict[str, Any]


@attrs.frozen
class LoadRun:
    """One variant loading the head state of a long run, in a fresh process."""

    first_seconds: float
    warm_seconds: float
    context: dict[str, Any]


def check_sync(sync: str) -> str:
    if sync not in SYNC_LEVELS:
        raise ValueError(f"sync must be one of {SYNC_LEVELS}; got {sync!r}")
    return sync


def connect(path: Path, sync: str, **options: Any) -> sqlite3.Connection:
    """A connection in WAL mode at ``synchronous = sync``, the settings every variant gets."""
    db: sqlite3.Connection = sqlite3.connect(path, **options)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {check_sync(sync).upper()}")
    return db


def pragmas(db: sqlite3.Connection) -> tuple[str, str]:
    """(journal_mode, synchronous) as the connection reports them."""
    (journal,) = db.execute("PRAGMA journal_mode").fetchone()
    (sync,) = db.execute("PRAGMA synchronous").fetchone()
    return str(journal), _SYNC_NAMES.get(int(sync), str(sync))


def bytes_on_disk(path: Path) -> int:
    """The database's size once its WAL is checkpointed into it (WAL and all side files)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def timed_steps(step: Callable[[], object], count: int) -> tuple[float, ...]:
    """Seconds taken by each of ``count`` calls of ``step``."""
    clock = time.perf_counter
    times = []
    for _ in range(count):
        began = clock()
        step()
        times.append(clock() - began)
    return tuple(times)


def intervals(began: float, marks: Iterable[float]) -> tuple[float, ...]:
    """Durations between consecutive time marks, starting from ``began``."""
    times = []
    previous = began
    for mark in marks:
        times.append(mark - previous)
        previous = mark
    return tuple(times)


def time_load(
    load: Callable[[], T], context_of: Callable[[T], dict[str, Any]], repeat: int = 20
) -> LoadRun:
    """Time a first load (what a resuming process pays), then the median of warm ones;
    ``context_of`` turns what was loaded into a plain context, untimed, for the cross-check."""
    clock = time.perf_counter
    began = clock()
    loaded = load()
    first = clock() - began
    context = context_of(loaded)
    warm = []
    for _ in range(repeat):
        began = clock()
        load()
        warm.append(clock() - began)
    warm.sort()
    return LoadRun(first_seconds=first, warm_seconds=warm[len(warm) // 2], context=context)
