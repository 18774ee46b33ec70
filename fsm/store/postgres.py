"""``PostgresStore``: the shared store for many workers on many machines (psycopg 3 + a pool).

The database does the coordinating. ``append`` is one statement: an ``UPDATE`` of the run's
head that only matches while the head is at seq N, feeding an ``INSERT`` of record N+1 (and
``PRIMARY KEY (run_id, seq)`` behind it), so of several writers exactly one wins each seq and
the others get ``ConflictError``. ``claim`` hands out runs with ``FOR UPDATE SKIP LOCKED``, so
concurrent workers never wait on, or double-claim, the same run. SQL is static and values are
always parameters. Lease times come from the database clock unless a ``clock`` is given (tests),
so the machines running workers need not agree on the time. See ``docs/scaling.md``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import attrs
import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from fsm.errors import ConflictError, CorruptionError, NotFoundError, StoreError
from fsm.store.base import (
    DEFAULT_FRAME_INTERVAL,
    check_append,
    check_interval,
    check_limit,
    check_start,
    encode_candidate,
)
from fsm.store.codec import decode_snapshot, encode_json, encode_snapshot
from fsm.store.postgres_schema import migrate
from fsm.store.records import (
    RUN_STATUSES,
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

Connection = psycopg.Connection[tuple[Any, ...]]
P = ParamSpec("P")
T = TypeVar("T")


class _ConnectionLostError(StoreError):
    """The pooled connection broke under a call (server restarted, backend terminated, idle
    timeout): the call may be made once more on a fresh connection (``_once_more``)."""


def _once_more(
    method: Callable[Concatenate[PostgresStore, P], T],
) -> Callable[Concatenate[PostgresStore, P], T]:
    """Retry a store call on a fresh connection when the one it got turned out to be dead.

    Why: the pool hands out connections without checking them, so after connections are
    killed server-side (a restart, a failover, an administrator, an idle timeout) the next
    calls on them fail although the server is fine, and a worker would park its run for a
    whole lease. The pool discards each broken connection, so after at most ``pool_size``
    dead ones a call gets a new one. A repeated call does no harm: reads; writes that are
    conditional (an append only moves the head from seq N and, unlike the other stores,
    recognises its own record committed by an unacknowledged first try; a lease, renewal or
    release by the same owner lands the same way twice); and a ``claim`` whose first commit
    went through unseen, which leaves those runs leased to the worker without its knowing, so
    they wait out one lease as after any lost claim reply.
    """

    @functools.wraps(method)
    def retrying(store: PostgresStore, /, *args: P.args, **kwargs: P.kwargs) -> T:
        for _ in range(store.pool_size):
            try:
                return method(store, *args, **kwargs)
            except _ConnectionLostError:
                continue
        return method(store, *args, **kwargs)

    return retrying


_INSERT_RUN = """
    INSERT INTO runs (
        run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    ) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
"""
_SELECT_RUN = """
    SELECT run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    FROM runs WHERE run_id = %s
"""
_LIST_RUNS = """
    SELECT run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    FROM runs ORDER BY created_at DESC, run_id DESC LIMIT %s
"""
_LIST_RUNS_BY_STATUS = """
    SELECT run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    FROM runs WHERE status = %s ORDER BY created_at DESC, run_id DESC LIMIT %s
"""
_SELECT_HEAD = "SELECT seq, state FROM runs WHERE run_id = %s"
_INSERT_SNAPSHOT = (
    "INSERT INTO snapshots (run_id, seq, full_frame, payload, checksum) VALUES (%s, %s, %s, %s, %s)"
)
# The whole append in one statement (one round trip): the head moves only from seq N, and the
# record is inserted only if it did. A concurrent appender blocks on the head's row lock, then
# re-checks ``seq = N`` against the committed row and matches nothing.
_APPEND = """
    WITH head AS (
        UPDATE runs SET seq = %s, state = %s, status = %s, waiting_for = %s, error = %s,
            updated_at = %s
        WHERE run_id = %s AND seq = %s
        RETURNING run_id
    )
    INSERT INTO snapshots (run_id, seq, full_frame, payload, checksum)
    SELECT run_id, %s, %s, %s, %s FROM head
"""
_ADVANCE_HEAD = """
    UPDATE runs SET seq = %s, state = %s, status = %s, waiting_for = %s, error = %s,
        updated_at = %s
    WHERE run_id = %s AND seq = %s
"""
_UPDATE_RUN = """
    UPDATE runs SET status = %s, waiting_for = %s, error = %s, updated_at = %s
    WHERE run_id = %s AND seq = %s AND state = %s
"""
_SELECT_SNAPSHOTS = """
    SELECT seq, payload, checksum FROM snapshots
    WHERE run_id = %s AND seq >= %s AND seq < %s ORDER BY seq
"""
_SELECT_CHECKSUM = "SELECT checksum FROM snapshots WHERE run_id = %s AND seq = %s"
_SELECT_CHECKSUM_PAYLOAD = "SELECT payload, checksum FROM snapshots WHERE run_id = %s AND seq = %s"
_SELECT_FROM_FRAME = """
    SELECT seq, payload, checksum FROM snapshots
    WHERE run_id = %(run_id)s AND seq <= %(seq)s AND seq >= (
        SELECT seq FROM snapshots
        WHERE run_id = %(run_id)s AND full_frame AND seq <= %(seq)s
        ORDER BY seq DESC LIMIT 1
    )
    ORDER BY seq
"""
# The nearest frame before a new record and the payload bytes since (``keeps_frame``).
_SINCE_FRAME = """
    SELECT frame.seq, (
        SELECT coalesce(sum(octet_length(payload)), 0)::bigint FROM snapshots
        WHERE run_id = %(run_id)s AND seq > frame.seq AND seq < %(seq)s
    )
    FROM (
        SELECT seq FROM snapshots WHERE run_id = %(run_id)s AND full_frame AND seq < %(seq)s
        ORDER BY seq DESC LIMIT 1
    ) AS frame
"""
# ``%(now)s`` is the injected clock's reading, or NULL for the database's own clock.
_CLAIM = """
    WITH moment AS (
        SELECT coalesce(%(now)s::float8, extract(epoch FROM clock_timestamp())::float8) AS now
    ),
    picked AS (
        SELECT runs.run_id FROM runs, moment
        WHERE runs.status = 'running'
            AND (runs.lease_owner IS NULL OR runs.lease_expires_at <= moment.now)
        ORDER BY runs.created_at, runs.run_id
        LIMIT %(limit)s
        FOR UPDATE OF runs SKIP LOCKED
    )
    UPDATE runs SET lease_owner = %(worker)s, lease_expires_at = moment.now + %(lease)s
    FROM picked, moment
    WHERE runs.run_id = picked.run_id
    RETURNING runs.run_id, runs.created_at
"""
_RENEW_LEASE = """
    UPDATE runs
    SET lease_expires_at
        = coalesce(%(now)s::float8, extract(epoch FROM clock_timestamp())::float8) + %(lease)s
    WHERE run_id = %(run_id)s AND lease_owner = %(worker)s
"""
_LEASE_RUN = """
    WITH moment AS (
        SELECT coalesce(%(now)s::float8, extract(epoch FROM clock_timestamp())::float8) AS now
    )
    UPDATE runs SET lease_owner = %(owner)s, lease_expires_at = moment.now + %(lease)s
    FROM moment
    WHERE runs.run_id = %(run_id)s
        AND (runs.lease_owner IS NULL OR runs.lease_owner = %(owner)s
            OR runs.lease_expires_at <= moment.now)
"""
_DATABASE_NOW = "SELECT extract(epoch FROM clock_timestamp())::float8"
# One statement: the lease never passes through "no owner" on its way to the new one.
_HAND_OVER_LEASE = """
    UPDATE runs
    SET lease_owner = %(new_owner)s, lease_expires_at
        = coalesce(%(now)s::float8, extract(epoch FROM clock_timestamp())::float8) + %(lease)s
    WHERE run_id = %(run_id)s AND lease_owner IN (%(owner)s, %(new_owner)s)
"""
_DROP_LEASE = """
    UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL
    WHERE run_id = %s AND lease_owner = %s
"""


_RECONNECT_SECONDS = 30.0
"""How long the pool retries a connection before starting over: bounds its backoff (~16 s),
so calls succeed again within seconds of the server's return, however long it was down."""


class PostgresStore:
    """A ``Store`` in a PostgreSQL database, shared by any number of processes and machines.

    ``url`` is a libpq URL or conninfo string; the tables live in the first schema of its
    ``search_path``. Connections come from a pool of up to ``pool_size``; the store is safe to
    share between threads. ``clock`` (epoch seconds) replaces the database clock for leases.
    """

    def __init__(
        self,
        url: str,
        *,
        frame_interval: int = DEFAULT_FRAME_INTERVAL,
        clock: Callable[[], float] | None = None,
        pool_size: int = 10,
        connect_timeout: float = 10.0,
    ) -> None:
        if pool_size < 1:
            raise ValueError(f"pool_size must be >= 1; got {pool_size}")
        self.pool_size = pool_size
        self.frame_interval = check_interval(frame_interval)
        self._where = _redacted(url)
        self._clock = clock
        self._weigher = FrameWeigher()
        # One direct connection first: a wrong URL, a refused connection or a failed login is
        # reported at once with its cause, instead of after the pool's retries time out.
        try:
            with psycopg.connect(
                url, autocommit=True, connect_timeout=max(2, round(connect_timeout))
            ) as first:
                migrate(first, self._where)
        except psycopg.OperationalError as exc:
            raise StoreError(
                f"cannot connect to the PostgreSQL store {self._where}: {_first_line(exc)};"
                " check that the server runs and the URL (host, port, user, database) is right"
            ) from exc
        except psycopg.Error as exc:  # connected, but the tables cannot be set up there
            raise StoreError(
                f"cannot set up Flow Orchestra's tables in {self._where}: {_first_line(exc)};"
                f" {_SETUP_HINTS.get(type(exc), _SETUP_HINT)}"
            ) from exc
        self._pool: ConnectionPool[Connection] = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            open=True,
            timeout=connect_timeout,
            # Why: the pool retries a lost connection with doubling delays until this gives
            # up (300 s by default, so up to 128 s apart): after a long outage a worker sat
            # idle for minutes with the server back. Giving up sooner restarts the backoff.
            reconnect_timeout=_RECONNECT_SECONDS,
            name="fsm-store",
        )
        try:
            self._pool.wait(timeout=connect_timeout)
        except PoolTimeout as exc:
            self._pool.close()
            raise StoreError(
                f"cannot connect to the PostgreSQL store {self._where} within"
                f" {connect_timeout:g} s; check that the server runs and the URL is right"
            ) from exc
        except BaseException:
            self._pool.close()
            raise

    @_once_more
    def create_run(
        self, run: RunRecord, start: Snapshot, *, lease: tuple[str, float] | None = None
    ) -> None:
        check_start(run, start)
        payload, checksum = encode_snapshot(start)
        with self._connection() as connection:
            try:
                with connection.transaction():
                    connection.execute(_INSERT_RUN, _run_row(run))
                    row = (run.run_id, 0, True, payload, checksum)
                    connection.execute(_INSERT_SNAPSHOT, row)
                    if lease is not None:  # on the database clock, like every lease here
                        owner, seconds = lease
                        params = {"now": self._now(), "lease": seconds, "run_id": run.run_id}
                        connection.execute(_LEASE_RUN, {**params, "owner": owner})
            except pg_errors.UniqueViolation:
                if _stored_checksum(connection, run.run_id, 0) == checksum:
                    return  # created by a first attempt whose connection broke after COMMIT
                raise ConflictError(
                    f"run {run.run_id} already exists; choose a new run id", run_id=run.run_id
                ) from None

    @_once_more
    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        check_append(snapshot, run)
        if run.status != "running":
            self._weigher.forget(run.run_id)
        if snapshot.seq % self.frame_interval == 0:
            self._append_candidate(snapshot, run)
            return
        payload, checksum = encode_snapshot(snapshot)
        framed = snapshot.frame is not None
        with self._connection() as connection:
            try:
                cursor = connection.execute(
                    _APPEND, (*_head_row(run), run.seq, framed, payload, checksum)
                )
            except pg_errors.UniqueViolation:
                cursor = None
            if cursor is None or cursor.rowcount != 1:
                if _stored_checksum(connection, run.run_id, snapshot.seq) == checksum:
                    return  # appended by a first attempt whose connection broke after COMMIT
                raise self._not_at(connection, run.run_id, snapshot.seq - 1)

    @_once_more
    def get_run(self, run_id: str) -> RunRecord:
        with self._connection() as connection:
            row = connection.execute(_SELECT_RUN, (run_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)
        return _run_from_row(row)

    @_once_more
    def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunRecord]:
        limit = check_limit(limit)
        if status is not None and status not in RUN_STATUSES:
            raise ValueError(f"status must be one of {', '.join(RUN_STATUSES)}; got {status!r}")
        with self._connection() as connection:
            if status is None:
                rows = connection.execute(_LIST_RUNS, (limit,)).fetchall()
            else:
                rows = connection.execute(_LIST_RUNS_BY_STATUS, (status, limit)).fetchall()
        return [_run_from_row(row) for row in rows]

    @_once_more
    def history(self, run_id: str, start: int = 0, end: int | None = None) -> list[Snapshot]:
        with self._connection() as connection:
            found = connection.execute(_SELECT_HEAD, (run_id,)).fetchone()
            if found is None:
                raise NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)
            first = max(start, 0)
            stop = found[0] + 1 if end is None else min(end, found[0] + 1)
            rows = connection.execute(_SELECT_SNAPSHOTS, (run_id, first, stop)).fetchall()
        expected = max(stop - first, 0)
        if len(rows) != expected:  # rows deleted behind the store's back: never skip them
            raise CorruptionError(
                f"run {run_id}: {expected - len(rows)} of the records from seq {first} to"
                f" {stop - 1} are missing from {self._where}; restore it from a backup",
                run_id=run_id,
            )
        return [decode_snapshot(run_id, seq, bytes(data), digest) for seq, data, digest in rows]

    @_once_more
    def load_state(self, run_id: str, seq: int | None = None) -> RunState:
        with self._connection() as connection:
            found = connection.execute(_SELECT_HEAD, (run_id,)).fetchone()
            if found is None:
                raise NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)
            head_seq: int = found[0]
            target = head_seq if seq is None else seq
            if not 0 <= target <= head_seq:
                raise NotFoundError(
                    f"run {run_id} has no seq {target}; its records run from 0 to {head_seq}",
                    run_id=run_id,
                    seq=target,
                )
            return self._rebuild(connection, run_id, target)

    @_once_more
    def update_run(self, run: RunRecord) -> None:
        values = (run.status, list(run.waiting_for), run.error, run.updated_at)
        with self._connection() as connection:
            changed = connection.execute(_UPDATE_RUN, (*values, run.run_id, run.seq, run.state))
            if changed.rowcount == 1:
                return
            found = connection.execute(_SELECT_HEAD, (run.run_id,)).fetchone()
        if found is None:
            raise NotFoundError(f"no run {run.run_id!r} in {self._where}", run_id=run.run_id)
        if found[0] != run.seq:
            raise ConflictError(
                f"run {run.run_id} moved on to seq {found[0]} (update was for seq {run.seq});"
                " reload the run and retry",
                run_id=run.run_id,
                seq=run.seq,
            )
        raise ValueError(
            f"run {run.run_id}: update_run cannot move the run from {found[1]!r} to"
            f" {run.state!r}; a state change is a transition, so append it"
        )

    @_once_more
    def claim(self, worker_id: str, lease_seconds: float, limit: int = 1) -> list[str]:
        limit = check_limit(limit)
        params = {"now": self._now(), "limit": limit, "worker": worker_id, "lease": lease_seconds}
        with self._connection() as connection:
            rows = connection.execute(_CLAIM, params).fetchall()
        return [run_id for run_id, _ in sorted(rows, key=lambda row: (row[1], row[0]))]

    @_once_more
    def now(self) -> float:
        if self._clock is not None:
            return self._clock()
        with self._connection() as connection:
            row = connection.execute(_DATABASE_NOW).fetchone()
        assert row is not None
        return float(row[0])

    @_once_more
    def lease(self, run_id: str, owner: str, lease_seconds: float) -> bool:
        params = {"now": self._now(), "lease": lease_seconds, "run_id": run_id, "owner": owner}
        with self._connection() as connection:
            if connection.execute(_LEASE_RUN, params).rowcount == 1:
                return True
            if connection.execute(_SELECT_HEAD, (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)
        return False

    @_once_more
    def renew(self, run_id: str, worker_id: str, lease_seconds: float) -> bool:
        params = {"now": self._now(), "lease": lease_seconds, "run_id": run_id, "worker": worker_id}
        with self._connection() as connection:
            if connection.execute(_RENEW_LEASE, params).rowcount == 1:
                return True
            if connection.execute(_SELECT_HEAD, (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)
        return False

    @_once_more
    def release(self, run_id: str, worker_id: str) -> None:
        with self._connection() as connection:
            dropped = connection.execute(_DROP_LEASE, (run_id, worker_id)).rowcount
            if not dropped and connection.execute(_SELECT_HEAD, (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)

    @_once_more
    def hand_over(self, run_id: str, owner: str, new_owner: str, lease_seconds: float) -> bool:
        params = {
            "now": self._now(),
            "lease": lease_seconds,
            "run_id": run_id,
            "owner": owner,
            "new_owner": new_owner,
        }
        with self._connection() as connection:
            if connection.execute(_HAND_OVER_LEASE, params).rowcount == 1:
                return True
            if connection.execute(_SELECT_HEAD, (run_id,)).fetchone() is None:
                raise NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)
        return False

    def __repr__(self) -> str:
        return f"<PostgresStore {self._where}>"  # redacted: no password

    def close(self) -> None:
        self._pool.close()

    # Internals ---------------------------------------------------------------------------------

    def _append_candidate(self, snapshot: Snapshot, run: RunRecord) -> None:
        """Append a K-th record, with a frame if ``keeps_frame`` says so (rebuilt from the
        records before it if the caller sent none) while the head's row lock keeps other
        writers out."""
        with self._connection() as connection, connection.transaction():
            moved = connection.execute(_ADVANCE_HEAD, _head_row(run))
            if moved.rowcount != 1:
                if _is_own_record(connection, snapshot):
                    return  # appended by a first attempt whose connection broke after COMMIT
                raise self._not_at(connection, run.run_id, snapshot.seq - 1)
            where = {"run_id": run.run_id, "seq": snapshot.seq}
            found = connection.execute(_SINCE_FRAME, where).fetchone()
            if found is None:
                raise CorruptionError(
                    f"run {run.run_id}: no frame record before seq {snapshot.seq} in"
                    f" {self._where}; restore the database from a backup",
                    run_id=run.run_id,
                    seq=snapshot.seq,
                )

            def rebuild_frame() -> Frame:
                state = self._rebuild(connection, run.run_id, snapshot.seq - 1, snapshot)
                return full_frame(state)

            gap = snapshot.seq - found[0]
            payload, checksum, framed = encode_candidate(
                snapshot,
                interval=self.frame_interval,
                gap=gap,
                since_bytes=found[1],
                rebuild_frame=rebuild_frame,
                weigh=functools.partial(self._weigher.weigh, run.run_id),
            )
            row = (run.run_id, run.seq, framed, payload, checksum)
            connection.execute(_INSERT_SNAPSHOT, row)

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """A pooled connection (autocommit: one statement, one transaction, unless a
        ``transaction()`` block groups several); driver failures become ``StoreError``."""
        try:
            with self._pool.connection() as connection:
                try:
                    yield connection
                except psycopg.OperationalError as exc:
                    if connection.broken:
                        raise _ConnectionLostError(
                            f"PostgreSQL store {self._where} failed: {exc}"
                        ) from exc
                    raise
        except PoolClosed:
            raise StoreError(f"the store {self._where} is closed; open a new one") from None
        except PoolTimeout as exc:
            raise StoreError(
                f"no connection to the PostgreSQL store {self._where} became free in time"
                f" ({exc}): the server may be down or refusing connections (psycopg_pool logs"
                f" each failed attempt), or every connection of this store's pool stayed busy"
                f" (pool_size {self.pool_size}: PostgresStore(url, pool_size=...) in Python)"
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL store {self._where} failed: {exc}") from exc

    def _now(self) -> float | None:
        return None if self._clock is None else self._clock()

    def _not_at(self, connection: Connection, run_id: str, seq: int) -> StoreError:
        found = connection.execute(_SELECT_HEAD, (run_id,)).fetchone()
        if found is None:
            return NotFoundError(f"no run {run_id!r} in {self._where}", run_id=run_id)
        return ConflictError(
            f"run {run_id}: cannot append seq {seq + 1}, the head is at seq {found[0]};"
            " reload the run and retry",
            run_id=run_id,
            seq=seq + 1,
        )

    def _rebuild(self, connection: Connection, run_id: str, seq: int, *extra: Snapshot) -> RunState:
        """The state after ``seq`` (then after ``extra``), from the nearest frame at or before."""
        rows = connection.execute(_SELECT_FROM_FRAME, {"run_id": run_id, "seq": seq}).fetchall()
        if not rows or rows[-1][0] != seq:
            raise CorruptionError(
                f"run {run_id}: the records up to seq {seq} are missing from {self._where}"
                " although the run's head is past them; restore the database from a backup",
                run_id=run_id,
                seq=seq,
            )
        decoded = [
            decode_snapshot(run_id, found, bytes(data), digest) for found, data, digest in rows
        ]
        return rebuild(stored_frame(decoded[0]), [*decoded[1:], *extra])


def open_postgres(url: str) -> PostgresStore:
    """The store for a ``postgresql://`` URL (what ``open_store`` calls)."""
    return PostgresStore(url)


_SETUP_HINT = "check the database user's rights on the database and its schema"
_SETUP_HINTS: dict[type[psycopg.Error], str] = {
    pg_errors.InvalidSchemaName: (
        "the URL's search_path names no schema that exists; create it first"
        " (CREATE SCHEMA name), or leave search_path out for the public schema"
    ),
    pg_errors.InsufficientPrivilege: (
        "the user needs CREATE on the schema to create the tables (on first use; or open the"
        " store once as a user who has it), and SELECT, INSERT and UPDATE on the tables"
        " (GRANT them when another user created them)"
    ),
}


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _redacted(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"not a valid PostgreSQL URL or conninfo: {exc}") from None
    host = info.get("host", "localhost")
    port = info.get("port", "5432")
    database = info.get("dbname", info.get("user", ""))
    return f"postgresql://{host}:{port}/{database}"


def _stored_checksum(connection: Connection, run_id: str, seq: int) -> str | None:
    """The checksum of the record at ``seq``: equal to ours only if it is our own record."""
    row = connection.execute(_SELECT_CHECKSUM, (run_id, seq)).fetchone()
    return None if row is None else str(row[0])


def _is_own_record(connection: Connection, snapshot: Snapshot) -> bool:
    """Whether the record stored at ``snapshot.seq`` is ``snapshot`` (on a candidate seq).

    Why: its checksum cannot tell, because the store may have added a frame the caller did not
    send (or left out the one it sent), so the records are compared without their frames."""
    row = connection.execute(_SELECT_CHECKSUM_PAYLOAD, (snapshot.run_id, snapshot.seq)).fetchone()
    if row is None:
        return False
    stored = decode_snapshot(snapshot.run_id, snapshot.seq, bytes(row[0]), row[1])
    return encode_json(attrs.evolve(stored, frame=None)) == encode_json(
        attrs.evolve(snapshot, frame=None)
    )


def _head_row(run: RunRecord) -> tuple[object, ...]:
    """The values ``_APPEND``/``_ADVANCE_HEAD`` take, up to the seq they move from."""
    values = (run.seq, run.state, run.status, list(run.waiting_for), run.error, run.updated_at)
    return (*values, run.run_id, run.seq - 1)


def _run_row(run: RunRecord) -> tuple[object, ...]:
    return run_columns(run, list(run.waiting_for))


def _run_from_row(row: tuple[Any, ...]) -> RunRecord:
    """A ``RunRecord`` from a row in the column order of ``_SELECT_RUN``."""
    return run_from_columns(row, tuple(row[7]))
