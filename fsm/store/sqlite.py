"""``SqliteStore``: the embedded default store, one SQLite file in WAL mode.

Writers in other processes queue on the file lock (up to ``busy_timeout``), and the records'
primary key plus a check that seq N is the newest lets exactly one of them append each seq
N+1. The head is the newest record, which carries the run's status; the runs row is written
by ``create_run``, ``update_run`` and appends whose head waits or ended. So a running step
after a head this store object wrote is one autocommitted ``INSERT``; every other write is
one ``BEGIN IMMEDIATE`` transaction.
SQL is static: values are always ``?`` parameters. One connection per store object, shared
by threads under a lock. Durability: ``normal`` (``synchronous=NORMAL``: a commit survives a
crash of the process, the last ones may be lost on power failure) or ``full`` (fsync on every
commit). Details in ``docs/storage.md``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args

import attrs

import fsm.store.sqlite_schema as sql
from fsm.errors import ConflictError, CorruptionError, NotFoundError, StoreError
from fsm.store.base import (
    DEFAULT_FRAME_INTERVAL,
    check_append,
    check_interval,
    check_limit,
    check_start,
    check_status,
    encode_candidate,
)
from fsm.store.codec import decode_snapshot, encode_sealed, encode_snapshot
from fsm.store.records import (
    Frame,
    RunRecord,
    RunState,
    RunStatus,
    Snapshot,
    run_columns,
    run_from_columns,
)
from fsm.store.replay import full_frame, rebuild, stored_frame
from fsm.store.weighing import FrameWeigher

Durability = Literal["normal", "full"]
DURABILITIES: tuple[Durability, ...] = get_args(Durability)

_SET_SYNCHRONOUS = {
    "normal": "PRAGMA synchronous = NORMAL",
    "full": "PRAGMA synchronous = FULL",
}
_SYNCHRONOUS_NAMES = {0: "off", 1: "normal", 2: "full", 3: "extra"}
_REMEMBERED_RUN_KEYS = 4096


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
        # run id -> (run_key, pinned spec hash): identity never changes, so it is remembered
        self._run_keys: dict[str, tuple[int, str]] = {}
        self._appended: dict[str, int] = {}  # run id -> the newest seq this handle appended
        self._weigher = FrameWeigher()
        self._read = _Transaction(self, "BEGIN")  # statements see one committed state
        self._write = _Transaction(self, "BEGIN IMMEDIATE")  # holds the write lock throughout
        try:
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the SQLite store {self.path}: {exc}") from exc
        try:
            found = sql.found_version(self._db, self.path)  # before WAL: leaves others' files be
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(_SET_SYNCHRONOUS[durability])
            sql.migrate(self._db, self.path, found)
            # The fast append's own cursor: ``Connection.execute`` makes a new one per call.
            self._appender = self._db.cursor()
        except sqlite3.Error as exc:
            self._db.close()
            raise StoreError(
                f"cannot use {self.path} as a SQLite store: {exc}{_folder_hint(self.path)}"
            ) from exc
        except BaseException:
            self._db.close()
            raise

    def create_run(
        self, run: RunRecord, start: Snapshot, *, lease: tuple[str, float] | None = None
    ) -> None:
        check_start(run, start)
        payload, checksum = encode_snapshot(start, run.spec_hash)
        with self._write as db:
            if lease is not None:  # the clock read inside the write lock, as ``lease`` does
                owner, seconds = lease
                expires = self._clock() + seconds
                run = attrs.evolve(run, lease_owner=owner, lease_expires_at=expires)
            try:
                run_key = db.execute(sql.INSERT_RUN, _run_row(run)).lastrowid
            except sqlite3.IntegrityError:
                raise ConflictError(
                    f"run {run.run_id} already exists; choose a new run id", run_id=run.run_id
                ) from None
            if run_key is None or run_key > sql.MAX_RUN_KEY:
                raise StoreError(f"{self.path} holds the most runs one SQLite store can key")
            start_row = (sql.record_key(run_key, 0), 1, bytes.fromhex(checksum), payload)
            db.execute(sql.INSERT_SNAPSHOT, (*start_row, *_head_columns(run)))
        # Only once committed: a failed COMMIT (disk full) must not leave this handle a key
        # for a run that does not exist, which another process could create under another key.
        self._remember(run.run_id, (run_key, run.spec_hash))
        if _plain(run):  # else the next append rewrites the row: the checked path
            self._appended[run.run_id] = 0

    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        check_append(snapshot, run)
        if run.seq > sql.MAX_SEQ:
            raise StoreError(f"run {run.run_id} reached the most records one run can hold")
        run_id, seq = run.run_id, snapshot.seq
        identity = self._run_keys.get(run_id)
        # Records are never removed, so seq N-1 is known to exist once this handle wrote or
        # saw it; only then may the head check be skipped (the primary key does the rest).
        # Frame candidates read earlier records, and a status other than plain 'running' also
        # writes the runs row: both take the checked path.
        if (
            identity is None
            or self._appended.get(run_id) != seq - 1
            or seq % self.frame_interval == 0
            or not _plain(run)
        ):
            self._append_checked(snapshot, run)
            if not _plain(run):
                # The row now holds this status: the next append must rewrite it (checked).
                self._appended.pop(run_id, None)
                self._weigher.forget(run_id)
                return
        else:
            run_key, pinned = identity
            payload, checksum = encode_sealed(snapshot, pinned)  # outside the write lock
            key = sql.record_key(run_key, seq)
            framed = snapshot.frame is not None
            # the head columns of a plain 'running' head: status, waiting_for, error all NULL
            row = (key, framed, checksum, payload, run.state, run.updated_at, None, None, None)
            with self._lock:
                # One autocommitted statement, like the floor's: it waits for other writers
                # (busy_timeout) as BEGIN IMMEDIATE would, and is atomic on its own.
                try:
                    self._appender.execute(sql.INSERT_SNAPSHOT, row)
                except sqlite3.IntegrityError:  # another writer has this seq already
                    raise self._not_at(run_id, seq - 1) from None
                except sqlite3.Error as exc:
                    raise self._failure(exc) from exc
        self._appended[run_id] = seq

    def _append_checked(self, snapshot: Snapshot, run: RunRecord) -> None:
        """``append`` in a transaction: when this handle does not know seq N-1 exists, for a
        frame candidate, and for a head that is not plain 'running' (it writes the runs row)."""
        candidate = snapshot.seq % self.frame_interval == 0
        with self._write as db:
            run_key, pinned = self._identity(db, run.run_id)
            _, head, _, row_running = self._head_state(db, run.run_id)
            if head != snapshot.seq - 1:
                raise self._not_at(run.run_id, snapshot.seq - 1)
            if candidate:
                payload, checksum, framed = self._encode_candidate(db, run_key, pinned, snapshot)
            else:
                payload, checksum = encode_snapshot(snapshot, pinned)
                framed = snapshot.frame is not None
            key = sql.record_key(run_key, run.seq)
            row = (key, framed, bytes.fromhex(checksum), payload, *_head_columns(run))
            self._insert(db, row, run.run_id, snapshot.seq)
            if not _plain(run) or not row_running:
                # The row keeps the last status change: a deleted tail behind it is detected
                # (``_newest_seq``), and runs that wait or ended are found by their row. A row
                # that is not 'running' is always the current head, so the status index finds
                # a status's runs (``list_runs``, ``claim``) without reading every run.
                values = (run.status, _json_list(run.waiting_for), run.error, run.updated_at)
                db.execute(sql.UPDATE_RUN, (*values, run.seq, run.state, run_key))

    def _insert(
        self, db: sqlite3.Connection, row: tuple[object, ...], run_id: str, seq: int
    ) -> None:
        try:
            db.execute(sql.INSERT_SNAPSHOT, row)
        except sqlite3.IntegrityError:  # another writer has this seq already
            raise self._not_at(run_id, seq - 1) from None

    def get_run(self, run_id: str) -> RunRecord:
        with self._read as db:
            row = db.execute(sql.SELECT_RUN, (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in {self.path}", run_id=run_id)
        return self._run_from_row(row)

    def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunRecord]:
        limit = check_limit(limit)
        check_status(status)
        with self._read as db:
            if status is None:
                rows = db.execute(sql.LIST_RUNS, (limit,)).fetchall()
            else:
                rows = db.execute(sql.LIST_RUNS_BY_STATUS, (status, limit)).fetchall()
        return [self._run_from_row(row) for row in rows]

    def history(self, run_id: str, start: int = 0, end: int | None = None) -> list[Snapshot]:
        with self._read as db:
            run_key, head = self._head(db, run_id)
            _, pinned = self._identity(db, run_id)
            first = max(start, 0)
            stop = head + 1 if end is None else min(end, head + 1)
            keys = (sql.record_key(run_key, first), sql.record_key(run_key, max(stop, first)))
            rows = db.execute(sql.SELECT_SNAPSHOTS, keys).fetchall()
        if len(rows) != max(stop - first, 0):
            raise CorruptionError(
                f"run {run_id}: {max(stop - first, 0) - len(rows)} of the records from seq"
                f" {first} to {stop - 1} are missing from {self.path}; restore it from a backup",
                run_id=run_id,
            )
        return [
            decode_snapshot(run_id, sql.seq_of(key), payload, _hex(digest), pinned)
            for key, payload, digest in rows
        ]

    def load_state(self, run_id: str, seq: int | None = None) -> RunState:
        with self._read as db:
            run_key, head = self._head(db, run_id)
            target = head if seq is None else seq
            if not 0 <= target <= head:
                raise NotFoundError(
                    f"run {run_id} has no seq {target}; its records run from 0 to {head}",
                    run_id=run_id,
                    seq=target,
                )
            return self._rebuild(run_key, run_id, target)

    def update_run(self, run: RunRecord) -> None:
        with self._write as db:
            run_key, seq, state, _ = self._head_state(db, run.run_id)
            if seq != run.seq:
                raise ConflictError(
                    f"run {run.run_id} moved on to seq {seq} (update was for seq"
                    f" {run.seq}); reload the run and retry",
                    run_id=run.run_id,
                    seq=run.seq,
                )
            if state != run.state:
                raise ValueError(
                    f"run {run.run_id}: update_run cannot move the run from {state!r} to"
                    f" {run.state!r}; a state change is a transition, so append it"
                )
            values = (run.status, _json_list(run.waiting_for), run.error, run.updated_at)
            db.execute(sql.UPDATE_RUN, (*values, seq, state, run_key))
        if not _plain(run):  # the next append of this handle must rewrite the row
            self._appended.pop(run.run_id, None)

    def claim(self, worker_id: str, lease_seconds: float, limit: int = 1) -> list[str]:
        limit = check_limit(limit)
        with self._write as db:
            now = self._clock()
            claimed = [row[0] for row in db.execute(sql.SELECT_RUNNABLE, (now, limit))]
            expires = now + lease_seconds
            db.executemany(sql.TAKE_LEASE, [(worker_id, expires, run_id) for run_id in claimed])
        return claimed

    def now(self) -> float:
        return self._clock()

    def lease(self, run_id: str, owner: str, lease_seconds: float) -> bool:
        with self._write as db:
            now = self._clock()
            values = (owner, now + lease_seconds, run_id, owner, now)
            if db.execute(sql.LEASE_RUN, values).rowcount == 1:
                return True
            self._head(db, run_id)  # NotFoundError for an unknown run
            return False

    def renew(self, run_id: str, worker_id: str, lease_seconds: float) -> bool:
        with self._write as db:
            expires = self._clock() + lease_seconds
            if db.execute(sql.RENEW_LEASE, (expires, run_id, worker_id)).rowcount == 1:
                return True
            self._head(db, run_id)  # NotFoundError for an unknown run
            return False

    def release(self, run_id: str, worker_id: str) -> None:
        with self._write as db:
            if not db.execute(sql.DROP_LEASE, (run_id, worker_id)).rowcount:
                self._head(db, run_id)  # NotFoundError for an unknown run

    def hand_over(self, run_id: str, owner: str, new_owner: str, lease_seconds: float) -> bool:
        with self._write as db:
            values = (new_owner, self._clock() + lease_seconds, run_id, owner, new_owner)
            if db.execute(sql.HAND_OVER_LEASE, values).rowcount == 1:
                return True
            self._head(db, run_id)  # NotFoundError for an unknown run
            return False

    def settings(self) -> SqliteSettings:
        """The pragmas and schema version in effect, as SQLite reports them."""
        with self._read as db:
            (journal_mode,) = db.execute("PRAGMA journal_mode").fetchone()
            (synchronous,) = db.execute("PRAGMA synchronous").fetchone()
            (busy_timeout,) = db.execute("PRAGMA busy_timeout").fetchone()
            version = sql.schema_version(db)
        return SqliteSettings(
            journal_mode=str(journal_mode),
            synchronous=_SYNCHRONOUS_NAMES.get(synchronous, str(synchronous)),
            busy_timeout_ms=int(busy_timeout),
            schema_version=version,
        )

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path}>"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _failure(self, exc: sqlite3.Error) -> StoreError:
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
            return StoreError(f"the store {self.path} is closed; open a new one")
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return StoreError(
                f"{self.path} stayed locked by another writer past the busy timeout; retry,"
                " or raise it (?busy_timeout=SECONDS in the store URL)"
            )
        return StoreError(f"SQLite store {self.path} failed: {exc}")

    def _identity(self, db: sqlite3.Connection, run_id: str) -> tuple[int, str]:
        """The run's integer key and pinned spec hash, remembered: neither ever changes."""
        identity = self._run_keys.get(run_id)
        if identity is None:
            found = db.execute(sql.SELECT_IDENTITY, (run_id,)).fetchone()
            if found is None:
                raise NotFoundError(f"no run {run_id!r} in {self.path}", run_id=run_id)
            identity = (int(found[0]), str(found[1]))
            self._remember(run_id, identity)
        return identity

    def _remember(self, run_id: str, identity: tuple[int, str]) -> None:
        if len(self._run_keys) >= _REMEMBERED_RUN_KEYS:
            self._run_keys.clear()
            self._appended.clear()
        self._run_keys[run_id] = identity

    def _head(self, db: sqlite3.Connection, run_id: str) -> tuple[int, int]:
        """The run's key and head seq; ``NotFoundError`` if there is no such run."""
        run_key, seq, _, _ = self._head_state(db, run_id)
        return run_key, seq

    def _head_state(self, db: sqlite3.Connection, run_id: str) -> tuple[int, int, str, bool]:
        """The run's key, head seq and state: its newest record, unless the runs row is newer
        (written by ``update_run``, a status change, or version 1 of the schema); and whether
        the runs row says 'running'."""
        found = db.execute(sql.SELECT_HEAD, (run_id,)).fetchone()
        if found is None:
            raise NotFoundError(f"no run {run_id!r} in {self.path}", run_id=run_id)
        run_key, row_seq, row_state, newest_key, newest_state, row_status = found
        newest = self._newest_seq(run_id, row_seq, newest_key)
        row_running = row_status == "running"
        if newest > row_seq:
            return int(run_key), newest, str(newest_state), row_running
        return int(run_key), int(row_seq), str(row_state), row_running

    def _newest_seq(self, run_id: str, row_seq: int, newest_key: int | None) -> int:
        """The seq of the newest record, which is never behind the runs row."""
        newest = -1 if newest_key is None else sql.seq_of(newest_key)
        if newest < row_seq:
            raise CorruptionError(
                f"run {run_id}: its head is seq {row_seq} but the newest record in {self.path}"
                f" is seq {newest}; records were deleted, restore the file from a backup",
                run_id=run_id,
                seq=row_seq,
            )
        return newest

    def _run_from_row(self, row: tuple[Any, ...]) -> RunRecord:
        """A ``RunRecord`` from a row in the column order of ``sql.SELECT_RUN``: the runs row,
        moved on to the newest record when that is newer."""
        run = _run_from_row(row)
        newest = self._newest_seq(run.run_id, run.seq, row[15])
        if newest == run.seq:
            return run
        status, waiting_for, error = row[18], row[19], row[20]
        return attrs.evolve(
            run,
            seq=newest,
            state=row[16],
            updated_at=row[17],
            status="running" if status is None else status,
            waiting_for=() if waiting_for is None else _waiting_for(run.run_id, waiting_for),
            error=error,
        )

    def _encode_candidate(
        self, db: sqlite3.Connection, run_key: int, pinned: str, snapshot: Snapshot
    ) -> tuple[bytes, str, bool]:
        """Payload, checksum and whether it holds a frame, for a record on a candidate seq."""
        first, key = sql.record_key(run_key, 0), sql.record_key(run_key, snapshot.seq)
        found = db.execute(sql.SINCE_FRAME, (first, key)).fetchone()
        if found is None:
            raise CorruptionError(
                f"run {snapshot.run_id}: no frame record before seq {snapshot.seq} in"
                f" {self.path} (the start record is missing); restore the file from a backup",
                run_id=snapshot.run_id,
                seq=snapshot.seq,
            )
        frame_key, since_bytes = found

        def rebuild_frame() -> Frame:
            state = self._rebuild(run_key, snapshot.run_id, snapshot.seq - 1, snapshot)
            return full_frame(state)

        gap = snapshot.seq - sql.seq_of(frame_key)
        return encode_candidate(
            snapshot,
            interval=self.frame_interval,
            gap=gap,
            since_bytes=since_bytes,
            rebuild_frame=rebuild_frame,
            pinned_hash=pinned,
            weigh=partial(self._weigher.weigh, snapshot.run_id),
        )

    def _not_at(self, run_id: str, seq: int) -> StoreError:
        try:
            _, head = self._head(self._db, run_id)
        except NotFoundError as missing:
            return missing
        return ConflictError(
            f"run {run_id}: cannot append seq {seq + 1}, the head is at seq {head};"
            " reload the run and retry",
            run_id=run_id,
            seq=seq + 1,
        )

    def _rebuild(self, run_key: int, run_id: str, seq: int, *extra: Snapshot) -> RunState:
        """The state after ``seq`` (then after ``extra``), from the nearest frame at or before."""
        keys = (sql.record_key(run_key, 0), sql.record_key(run_key, seq))
        rows = self._db.execute(sql.SELECT_FROM_FRAME, keys).fetchall()
        if not rows or rows[-1][0] != keys[1]:
            raise CorruptionError(
                f"run {run_id}: the records up to seq {seq} are missing from {self.path} although"
                " the run's head is past them; restore the file from a backup",
                run_id=run_id,
                seq=seq,
            )
        _, pinned = self._identity(self._db, run_id)
        decoded = [
            decode_snapshot(run_id, sql.seq_of(key), payload, _hex(digest), pinned)
            for key, payload, digest in rows
        ]
        return rebuild(stored_frame(decoded[0]), [*decoded[1:], *extra])


class _Transaction:
    """A ``with`` block as one SQLite transaction under the store's lock: committed when the
    block ends normally, rolled back otherwise, SQLite's errors turned into ``StoreError``.

    A class rather than a generator because it wraps every append (cheaper to enter)."""

    __slots__ = ("_begin", "_store")

    def __init__(self, store: SqliteStore, begin: str) -> None:
        self._store = store
        self._begin = begin

    def __enter__(self) -> sqlite3.Connection:
        store = self._store
        store._lock.acquire()
        try:
            store._db.execute(self._begin)
        except BaseException as exc:
            store._lock.release()
            if isinstance(exc, sqlite3.Error):
                raise store._failure(exc) from exc
            raise
        return store._db

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, _tb: TracebackType | None
    ) -> None:
        store = self._store
        try:
            if kind is None:
                store._db.execute("COMMIT")
            elif store._db.in_transaction:
                store._db.execute("ROLLBACK")
        except sqlite3.Error as failure:
            if store._db.in_transaction:
                store._db.execute("ROLLBACK")
            raise store._failure(failure) from failure
        finally:
            store._lock.release()
        if isinstance(exc, sqlite3.Error):
            raise store._failure(exc) from exc


def _folder_hint(path: str) -> str:
    """Why an existing, readable file may still not open: in WAL mode SQLite creates
    ``<file>-wal`` and ``<file>-shm`` beside it, even to read."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.exists(path) and not os.access(folder, os.W_OK):
        return (
            f" (SQLite keeps {os.path.basename(path)}-wal and -shm files beside the store, even"
            f" to read it, and the folder {folder} is not writable: make it writable, or copy"
            f" the file to a folder that is)"
        )
    return ""


def _run_row(run: RunRecord) -> tuple[object, ...]:
    return run_columns(run, _json_list(run.waiting_for))


def _plain(run: RunRecord) -> bool:
    """A head that is simply running: its record's head columns are all NULL."""
    return run.status == "running" and not run.waiting_for and run.error is None


def _head_columns(run: RunRecord) -> tuple[object, ...]:
    """A record's copy of the head after it (state, updated_at, status, waiting_for, error),
    with NULL for the usual status 'running' and no events, which the trigger reads back."""
    status = None if run.status == "running" else run.status
    waiting_for = _json_list(run.waiting_for) if run.waiting_for else None
    return run.state, run.updated_at, status, waiting_for, run.error


def _hex(checksum: object) -> str:
    """Checksums are stored as 16 raw bytes (schema version 1 wrote them as hex text); any
    other value was put there by hand and matches no record."""
    if isinstance(checksum, bytes):
        return checksum.hex()
    return checksum if isinstance(checksum, str) else ""


def _json_list(values: tuple[str, ...]) -> str:
    return json.dumps(values) if values else "[]"


def _run_from_row(row: tuple[Any, ...]) -> RunRecord:
    """A ``RunRecord`` from a row in the column order of ``sql.SELECT_RUN``."""
    return run_from_columns(row, _waiting_for(str(row[0]), row[7]))


def _waiting_for(run_id: str, text: object) -> tuple[str, ...]:
    """The event names of a ``waiting_for`` column (a JSON list of strings); anything else was
    put there by hand and is ``CorruptionError``, not a ``JSONDecodeError`` traceback."""
    try:
        names = json.loads(text) if isinstance(text, str | bytes) else None
    except ValueError:
        names = None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise CorruptionError(
            f"run {run_id}: its waiting_for column holds {text!r}, not the JSON list of event"
            " names Flow Orchestra writes; it was edited by hand. Restore it from a backup, or"
            " set it back (to '[]' for a run that waits for no event)",
            run_id=run_id,
        )
    return tuple(names)
