"""The SQLite schema as migrations: ``MIGRATIONS[v]`` takes a database from version v to v+1.

Applied versions are recorded in ``schema_migrations``; opening a store applies the missing ones
in one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new file at once cannot both
migrate it. Migrations are only ever appended, never edited.
"""

from __future__ import annotations

import sqlite3
import time

from fsm.errors import StoreError

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            workflow TEXT NOT NULL,
            spec_hash TEXT NOT NULL,
            spec_path TEXT NOT NULL,
            status TEXT NOT NULL,
            state TEXT NOT NULL,
            seq INTEGER NOT NULL,
            waiting_for TEXT NOT NULL,
            error TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            parent_run_id TEXT,
            parent_seq INTEGER,
            lease_owner TEXT,
            lease_expires_at REAL
        )
        """,
        "CREATE INDEX runs_by_status ON runs (status, created_at)",
        "CREATE INDEX runs_by_created ON runs (created_at)",
        """
        CREATE TABLE snapshots (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            full_frame INTEGER NOT NULL,
            payload BLOB NOT NULL,
            checksum TEXT NOT NULL,
            PRIMARY KEY (run_id, seq)
        )
        """,
        "CREATE INDEX snapshots_frames ON snapshots (run_id, seq) WHERE full_frame = 1",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

_CREATE_VERSIONS = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        applied_at REAL NOT NULL
    )
"""
_SELECT_VERSION = "SELECT coalesce(max(version) + 1, 0) FROM schema_migrations"
_INSERT_VERSION = "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"


def migrate(connection: sqlite3.Connection, path: str) -> int:
    """Bring the database up to ``SCHEMA_VERSION``; return the version it was at."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        connection.execute(_CREATE_VERSIONS)
        (found,) = connection.execute(_SELECT_VERSION).fetchone()
        if found > SCHEMA_VERSION:
            raise StoreError(
                f"{path} has schema version {found}, newer than this Flow Orchestra knows"
                f" ({SCHEMA_VERSION}); upgrade Flow Orchestra to open it"
            )
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute(_INSERT_VERSION, (version, time.time()))
        connection.execute("COMMIT")
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    return int(found)


def schema_version(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute(_SELECT_VERSION).fetchone()
    return int(version)
