"""``SqliteStore``: the embedded default store, one SQLite file in WAL mode.

Each write is one ``BEGIN IMMEDIATE`` transaction, so writers in other processes queue on the
file lock (up to ``busy_timeout``) and the compare-and-set on the head's seq lets exactly one of
them append each seq. SQL is static: values are always ``?`` parameters. One connection per
store object, shared by threads under a lock. Durability: ``normal`` (``synchronous=NORMAL``:
a commit survives a crash of the process, the last ones may be lost on power failure) or
``full`` (fsync on every commit). Details in ``docs/storage.md``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Literal, get_args

import attrs

from fsm.errors import ConflictError, CorruptionError, NotFoundError, StoreError
from fsm.store.base import (
    DEFAULT_FRAME_INTERVAL,
    check_append,
    check_interval,
    check_limit,
    check_start,
)
from fsm.store.codec import decode_snapshot, encode_snapshot
from fsm.store.records import RUN_STATUSES, RunRecord, RunState, RunStatus, Snapshot
from fsm.store.replay import full_frame, rebuild
from fsm.store.sqlite_schema import migrate, schema_version

Durability = Literal["normal", "full"]
DURABILITIES: tuple[Durability, ...] = get_args(Durability)

_SET_SYNCHRONOUS = {
    "normal": "PRAGMA synchronous = NORMAL",
    "full": "PRAGMA synchronous = FULL",
}
_SYNCHRONOUS_NAMES = {0: "off", 1: "normal", 2: "full", 3: "extra"}
_LAST_SEQ = 2**63 - 1

_INSERT_RUN = """
    INSERT INTO runs (
        run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
_SELECT_RUN = """
    SELECT run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    FROM runs WHERE run_id = ?
"""
_LIST_RUNS = """
    SELECT run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    FROM runs ORDER BY created_at DESC, run_id DESC LIMIT ?
"""
_LIST_RUNS_BY_STATUS = """
    SELECT run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    FROM runs WHERE status = ? ORDER BY created_at DESC, run_id DESC LIMIT ?
"""
_SELECT_HEAD = "SELECT seq, state FROM runs WHERE run_id = ?"
# Most transitions keep the run's status. Leaving ``status`` out of SET then spares the
# runs_by_status index entry, one page write less per commit; only a status change pays it.
_ADVANCE_HEAD = (
    "UPDATE runs SET seq = ?, state = ?, waiting_for = ?, error = ?, updated_at = ?"
    " WHERE run_id = ? AND seq = ? AND status = ?"
)
_ADVANCE_HEAD_AND_STATUS = (
    "UPDATE runs SET seq = ?, state = ?, waiting_for = ?, error = ?, updated_at = ?, status = ?"
    " WHERE run_id = ? AND seq = ?"
)
_UPDATE_RUN = (
    "UPDATE runs SET status = ?, waiting_for = ?, error = ?, updated_at = ? WHERE run_id = ?"
)
_INSERT_SNAPSHOT = (
    "INSERT INTO snapshots (run_id, seq, full_frame, payload, checksum) VALUES (?, ?, ?, ?, ?)"
)
_SELECT_SNAPSHOTS = (
    "SELECT seq, payload, checksum FROM snapshots WHERE run_id = ? AND seq >= ? AND seq < ?"
    " ORDER BY seq"
)
_SELECT_FROM_FRAME = """
    SELECT seq, payload, checksum FROM snapshots
    WHERE run_id = ?1 AND seq <= ?2 AND seq >= (
        SELECT seq FROM snapshots WHERE run_id = ?1 AND full_frame = 1 AND seq <= ?2
        ORDER BY seq DESC LIMIT 1
    )
    ORDER BY seq
"""
_SELECT_RUNNABLE = (
    "SELECT run_id FROM runs WHERE status = 'running'"
    " AND (lease_owner IS NULL OR lease_expires_at <= ?)"
    " ORDER BY created_at, run_id LIMIT ?"
)
_TAKE_LEASE = "UPDATE runs SET lease_owner = ?, lease_expires_at = ? WHERE run_id = ?"
_RENEW_LEASE = "UPDATE runs SET lease_expires_at = ? WHERE run_id = ? AND lease_owner = ?"
_DROP_LEASE = (
    "UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL"
    " WHERE run_id = ? AND lease_owner = ?"
)


@attrs.frozen
class SqliteSettings:
    """What the connection reports it is using (read back from SQLite, not echoed)."""

    journal_mode: str
    synchronous: str
    busy_timeout_ms: int
    schema_version: int


class SqliteStore:
    """A ``Store`` in one SQLite file; many processes may open the same file."""

    def __init__(
        self,
        path: str | Path,
        *,
        durability: Durability = "normal",
        frame_interval: int = DEFAULT_FRAME_INTERVAL,
        busy_timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if durability not in DURABILITIES:
            raise StoreError(
                f"durability must be one of {', '.join(DURABILITIES)}; got {durability!r}"
            )
        self.path = str(path)
        self.frame_interval = check_interval(frame_interval)
        self._clock = clock
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite store {self.path}: {exc}") from exc
        try:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(_SET_SYNCHRONOUS[durability])
            migrate(self._db, self.path)
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(f"cannot use {self.path} as a SQLite store: {exc}") from exc
        except BaseException:
            self._db.close()
            raise

    def create_run(self, run: RunRecord, start: Snapshot) -> None:
        check_start(run, start)
        payload, checksum = encode_snapshot(start)
        with self._write() as db:
            try:
                db.execute(_INSERT_RUN, _run_row(run))
            except sqlite3.IntegrityError:
                raise ConflictError(
                    f"run {run.run_id} already exists; choose a new run id"
                ) from None
            db.execute(_INSERT_SNAPSHOT, (run.run_id, 0, 1, payload, checksum))

    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        check_append(snapshot, run)
        needs_frame = snapshot.frame is None and snapshot.seq % self.frame_interval == 0
        if not needs_frame:
            payload, checksum = encode_snapshot(snapshot)
        with self._write() as db:
            if not _advance_head(db, run):
                raise self._not_at(run.run_id, snapshot.seq - 1)
            if needs_frame:
                state = self._rebuild(run.run_id, snapshot.seq - 1, snapshot)
                snapshot = attrs.evolve(snapshot, frame=full_frame(state))
                payload, checksum = encode_snapshot(snapshot)
            framed = snapshot.frame is not None
            db.execute(_INSERT_SNAPSHOT, (run.run_id, run.seq, framed, payload, checksum))

    def get_run(self, run_id: str) -> RunRecord:
        with self._read() as db:
            row = db.execute(_SELECT_RUN, (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in {self.path}")
        return _run_from_row(row)

    def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunRecord]:
        check_limit(limit)
        with self._read() as db:
            if status is None:
                rows = db.execute(_LIST_RUNS, (limit,)).fetchall()
            elif status in RUN_STATUSES:
                rows = db.execute(_LIST_RUNS_BY_STATUS, (status, limit)).fetchall()
            else:
                raise ValueError(f"status must be one of {', '.join(RUN_STATUSES)}; got {status!r}")
        return [_run_from_row(row) for row in rows]

    def history(self, run_id: str, start: int = 0, end: int | None = None) -> list[Snapshot]:
        with self._read() as db:
            head = self._head_seq(db, run_id)
            first = max(start, 0)
            stop = head + 1 if end is None else min(end, head + 1)
            rows = db.execute(_SELECT_SNAPSHOTS, (run_id, first, stop)).fetchall()
        if len(rows) != max(stop - first, 0):
            raise CorruptionError(
                f"run {run_id}: {max(stop - first, 0) - len(rows)} of the records from seq"
                f" {first} to {stop - 1} are missing from {self.path}; restore it from a backup"
            )
        return [decode_snapshot(run_id, *row) for row in rows]

    def load_state(self, run_id: str, seq: int | None = None) -> RunState:
        with self._read() as db:
            head_seq = self._head_seq(db, run_id)
            target = head_seq if seq is None else seq
            if not 0 <= target <= head_seq:
                raise NotFoundError(
                    f"run {run_id} has no seq {target}; its records run from 0 to {head_seq}"
                )
            return self._rebuild(run_id, target)

    def update_run(self, run: RunRecord) -> None:
        with self._write() as db:
            found = db.execute(_SELECT_HEAD, (run.run_id,)).fetchone()
            if found is None:
                raise NotFoundError(f"no run {run.run_id!r} in {self.path}")
            if found[0] != run.seq:
                raise ConflictError(
                    f"run {run.run_id} moved on to seq {found[0]} (update was for seq"
                    f" {run.seq}); reload the run and retry"
                )
            if found[1] != run.state:
                raise ValueError(
                    f"run {run.run_id}: update_run cannot move the run from {found[1]!r} to"
                    f" {run.state!r}; a state change is a transition, so append it"
                )
            values = (run.status, _json_list(run.waiting_for), run.error, run.updated_at)
            db.execute(_UPDATE_RUN, (*values, run.run_id))

    def claim(self, worker_id: str, lease_seconds: float, limit: int = 1) -> list[str]:
        check_limit(limit)
        with self._write() as db:
            now = self._clock()
            claimed = [row[0] for row in db.execute(_SELECT_RUNNABLE, (now, limit))]
            expires = now + lease_seconds
            db.executemany(_TAKE_LEASE, [(worker_id, expires, run_id) for run_id in claimed])
        return claimed

    def renew(self, run_id: str, worker_id: str, lease_seconds: float) -> bool:
        with self._write() as db:
            expires = self._clock() + lease_seconds
            if db.execute(_RENEW_LEASE, (expires, run_id, worker_id)).rowcount == 1:
                return True
            self._head_seq(db, run_id)  # NotFoundError for an unknown run
            return False

    def release(self, run_id: str, worker_id: str) -> None:
        with self._write() as db:
            if not db.execute(_DROP_LEASE, (run_id, worker_id)).rowcount:
                self._head_seq(db, run_id)  # NotFoundError for an unknown run

    def settings(self) -> SqliteSettings:
        """The pragmas and schema version in effect, as SQLite reports them."""
        with self._read() as db:
            (journal_mode,) = db.execute("PRAGMA journal_mode").fetchone()
            (synchronous,) = db.execute("PRAGMA synchronous").fetchone()
            (busy_timeout,) = db.execute("PRAGMA busy_timeout").fetchone()
            version = schema_version(db)
        return SqliteSettings(
            journal_mode=str(journal_mode),
            synchronous=_SYNCHRONOUS_NAMES.get(synchronous, str(synchronous)),
            busy_timeout_ms=int(busy_timeout),
            schema_version=version,
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _read(self) -> AbstractContextManager[sqlite3.Connection]:
        """A read transaction: its statements all see the same committed state."""
        return self._transaction("BEGIN")

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        """A write transaction holding the file's write lock from its first statement."""
        return self._transaction("BEGIN IMMEDIATE")

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        """Committed if the block ends normally, rolled back otherwise; errors as StoreError."""
        with self._lock:
            try:
                self._db.execute(begin)
            except sqlite3.Error as exc:
                raise self._failure(exc) from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise self._failure(exc) from exc
                raise

    def _failure(self, exc: sqlite3.Error) -> StoreError:
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
            return StoreError(f"the store {self.path} is closed; open a new one")
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return StoreError(
                f"{self.path} stayed locked by another writer past the busy timeout; retry,"
                " or raise busy_timeout"
            )
        return StoreError(f"SQLite store {self.path} failed: {exc}")

    def _head_seq(self, db: sqlite3.Connection, run_id: str) -> int:
        found = db.execute(_SELECT_HEAD, (run_id,)).fetchone()
        if found is None:
            raise NotFoundError(f"no run {run_id!r} in {self.path}")
        return int(found[0])

    def _not_at(self, run_id: str, seq: int) -> StoreError:
        found = self._db.execute(_SELECT_HEAD, (run_id,)).fetchone()
        if found is None:
            return NotFoundError(f"no run {run_id!r} in {self.path}")
        return ConflictError(
            f"run {run_id}: cannot append seq {seq + 1}, the head is at seq {found[0]};"
            " reload the run and retry"
        )

    def _rebuild(self, run_id: str, seq: int, *extra: Snapshot) -> RunState:
        """The state after ``seq`` (then after ``extra``), from the nearest frame at or before."""
        rows = self._db.execute(_SELECT_FROM_FRAME, (run_id, seq)).fetchall()
        if not rows or rows[-1][0] != seq:
            raise CorruptionError(
                f"run {run_id}: the records up to seq {seq} are missing from {self.path} although"
                " the run's head is past them; restore the file from a backup"
            )
        decoded = [decode_snapshot(run_id, *row) for row in rows]
        return rebuild(decoded[0], [*decoded[1:], *extra])


def _run_row(run: RunRecord) -> tuple[object, ...]:
    return (
        run.run_id,
        run.workflow,
        run.spec_hash,
        run.spec_path,
        run.status,
        run.state,
        run.seq,
        _json_list(run.waiting_for),
        run.error,
        run.created_at,
        run.updated_at,
        run.parent_run_id,
        run.parent_seq,
        run.lease_owner,
        run.lease_expires_at,
    )


def _advance_head(db: sqlite3.Connection, run: RunRecord) -> bool:
    """Move the head from ``run.seq - 1`` to ``run``; ``False`` if it is not there."""
    values = (run.seq, run.state, _json_list(run.waiting_for), run.error, run.updated_at)
    if db.execute(_ADVANCE_HEAD, (*values, run.run_id, run.seq - 1, run.status)).rowcount:
        return True
    changed = db.execute(_ADVANCE_HEAD_AND_STATUS, (*values, run.status, run.run_id, run.seq - 1))
    return changed.rowcount == 1


def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(values) if values else "[]"


def _run_from_row(row: tuple[Any, ...]) -> RunRecord:
    """A ``RunRecord`` from a row in the column order of ``_SELECT_RUN``."""
    return RunRecord(
        run_id=row[0],
        workflow=row[1],
        spec_hash=row[2],
        spec_path=row[3],
        status=row[4],
        state=row[5],
        seq=row[6],
        waiting_for=tuple(json.loads(row[7])),
        error=row[8],
        created_at=row[9],
        updated_at=row[10],
        parent_run_id=row[11],
        parent_seq=row[12],
        lease_owner=row[13],
        lease_expires_at=row[14],
    )
