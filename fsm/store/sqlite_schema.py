"""The SQLite schema and every statement the SQLite store runs.

The schema is a tuple of migrations: ``MIGRATIONS[v]`` takes a database from version v to v+1.
Applied versions are recorded in ``schema_migrations``; opening a store applies the missing ones
in one ``BEGIN IMMEDIATE`` transaction, so two processes opening a new file at once cannot both
migrate it. Migrations are only ever appended, never edited once released.

Records live in the table ``records``, one B-tree keyed by the integer ``key = run_key << 32 |
seq`` (``run_key`` is the run's integer id). A run's records are therefore contiguous and in seq
order, and an append writes one table page plus the run's row, nothing else. The view
``snapshots(run_id, seq, full_frame, payload, checksum, key)`` shows them by run id and seq for
people and tools (updates and deletes through it reach ``records``); the store never queries it.
Statements are static text: values are always ``?`` parameters, never formatted in.
"""

from __future__ import annotations

import sqlite3
import time

from fsm.errors import StoreError

SEQ_BITS = 32
MAX_SEQ = (1 << SEQ_BITS) - 1
MAX_RUN_KEY = (1 << 31) - 1

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """
        CREATE TABLE runs (
            run_key INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL UNIQUE,
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
        CREATE TABLE records (
            key INTEGER PRIMARY KEY,
            full_frame INTEGER NOT NULL,
            checksum TEXT NOT NULL,
            payload BLOB NOT NULL
        )
        """,
        """
        CREATE VIEW snapshots AS
        SELECT runs.run_id AS run_id, records.key & 4294967295 AS seq,
            records.full_frame AS full_frame, records.payload AS payload,
            records.checksum AS checksum, records.key AS key
        FROM records JOIN runs ON runs.run_key = records.key >> 32
        """,
        """
        CREATE TRIGGER snapshots_update INSTEAD OF UPDATE ON snapshots BEGIN
            UPDATE records SET full_frame = NEW.full_frame, checksum = NEW.checksum,
                payload = NEW.payload
            WHERE key = OLD.key;
        END
        """,
        """
        CREATE TRIGGER snapshots_delete INSTEAD OF DELETE ON snapshots BEGIN
            DELETE FROM records WHERE key = OLD.key;
        END
        """,
    ),
    # Version 2: the head moves with the newest record (see ``_HEADS``). Records written
    # by version 1 leave these NULL; their runs row was moved with every append, so it is the
    # head for them (``runs.seq`` equals the newest record's seq).
    (
        "ALTER TABLE records ADD COLUMN state TEXT",
        "ALTER TABLE records ADD COLUMN updated_at REAL",
    ),
    # Version 3: each record carries the run's status, waiting_for and error after it (NULL
    # for the usual 'running', '[]' and none), so the newest record is the whole head and an
    # append is one INSERT. The runs row keeps the head as of ``runs.seq`` (create_run, and
    # update_run, which changes the status without a record); the newer of the two wins. The
    # last statement copies each run's status, current in the row under version 2, onto its
    # newest record.
    (
        "ALTER TABLE records ADD COLUMN status TEXT",
        "ALTER TABLE records ADD COLUMN waiting_for TEXT",
        "ALTER TABLE records ADD COLUMN error TEXT",
        """
        UPDATE records SET
            status = (SELECT nullif(status, 'running') FROM runs WHERE run_key = key >> 32),
            waiting_for = (SELECT nullif(waiting_for, '[]') FROM runs WHERE run_key = key >> 32),
            error = (SELECT error FROM runs WHERE run_key = key >> 32)
        WHERE key IN (
            SELECT (
                SELECT key FROM records
                WHERE key >= run_key << 32 AND key <= (run_key << 32) | 4294967295
                ORDER BY key DESC LIMIT 1
            )
            FROM runs
        )
        """,
    ),
    # Version 4: a runs row whose status is not 'running' is the run's current head (an
    # append after it rewrites the row), so the status index finds the runs of a status and
    # the runnable ones. Rows that earlier versions left behind a newer running record (a
    # waiting run that received its event) are brought up to that record.
    (
        """
        UPDATE runs SET (status, waiting_for, error, seq, state, updated_at) = (
            SELECT coalesce(status, 'running'), coalesce(waiting_for, '[]'), error,
                key & 4294967295, state, updated_at
            FROM records
            WHERE key >= runs.run_key << 32 AND key <= (runs.run_key << 32) | 4294967295
            ORDER BY key DESC LIMIT 1
        )
        WHERE status != 'running' AND seq < (
            SELECT key & 4294967295 FROM records
            WHERE key >= runs.run_key << 32 AND key <= (runs.run_key << 32) | 4294967295
            ORDER BY key DESC LIMIT 1
        )
        """,
    ),
    # Version 5: the file keeps the rule of version 4 itself. A running record after a row
    # that is not 'running' brings the row up to it, whoever inserts it: a process that
    # opened the file under version 3 and is still running (it never rewrites the row), or a
    # handle whose append skipped the head check after another's ``update_run``. Without
    # this such a run dropped out of the status index: never claimed, in no status listing.
    (
        """
        CREATE TRIGGER records_running_head AFTER INSERT ON records
        WHEN NEW.status IS NULL BEGIN
            UPDATE runs SET status = 'running', waiting_for = coalesce(NEW.waiting_for, '[]'),
                error = NEW.error, seq = NEW.key & 4294967295,
                state = coalesce(NEW.state, state),
                updated_at = coalesce(NEW.updated_at, updated_at)
            WHERE run_key = NEW.key >> 32 AND status != 'running'
                AND seq < NEW.key & 4294967295;
        END
        """,
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
# Every table, view, index and trigger in the file but SQLite's own (sqlite_sequence, ...).
_OBJECTS = "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite^_%' ESCAPE '^'"
_VERSIONS_COLUMNS = "SELECT name FROM pragma_table_info('schema_migrations')"
_INSERT_VERSION = "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"

# --- runs -----------------------------------------------------------------------------------

INSERT_RUN = """
    INSERT INTO runs (
        run_id, workflow, spec_hash, spec_path, status, state, seq, waiting_for, error,
        created_at, updated_at, parent_run_id, parent_seq, lease_owner, lease_expires_at
    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
# The head: the runs row is the head as of ``runs.seq``; the newest record (the subquery, one
# descending seek in the run's key range) carries the head after it. The newer one wins:
# ``SqliteStore._run_from_row`` picks it in Python, ``current_status`` in SQL.
_HEADS = """
    SELECT run_id, workflow, spec_hash, spec_path, runs.status, runs.state, runs.seq,
        runs.waiting_for, runs.error, created_at, runs.updated_at, parent_run_id, parent_seq,
        lease_owner, lease_expires_at,
        newest.key, newest.state, newest.updated_at, newest.status, newest.waiting_for,
        newest.error,
        CASE WHEN newest.key & 4294967295 > runs.seq THEN coalesce(newest.status, 'running')
            ELSE runs.status END AS current_status
    FROM runs LEFT JOIN records AS newest ON newest.key = (
        SELECT key FROM records
        WHERE key >= runs.run_key << 32 AND key <= (runs.run_key << 32) | 4294967295
        ORDER BY key DESC LIMIT 1
    )
"""
SELECT_RUN = _HEADS + "WHERE run_id = ?"
LIST_RUNS = _HEADS + "ORDER BY created_at DESC, run_id DESC LIMIT ?"
# ``runs.status = ?1`` lets the status index find the candidates (a run's row is 'running'
# unless its status changed at its newest record, see ``SqliteStore.append``); the current
# status is still checked, so a listing never shows a run by a stale row.
LIST_RUNS_BY_STATUS = (
    _HEADS
    + "WHERE runs.status = ?1 AND current_status = ?1"
    + " ORDER BY created_at DESC, run_id DESC LIMIT ?2"
)
SELECT_HEAD = """
    SELECT run_key, runs.seq, runs.state, newest.key, newest.state, runs.status
    FROM runs LEFT JOIN records AS newest ON newest.key = (
        SELECT key FROM records
        WHERE key >= runs.run_key << 32 AND key <= (runs.run_key << 32) | 4294967295
        ORDER BY key DESC LIMIT 1
    )
    WHERE run_id = ?
"""
SELECT_IDENTITY = "SELECT run_key, spec_hash FROM runs WHERE run_id = ?"
UPDATE_RUN = """
    UPDATE runs SET status = ?, waiting_for = ?, error = ?, updated_at = ?, seq = ?, state = ?
    WHERE run_key = ?
"""

# --- records (keys are run_key << 32 | seq) ---------------------------------------------------

# The last three columns are the head after the record: status, waiting_for and error, NULL
# for 'running', '[]' and none (most records).
INSERT_SNAPSHOT = """
    INSERT INTO records (
        key, full_frame, checksum, payload, state, updated_at, status, waiting_for, error
    )
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
SELECT_SNAPSHOTS = (
    "SELECT key, payload, checksum FROM records WHERE key >= ? AND key < ? ORDER BY key"
)
# ?1 is the run's first key, ?2 the key of a new record: the nearest frame before it and the
# payload bytes since (``length`` of a BLOB reads its size from the row header, not its pages).
SINCE_FRAME = """
    SELECT frame.key, (
        SELECT coalesce(sum(length(payload)), 0) FROM records WHERE key > frame.key AND key < ?2
    )
    FROM (
        SELECT key FROM records WHERE key >= ?1 AND key < ?2 AND full_frame = 1
        ORDER BY key DESC LIMIT 1
    ) AS frame
"""
# ?1 is the run's first key, ?2 the key of the wanted seq; the subquery walks back from ?2 to
# the nearest frame, reading only the small full_frame column of the records it passes.
SELECT_FROM_FRAME = """
    SELECT key, payload, checksum FROM records
    WHERE key <= ?2 AND key >= (
        SELECT key FROM records WHERE key >= ?1 AND key <= ?2 AND full_frame = 1
        ORDER BY key DESC LIMIT 1
    )
    ORDER BY key
"""

# --- leases ---------------------------------------------------------------------------------

SELECT_RUNNABLE = (
    "SELECT run_id FROM ("  # noqa: S608 -- joins constant SQL texts, no values
    + _HEADS
    + """ WHERE runs.status = 'running') WHERE current_status = 'running'
        AND (lease_owner IS NULL OR lease_expires_at <= ?)
    ORDER BY created_at, run_id LIMIT ?"""
)
TAKE_LEASE = "UPDATE runs SET lease_owner = ?, lease_expires_at = ? WHERE run_id = ?"
RENEW_LEASE = "UPDATE runs SET lease_expires_at = ? WHERE run_id = ? AND lease_owner = ?"
LEASE_RUN = """
    UPDATE runs SET lease_owner = ?, lease_expires_at = ?
    WHERE run_id = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at <= ?)
"""
HAND_OVER_LEASE = """
    UPDATE runs SET lease_owner = ?, lease_expires_at = ?
    WHERE run_id = ? AND lease_owner IN (?, ?)
"""
DROP_LEASE = """
    UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL
    WHERE run_id = ? AND lease_owner = ?
"""


def record_key(run_key: int, seq: int) -> int:
    """The ``records`` key of a run's record."""
    return (run_key << SEQ_BITS) | seq


def seq_of(key: int) -> int:
    return key & MAX_SEQ


def migrate(connection: sqlite3.Connection, path: str, found: int | None) -> int:
    """Bring the database up to ``SCHEMA_VERSION`` from ``found`` (``found_version``); return
    the version it was at.

    A file already at the current version (nearly every open) is only read: taking the write
    lock for nothing would make every reader (``fsm runs``, ``history``) wait for, and fail
    behind, a writer holding it."""
    if found is not None:
        _check_not_newer(found, path)
        if found == SCHEMA_VERSION:
            return found
    try:
        connection.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        _check_writable(exc, path, found)
        raise
    try:
        connection.execute(_CREATE_VERSIONS)
        (found,) = connection.execute(_SELECT_VERSION).fetchone()
        _check_not_newer(found, path)
        for version in range(found, SCHEMA_VERSION):
            for statement in MIGRATIONS[version]:
                connection.execute(statement)
            connection.execute(_INSERT_VERSION, (version, time.time()))
        connection.execute("COMMIT")
    except BaseException as exc:
        connection.execute("ROLLBACK")
        if isinstance(exc, sqlite3.OperationalError):
            _check_writable(exc, path, found)
        raise
    return int(found)


def _check_writable(exc: sqlite3.OperationalError, path: str, found: int | None) -> None:
    """A file that must be migrated but cannot be written: even a reader (``fsm runs``) has to
    upgrade it first, which SQLite's "attempt to write a readonly database" does not say."""
    if found is None or "readonly" not in str(exc):
        return
    raise StoreError(
        f"{path} has schema version {found}, which this Flow Orchestra upgrades to"
        f" {SCHEMA_VERSION} on opening (even to read it), but the file is read-only: make it"
        " writable once, or open it with the Flow Orchestra that wrote it"
    ) from exc


def found_version(connection: sqlite3.Connection, path: str) -> int | None:
    """The file's schema version, read without the write lock; None for a new, empty file.

    Another application's database is refused (``StoreError``) rather than migrated: that
    would add this store's tables to it, and switch it to WAL mode, if it was given by
    mistake (a wrong ``--store`` or ``FSM_STORE``). Call it before setting the journal mode."""
    connection.execute("BEGIN")  # one read transaction: all reads see one state of the file
    try:
        objects = {name: kind for kind, name in connection.execute(_OBJECTS)}
        if not objects:
            return None
        columns = {name for (name,) in connection.execute(_VERSIONS_COLUMNS)}
        ours = {"runs": "table", "records": "table", "schema_migrations": "table"}
        if "applied_at" not in columns or any(objects.get(n) != k for n, k in ours.items()):
            names = sorted(objects)
            shown = ", ".join(names[:6]) + (", ..." if len(names) > 6 else "")
            raise StoreError(
                f"{path} is a SQLite database but not a Flow Orchestra store (it holds"
                f" {shown}); it was left as it was: name a new file, or the store that holds"
                " your runs"
            )
        (version,) = connection.execute(_SELECT_VERSION).fetchone()
        return int(version)
    finally:
        connection.execute("COMMIT")


def _check_not_newer(found: int, path: str) -> None:
    if found > SCHEMA_VERSION:
        raise StoreError(
            f"{path} has schema version {found}, newer than this Flow Orchestra knows"
            f" ({SCHEMA_VERSION}); upgrade Flow Orchestra to open it"
        )


def schema_version(connection: sqlite3.Connection) -> int:
    (version,) = connection.execute(_SELECT_VERSION).fetchone()
    return int(version)
