"""The conformance suite's backends: every test taking ``store`` or ``backend`` runs on each.

A backend is a ``Backend``: a fresh, empty store plus the hooks the suite needs to reach below
the protocol (another handle on the same storage, damaging a stored record). Adding a backend
is one entry in ``BACKENDS``.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from urllib.parse import quote

import attrs
import pytest

from fsm.store import MemoryStore, SqliteStore, Store

FRAME_INTERVAL = 4
"""Small, so every test that appends a few records crosses frame boundaries."""


@attrs.define
class FakeClock:
    """Lease time the tests move by hand, so expiry needs no sleeping."""

    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@attrs.frozen
class Backend:
    """One backend as the suite sees it.

    ``open(frame_interval)`` gives a handle on the same storage as ``store`` (a new connection;
    for the memory store, which is its own storage, a new empty store unless the interval
    matches, then the same object). ``corrupt(run_id, seq)`` changes one byte of a stored
    record behind the store's back."""

    name: str
    store: Store
    open: Callable[[int], Store]
    corrupt: Callable[[str, int], None]
    clock: FakeClock


@contextmanager
def memory_backend(tmp_path: Path, clock: FakeClock) -> Iterator[Backend]:
    store = MemoryStore(frame_interval=FRAME_INTERVAL, clock=clock)

    def open_memory(frame_interval: int) -> Store:
        if frame_interval == FRAME_INTERVAL:
            return store
        return MemoryStore(frame_interval=frame_interval, clock=clock)

    def corrupt(run_id: str, seq: int) -> None:
        payload, checksum = store._records[run_id][seq]
        store._records[run_id][seq] = (_flip_a_byte(payload), checksum)

    yield Backend("memory", store, open_memory, corrupt, clock)
    store.close()


@contextmanager
def sqlite_backend(tmp_path: Path, clock: FakeClock) -> Iterator[Backend]:
    path = tmp_path / "runs.db"

    def open_sqlite(frame_interval: int) -> Store:
        return SqliteStore(path, frame_interval=frame_interval, clock=clock)

    def corrupt(run_id: str, seq: int) -> None:
        with closing(sqlite3.connect(path)) as db, db:
            key = (run_id, seq)
            (payload,) = db.execute(
                "SELECT payload FROM snapshots WHERE run_id = ? AND seq = ?", key
            ).fetchone()
            db.execute(
                "UPDATE snapshots SET payload = ? WHERE run_id = ? AND seq = ?",
                (_flip_a_byte(payload), *key),
            )

    store = open_sqlite(FRAME_INTERVAL)
    yield Backend("sqlite", store, open_sqlite, corrupt, clock)
    store.close()


@contextmanager
def postgres_backend(tmp_path: Path, clock: FakeClock) -> Iterator[Backend]:
    """Each test gets its own schema (via ``search_path``), dropped afterwards.

    Assumes the conventions of docs/storage.md: ``PostgresStore(url, *, frame_interval,
    clock)`` creating unqualified tables, records in ``snapshots(run_id, seq, payload)``."""
    url = os.environ.get("FSM_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the store suite on PostgreSQL: FSM_TEST_POSTGRES_URL is unset")
        pytest.skip("PostgreSQL: set FSM_TEST_POSTGRES_URL to run the store suite against it")
    import psycopg
    from psycopg import sql

    from fsm.store import postgres

    schema = f"fsm_test_{uuid.uuid4().hex}"
    scoped = url + ("&" if "?" in url else "?") + "options=" + quote(f"-c search_path={schema}")
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:

            def open_postgres(frame_interval: int) -> Store:
                store: Store = postgres.PostgresStore(
                    scoped, frame_interval=frame_interval, clock=clock
                )
                return store

            def corrupt(run_id: str, seq: int) -> None:
                with psycopg.connect(scoped, autocommit=True) as db:
                    key = (run_id, seq)
                    row = db.execute(
                        "SELECT payload FROM snapshots WHERE run_id = %s AND seq = %s", key
                    ).fetchone()
                    assert row is not None
                    db.execute(
                        "UPDATE snapshots SET payload = %s WHERE run_id = %s AND seq = %s",
                        (_flip_a_byte(bytes(row[0])), *key),
                    )

            store = open_postgres(FRAME_INTERVAL)
            yield Backend("postgres", store, open_postgres, corrupt, clock)
            store.close()
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


BACKENDS: dict[str, Callable[[Path, FakeClock], AbstractContextManager[Backend]]] = {
    "memory": memory_backend,
    "sqlite": sqlite_backend,
    "postgres": postgres_backend,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    with BACKENDS[request.param](tmp_path, FakeClock()) as made:
        yield made


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.store


def _flip_a_byte(payload: bytes) -> bytes:
    middle = len(payload) // 2
    return payload[:middle] + bytes([payload[middle] ^ 0x01]) + payload[middle + 1 :]
