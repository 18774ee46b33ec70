"""The values a store keeps: a run's head (``RunRecord``), one record per transition
(``Snapshot``) and the state rebuilt from them (``RunState``).

All payloads are JSON-ready data (``dict`` with ``str`` keys, ``list``, ``str``, ``int``,
``float``, ``bool``, ``None``) so every backend stores them the same way. The values are frozen;
the mappings inside them are shared, never copied, and must be treated as read-only.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, TypeAlias, TypedDict, TypeVar, get_args

import attrs

from fsm.errors import CorruptionError

RunStatus = Literal["running", "waiting", "completed", "failed"]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
_STATUS_SET = frozenset(RUN_STATUSES)

JsonValue: TypeAlias = object
"""JSON-ready data; spelled out so signatures say what they hold (the checker cannot)."""


class Frame(TypedDict):
    """The full state after a record: what a frame record stores so replay can start there."""

    context: dict[str, JsonValue]
    state: str
    steps: int
    visits: dict[str, int]


def new_run_id() -> str:
    """A 32-hex-digit id that sorts by creation time (48-bit milliseconds, 80 random bits)."""
    millis = time.time_ns() // 1_000_000
    return f"{millis:012x}{os.urandom(10).hex()}"


def _check_status(_instance: object, name: str, value: str) -> None:
    if value not in RUN_STATUSES:
        expected = ", ".join(RUN_STATUSES)
        raise ValueError(f"{name} must be one of {expected}; got {value!r}")


def _check_seq(_instance: object, name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0; got {value}")


@attrs.frozen(kw_only=True)
class RunRecord:
    """A run's head: identity, where it is now, and who works on it.

    ``seq`` is the seq of the newest record; ``status`` and ``state`` are the run's current
    ones. ``parent_run_id``/``parent_seq`` name the point a fork started from;
    ``lease_owner``/``lease_expires_at`` are set by ``claim`` and cleared by ``release``.
    """

    run_id: str
    workflow: str
    spec_hash: str
    spec_path: str
    status: RunStatus
    state: str
    seq: int = 0
    waiting_for: tuple[str, ...] = ()
    error: str | None = None
    created_at: float
    updated_at: float
    parent_run_id: str | None = None
    parent_seq: int | None = None
    lease_owner: str | None = None
    lease_expires_at: float | None = None

    def __attrs_post_init__(self) -> None:
        # One hook rather than attrs validators: a head is built on every step.
        if self.seq < 0 or self.status not in _STATUS_SET:
            _check_seq(self, "seq", self.seq)
            _check_status(self, "status", self.status)


@attrs.frozen(kw_only=True)
class Snapshot:
    """One transition of a run, stored as the change it made.

    ``changes`` maps a context field to its new value (``replace`` fields); ``appended`` maps a
    field to the items added to it (``append`` fields), so a record grows with what changed,
    not with the context. ``frame`` holds the full state after this record on frame records
    (seq 0, forks, and the K-th seqs the frame rule keeps) and is ``None`` otherwise.
    ``status`` is the run's status after this step. Seq 0 is the start record: no source,
    always a frame. ``failed_attempts`` holds the errors of the agent's attempts before the
    one ``attempt`` counts (retried failures; the last attempt's own error is ``error``).
    """

    run_id: str
    seq: int
    source: str | None
    target: str
    event: str | None = None
    rule: str | None = None
    changes: Mapping[str, JsonValue] = attrs.field(factory=dict)
    appended: Mapping[str, Sequence[JsonValue]] = attrs.field(factory=dict)
    output: JsonValue = None
    error: str | None = None
    attempt: int = 1
    failed_attempts: Sequence[str] = attrs.field(default=(), converter=tuple)
    started_at: float
    duration_ms: float = 0.0
    spec_hash: str
    status: RunStatus
    frame: Frame | None = None

    def __attrs_post_init__(self) -> None:
        # One hook rather than attrs validators: a record is built on every step.
        if self.seq < 0 or self.status not in _STATUS_SET:
            _check_seq(self, "seq", self.seq)
            _check_status(self, "status", self.status)
        if self.seq == 0 and (self.source is not None or self.frame is None):
            raise ValueError(
                f"run {self.run_id}: the start record (seq 0) needs a frame and no source"
            )
        if self.seq > 0 and self.source is None:
            raise ValueError(f"run {self.run_id} seq {self.seq}: a transition needs a source")
        both = self.appended and set(self.changes).intersection(self.appended)
        if both:
            raise ValueError(
                f"run {self.run_id} seq {self.seq}: fields {sorted(both)} are both replaced and"
                " appended to; a field has one merge policy"
            )
        if self.attempt < 1:
            raise ValueError(f"attempt is counted from 1; got {self.attempt}")


@attrs.frozen(kw_only=True)
class RunState:
    """A run's full state at one seq: what replay rebuilds and what a fork starts from.

    ``steps`` counts transitions taken (a fork inherits its parent's); ``visits`` counts how
    often each state was entered, the initial state counting once at seq 0.
    """

    context: dict[str, JsonValue]
    state: str
    steps: int
    visits: dict[str, int]
    seq: int
    status: RunStatus


_Record = TypeVar("_Record", bound=attrs.AttrsInstance)


def unchecked_constructor(cls: type[_Record]) -> Callable[..., _Record]:
    """A constructor of the frozen, slotted attrs class ``cls`` that takes every field by
    keyword (defaults included) and skips ``__attrs_post_init__``: for the runtime, which
    builds a record and a head on every step from values that satisfy those checks by
    construction. It sets each slot through its descriptor, which costs half of attrs'
    ``__init__`` (frozen classes go through ``object.__setattr__`` there).

    The generated source holds only the class's own field names, never data."""
    names = [field.name for field in attrs.fields(cls)]
    namespace: dict[str, object] = {"_new": object.__new__, "_cls": cls}
    lines = [f"def build(*, {', '.join(names)}):", "    record = _new(_cls)"]
    for name in names:
        namespace[f"_set_{name}"] = cls.__dict__[name].__set__
        lines.append(f"    _set_{name}(record, {name})")
    lines.append("    return record")
    exec("\n".join(lines), namespace)  # noqa: S102 - the text above holds field names only
    build = namespace["build"]
    assert callable(build)
    return build


unchecked_snapshot: Callable[..., Snapshot] = unchecked_constructor(Snapshot)
"""``Snapshot(...)`` without its checks: every field by keyword."""
unchecked_run_record: Callable[..., RunRecord] = unchecked_constructor(RunRecord)
"""``RunRecord(...)`` without its checks: every field by keyword."""


def run_from_columns(row: Sequence[Any], waiting_for: tuple[str, ...]) -> RunRecord:
    """A ``RunRecord`` from a row in the backends' shared run column order (run_id, workflow,
    spec_hash, spec_path, status, state, seq, waiting_for, error, created_at, updated_at,
    parent_run_id, parent_seq, lease_owner, lease_expires_at); each backend decodes its own
    ``waiting_for`` column (a JSON text in SQLite, an array in PostgreSQL).

    The runs row carries no checksum: a row edited by hand into one no writer makes (a status
    such as ``'cancelled'``, a negative seq) is ``CorruptionError`` naming the run, so one bad
    row is reported, not a traceback out of ``fsm runs``."""
    try:
        return _run_from_columns(row, waiting_for)
    except (ValueError, TypeError) as exc:
        raise CorruptionError(
            f"run {row[0]}: its row in the runs table is not one Flow Orchestra writes ({exc});"
            " it was edited by hand. Restore it from a backup, or set its columns back to"
            " values a run can have",
            run_id=str(row[0]),
        ) from exc


def _run_from_columns(row: Sequence[Any], waiting_for: tuple[str, ...]) -> RunRecord:
    return RunRecord(
        run_id=row[0],
        workflow=row[1],
        spec_hash=row[2],
        spec_path=row[3],
        status=row[4],
        state=row[5],
        seq=row[6],
        waiting_for=waiting_for,
        error=row[8],
        created_at=row[9],
        updated_at=row[10],
        parent_run_id=row[11],
        parent_seq=row[12],
        lease_owner=row[13],
        lease_expires_at=row[14],
    )


def run_columns(run: RunRecord, waiting_for: object) -> tuple[object, ...]:
    """``run`` as a row in the backends' shared run column order (the inverse of
    ``run_from_columns``); each backend encodes its own ``waiting_for`` column."""
    return (
        run.run_id,
        run.workflow,
        run.spec_hash,
        run.spec_path,
        run.status,
        run.state,
        run.seq,
        waiting_for,
        run.error,
        run.created_at,
        run.updated_at,
        run.parent_run_id,
        run.parent_seq,
        run.lease_owner,
        run.lease_expires_at,
    )
