"""The PostgreSQL schema as migrations: ``MIGRATIONS[v]`` takes a schema from version v to v+1.

Tables are created unqualified, so they land in the first schema of the connection's
``search_path`` (``?options=-csearch_path%3Dtenant`` in the URL picks another). Applied
versions are recorded in ``schema_migrations``. Opening a store migrates inside one
transaction holding a transaction-scoped advisory lock, so workers starting together on a new
database wait for the first one instead of racing on ``CREATE TABLE``. Opening a schema that is
already current only reads its version, so a user with rights on the tables but not CREATE on
the schema (tables set up by another user) can use it. Migrations are only ever appended, never
edited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, LiteralString

from fsm.errors import StoreError

if TYPE_CHECKING:  # the driver is an optional extra; only fsm.store.postgres imports it
    import psycopg

MIGRATIONS: tuple[tuple[LiteralString, ...], ...] = (
    (
        """
        CREATE TABLE runs (
            run_id text PRIMARY KEY,
            workflow text NOT NULL,
            spec_hash text NOT NULL,
            spec_path text NOT NULL,
            status text NOT NULL,
            state text NOT NULL,
            seq bigint NOT NULL,
            waiting_for text[] NOT NULL,
            error text,
            created_at double precision NOT NULL,
            updated_at double precision NOT NULL,
            parent_run_id text,
            parent_seq bigint,
            lease_owner text,
            lease_expires_at double precision
        )
        """,
        "CREATE INDEX runs_by_status ON runs (status, created_at)",
        "CREATE INDEX runs_by_created ON runs (created_at)",
        # What ``claim`` scans: only running runs, in the order they are handed out.
        "CREATE INDEX runs_runnable ON runs (created_at, run_id) WHERE status = 'running'",
        """
        CREATE TABLE snapshots (
            run_id text NOT NULL,
            seq bigint NOT NULL,
            full_frame boolean NOT NULL,
            payload bytea NOT NULL,
            checksum text NOT NULL,
            PRIMARY KEY (run_id, seq)
        )
        """,
        "CREATE INDEX snapshots_frames ON snapshots (run_id, seq) WHERE full_frame",
    ),
)

SCHEMA_VERSION = len(MIGRATIONS)

# Any constant works; it only has to be the same for every Flow Orchestra process.
_MIGRATION_LOCK = 0x46534D5F4D494752  # "FSM_MIGR"

_LOCK = "SELECT pg_advisory_xact_lock(%s)"
_CREATE_VERSIONS = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        applied_at timestamptz NOT NULL DEFAULT now()
    )
"""
_SELECT_VERSION = "SELECT coalesce(max(version) + 1, 0) FROM schema_migrations"
# Whether the schema tables are created in (the first existing one of the search_path) has
# the version table: NULL when it has not, or when no schema of the search_path exists.
_HAS_VERSIONS = "SELECT to_regclass(quote_ident(current_schema()) || '.schema_migrations')"
_INSERT_VERSION = "INSERT INTO schema_migrations (version) VALUES (%s)"


def migrate(connection: psycopg.Connection[tuple[object, ...]], where: str) -> int:
    """Bring the schema up to ``SCHEMA_VERSION``; return the version it was at."""
    row = connection.execute(_HAS_VERSIONS).fetchone()
    if row is not None and row[0] is not None:
        # Why: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the table
        # exists, which a least-privilege application user does not have.
        found = schema_version(connection)
        _check_not_newer(found, where)
        if found == SCHEMA_VERSION:
            return found
    with connection.transaction():
        connection.execute(_LOCK, (_MIGRATION_LOCK,))
        connection.execute(_CREATE_VERSIONS)
        found = schema_version(connection)
        _check_not_newer(found, where)
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute(_INSERT_VERSION, (version,))
    return found


def _check_not_newer(found: int, where: str) -> None:
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"{where} has schema version {found}, newer than this Flow Orchestra knows"
            f" ({SCHEMA_VERSION}); upgrade Flow Orchestra to open it"
        )


def schema_version(connection: psycopg.Connection[tuple[object, ...]]) -> int:
    row = connection.execute(_SELECT_VERSION).fetchone()
    assert row is not None
    value = row[0]
    assert isinstance(value, int)
    return value
