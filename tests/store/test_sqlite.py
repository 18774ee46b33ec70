"""What only the SQLite store has: pragmas, migrations, file errors, locking and load speed."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import attrs
import pytest

from fsm.errors import CorruptionError, StoreError
from fsm.store import Durability, SqliteStore
from fsm.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION, found_version, migrate

from .builders import new_run, step


@pytest.mark.parametrize(("durability", "synchronous"), [("normal", "normal"), ("full", "full")])
def test_durability_is_applied_to_the_connection(
    tmp_path: Path, durability: Durability, synchronous: str
) -> None:
    """The connection reports WAL, the chosen synchronous level and the busy timeout."""
    store = SqliteStore(tmp_path / "r.db", durability=durability, busy_timeout=0.25)
    settings = store.settings()
    store.close()
    assert (settings.journal_mode, settings.synchronous) == ("wal", synchronous)
    assert settings.busy_timeout_ms == 250


def test_an_unknown_durability_is_refused(tmp_path: Path) -> None:
    """Only normal and full exist; anything else is a StoreError naming both."""
    with pytest.raises(StoreError, match="durability must be one of normal, full; got 'off'"):
        SqliteStore(tmp_path / "r.db", durability="off")  # type: ignore[arg-type]


def test_migrations_apply_once_and_reopening_keeps_the_data(tmp_path: Path) -> None:
    """Opening a file again applies nothing new, and runs written before are still there."""
    path = tmp_path / "r.db"
    run, start = new_run("r1")
    with closing(SqliteStore(path)) as first:
        first.create_run(run, start)
    with closing(SqliteStore(path)) as second:
        assert second.settings().schema_version == SCHEMA_VERSION == len(MIGRATIONS)
        assert second.get_run("r1") == run
    with closing(sqlite3.connect(path)) as db:
        versions = [v for (v,) in db.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(len(MIGRATIONS)))


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    """A schema version this code does not know stops the open with an upgrade hint."""
    path = tmp_path / "r.db"
    SqliteStore(path).close()
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("INSERT INTO schema_migrations VALUES (?, 0)", (SCHEMA_VERSION,))
    with pytest.raises(StoreError, match=r"newer than this Flow Orchestra knows.*upgrade"):
        SqliteStore(path)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    """Opening a text file or a directory raises StoreError naming the path."""
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not SQLite " * 100)
    with pytest.raises(StoreError, match=f"cannot use {text} as a SQLite store"):
        SqliteStore(text)
    with pytest.raises(StoreError, match=str(tmp_path)):
        SqliteStore(tmp_path)


def test_another_applications_database_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    """A SQLite file of another program (a mistyped --store) is not migrated: no tables are
    added to it and its journal mode stays; a file holding a table named like one of ours, or
    a Rails-style schema_migrations, is refused too. An empty file becomes a store."""
    schemas = {
        "app.db": "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)",
        "clash.db": "CREATE TABLE runs (id INTEGER PRIMARY KEY)",
        "rails.db": "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY);"
        " CREATE TABLE runs (x); CREATE TABLE records (y)",
    }
    for name, schema in schemas.items():
        path = tmp_path / name
        with closing(sqlite3.connect(path)) as db:
            db.executescript(schema)
            before = db.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall()
        with pytest.raises(StoreError, match=f"{path} is a SQLite database but not a Flow"):
            SqliteStore(path)
        with closing(sqlite3.connect(path)) as db:
            assert db.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall() == before
            assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    empty = tmp_path / "empty.db"
    empty.touch()
    with closing(SqliteStore(empty)) as store:
        assert store.settings().schema_version == SCHEMA_VERSION


def test_an_old_file_that_cannot_be_written_says_it_needs_upgrading(tmp_path: Path) -> None:
    """Opening a file of an older schema migrates it, even to read it; a read-only one said
    only "attempt to write a readonly database", which reads as a bug of a read command. (Root
    writes any file, so the test opens the connection read-only.)"""
    path = tmp_path / "r.db"
    SqliteStore(path).close()
    with closing(sqlite3.connect(path)) as db, db:  # back to schema 4, as that version wrote it
        db.execute("DROP TRIGGER records_running_head")
        db.execute("DELETE FROM schema_migrations WHERE version = 4")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)) as db:
        found = found_version(db, str(path))
        assert found == 4
        with pytest.raises(StoreError, match=rf"{path} has schema version 4.*read-only"):
            migrate(db, str(path), found)


def test_a_writer_holding_the_lock_too_long_is_reported(tmp_path: Path) -> None:
    """When another connection keeps the write lock past busy_timeout, append says so."""
    path = tmp_path / "r.db"
    store = SqliteStore(path, busy_timeout=0.05)
    run, start = new_run("r1")
    store.create_run(run, start)
    snapshot, head = step(run, "reviewing")
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        raised = r"past the busy timeout; retry, or raise it \(\?busy_timeout=SECONDS"
        with pytest.raises(StoreError, match=raised):
            store.append(snapshot, head)
        other.execute("ROLLBACK")
    store.append(snapshot, head)
    assert store.get_run("r1").seq == 1
    store.close()


def test_opening_a_current_file_to_read_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    """A store opened while another connection holds the write lock reads at once (WAL lets
    readers through); only a file that needs a migration takes the lock."""
    path = tmp_path / "r.db"
    run, start = new_run("r1")
    with closing(SqliteStore(path)) as store:
        store.create_run(run, start)
    with closing(sqlite3.connect(path, isolation_level=None)) as other:
        other.execute("BEGIN IMMEDIATE")
        with closing(SqliteStore(path, busy_timeout=0.05)) as reader:
            assert reader.get_run("r1") == run
            assert [s.seq for s in reader.history("r1")] == [0]
        other.execute("ROLLBACK")


def test_one_handle_serves_many_threads(tmp_path: Path) -> None:
    """Threads sharing one store object each append their own run without errors."""
    store = SqliteStore(tmp_path / "r.db")
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            run, start = new_run(f"run{index}", context={"log": []})
            store.create_run(run, start)
            for _ in range(50):
                snapshot, run = step(run, "reviewing", appended={"log": [index]})
                store.append(snapshot, run)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [store.load_state(f"run{i}").context["log"] for i in range(8)] == [
        [i] * 50 for i in range(8)
    ]
    store.close()


def test_a_transition_is_stored_as_its_change_not_the_context(tmp_path: Path) -> None:
    """A delta's stored size does not depend on the context's size (a ~1 MB context here)."""
    store = SqliteStore(tmp_path / "r.db")
    # Random text, so the start frame stays about its JSON size once compressed.
    big = {"log": [os.urandom(50).hex() for _ in range(10_000)], "blob": os.urandom(50_000).hex()}
    run, start = new_run("r1", context=big)
    store.create_run(run, start)
    snapshot, head = step(run, "reviewing", changes={"draft": {"t": 1}}, appended={"log": ["a"]})
    store.append(snapshot, head)
    store.close()
    with closing(sqlite3.connect(tmp_path / "r.db")) as db:
        sizes = dict(db.execute("SELECT seq, length(payload) FROM snapshots"))
    assert sizes[0] > 500_000
    assert sizes[1] < 300


def test_loading_state_deep_in_a_long_run_is_fast(tmp_path: Path) -> None:
    """At seq 10,000 (frames every 100) a load reads one frame plus < 100 deltas: <= 5 ms."""
    store = SqliteStore(tmp_path / "r.db")
    run, start = new_run("r1", context={"log": [], "draft": None})
    store.create_run(run, start)
    for index in range(1, 10_001):
        draft = {"title": f"v{index}", "body": "b" * 200, "words": index}
        snapshot, run = step(run, "reviewing", changes={"draft": draft}, appended={"log": [index]})
        store.append(snapshot, run)
    best: dict[int, float] = {}
    for seq in (10_000, 9_999, 5_050):
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            loaded = store.load_state("r1", seq)
            timings.append(time.perf_counter() - began)
        best[seq] = min(timings)
        assert loaded.steps == seq
        assert loaded.context["draft"] == {"title": f"v{seq}", "body": "b" * 200, "words": seq}
    store.close()
    assert max(best.values()) <= 0.005, best


def _run_r1(tmp_path: Path, steps: int) -> SqliteStore:
    """A store in ``tmp_path/r.db`` holding run r1 with ``steps`` records after its start."""
    store = SqliteStore(tmp_path / "r.db", frame_interval=100)
    run, start = new_run("r1", context={"log": []})
    store.create_run(run, start)
    for _ in range(steps):
        snapshot, run = step(run, "reviewing", appended={"log": ["x"]})
        store.append(snapshot, run)
    return store


def test_a_deleted_record_is_reported_not_skipped(tmp_path: Path) -> None:
    """Rows removed behind the store's back make history and replay raise CorruptionError."""
    store = _run_r1(tmp_path, 5)
    with closing(sqlite3.connect(tmp_path / "r.db")) as db, db:
        db.execute("DELETE FROM snapshots WHERE run_id = 'r1' AND seq IN (2, 4)")
    with pytest.raises(CorruptionError, match="2 of the records from seq 0 to 5 are missing"):
        store.history("r1")
    with pytest.raises(CorruptionError, match="run r1: record r1 seq 3 does not follow seq 1"):
        store.load_state("r1", 5)
    assert [s.seq for s in store.history("r1", 0, 2)] == [0, 1]
    store.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("payload", "replace(payload, 'reviewing', 'reviewinX')"),  # SQL turns the BLOB into TEXT
        ("payload", "42"),
        ("checksum", "lower(hex(checksum))"),  # hex text of the right digest: still accepted
        ("checksum", "7"),
    ],
)
def test_a_record_edited_in_sql_to_another_type_is_corruption(
    tmp_path: Path, column: str, value: str
) -> None:
    """Hand edits through the ``snapshots`` view that change a column's type are reported as
    CorruptionError, never a TypeError (a hex checksum of the right digest is schema 1's
    format and still verifies)."""
    store = _run_r1(tmp_path, 3)
    with closing(sqlite3.connect(tmp_path / "r.db")) as db, db:
        db.execute(f"UPDATE snapshots SET {column} = {value} WHERE run_id = 'r1' AND seq = 2")
    if value.startswith("lower(hex("):
        assert [s.seq for s in store.history("r1")] == [0, 1, 2, 3]
        store.close()
        return
    for read in (lambda: store.history("r1"), lambda: store.load_state("r1", 3)):
        with pytest.raises(CorruptionError, match="run r1 seq 2: the stored record"):
            read()
    store.close()


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("status = 'cancelled'", "its row in the runs table is not one Flow Orchestra writes"),
        ("seq = -1", "its row in the runs table is not one Flow Orchestra writes"),
        ("waiting_for = 'approve'", "its waiting_for column holds 'approve'"),
        ("waiting_for = '[1]'", "its waiting_for column holds '\\[1\\]'"),
    ],
)
def test_a_runs_row_edited_in_sql_into_one_no_writer_makes_is_corruption(
    tmp_path: Path, assignment: str, message: str
) -> None:
    """The runs row has no checksum: a status set by hand to one the store does not know (an
    operator 'cancelling' a run) or a waiting_for that is no JSON list of names is reported as
    CorruptionError naming the run, never a ValueError or JSONDecodeError traceback."""
    store = _run_r1(tmp_path, 2)
    with closing(sqlite3.connect(tmp_path / "r.db")) as db, db:
        db.execute(f"UPDATE runs SET {assignment} WHERE run_id = 'r1'")
    for read in (lambda: store.get_run("r1"), store.list_runs):
        with pytest.raises(CorruptionError, match=f"run r1: {message}"):
            read()
    store.close()


def test_a_record_marked_by_hand_as_a_frame_is_corruption(tmp_path: Path) -> None:
    """``full_frame`` is outside the checksum: set on a record without a frame, loading the
    state from it is CorruptionError, not replay's ValueError for a caller's bug."""
    store = _run_r1(tmp_path, 3)
    with closing(sqlite3.connect(tmp_path / "r.db")) as db, db:
        db.execute("UPDATE snapshots SET full_frame = 1 WHERE run_id = 'r1' AND seq = 2")
    with pytest.raises(CorruptionError, match="run r1 seq 2: the store marks this record"):
        store.load_state("r1", 3)
    store.close()


def test_deleting_a_finished_runs_last_record_is_reported(tmp_path: Path) -> None:
    """The runs row keeps the seq of the last status change, so a deleted tail behind it shows."""
    store = SqliteStore(tmp_path / "r.db")
    run, start = new_run("r1", context={"log": []})
    store.create_run(run, start)
    for status in ("running", "completed"):
        snapshot, run = step(run, "reviewing", appended={"log": ["x"]}, status=status)
        store.append(snapshot, run)
    with closing(sqlite3.connect(tmp_path / "r.db")) as db, db:
        db.execute("DELETE FROM snapshots WHERE run_id = 'r1' AND seq = 2")
    with pytest.raises(CorruptionError, match=r"head is seq 2 but the newest record .* is seq 1"):
        store.get_run("r1")
    with pytest.raises(CorruptionError, match="records were deleted"):
        store.load_state("r1")
    store.close()


def test_an_append_that_keeps_the_status_writes_no_runs_row(tmp_path: Path) -> None:
    """The head is the newest record: the runs row is written only for a head that is not
    plain 'running' (it waits, completed or failed)."""
    store = SqliteStore(tmp_path / "r.db")
    run, start = new_run("r1", context={"log": []})
    store.create_run(run, start)
    heads = []
    for status in ("running", "running", "waiting", "waiting"):
        snapshot, run = step(run, "reviewing", appended={"log": ["x"]}, status=status)
        store.append(snapshot, run)
        heads.append(run)
        with closing(sqlite3.connect(tmp_path / "r.db")) as db:
            (row_seq,) = db.execute("SELECT seq FROM runs WHERE run_id = 'r1'").fetchone()
        assert store.get_run("r1") == run
        assert row_seq == (0 if status == "running" else len(heads))
    assert store.list_runs() == [heads[-1]]
    store.close()


def test_a_version_1_file_is_migrated_and_its_runs_read_and_continue(tmp_path: Path) -> None:
    """Records written by schema 1 (hex checksums, head only in runs) stay readable and
    appendable after the migration that makes the head implicit."""
    path = tmp_path / "r.db"
    run, start = new_run("r1", context={"log": []})
    with closing(SqliteStore(path)) as store:
        store.create_run(run, start)
        for _ in range(3):
            snapshot, run = step(run, "reviewing", appended={"log": ["x"]})
            store.append(snapshot, run)
    with closing(sqlite3.connect(path)) as db, db:  # rewrite the file as schema 1 had it
        db.execute(
            "UPDATE runs SET seq = 3, state = 'reviewing', updated_at = ?", (run.updated_at,)
        )
        db.execute("UPDATE records SET checksum = lower(hex(checksum))")
        db.execute("DROP TRIGGER records_running_head")  # schema 5's
        for column in ("status", "waiting_for", "error"):
            db.execute(f"ALTER TABLE records DROP COLUMN {column}")
        db.execute("ALTER TABLE records DROP COLUMN state")
        db.execute("ALTER TABLE records DROP COLUMN updated_at")
        db.execute("DELETE FROM schema_migrations WHERE version >= 1")
    with closing(SqliteStore(path)) as store:
        assert store.settings().schema_version == SCHEMA_VERSION
        assert store.get_run("r1") == run
        assert [s.seq for s in store.history("r1")] == [0, 1, 2, 3]
        snapshot, run = step(run, "approval", changes={"x": 1}, status="waiting")
        store.append(snapshot, run)
        assert store.get_run("r1") == run
        assert store.load_state("r1").context == {"log": ["x", "x", "x"], "x": 1}


def test_an_append_after_an_update_run_elsewhere_brings_the_runs_row_back(tmp_path: Path) -> None:
    """An update_run from another connection between two appends of this one (which skip the
    head check) is superseded by the next record: the newer of row and record is the head."""
    path = tmp_path / "r.db"
    with closing(SqliteStore(path)) as writer, closing(SqliteStore(path)) as other:
        run, start = new_run("r1", context={"log": []})
        writer.create_run(run, start)
        snapshot, run = step(run, "reviewing", appended={"log": ["x"]})
        writer.append(snapshot, run)
        other.update_run(attrs.evolve(run, status="failed", error="cancelled"))
        assert other.get_run("r1").status == "failed"
        snapshot, run = step(run, "drafting", appended={"log": ["y"]})
        writer.append(snapshot, run)  # this handle wrote seq 1: no head check
        assert other.get_run("r1") == run
        # The record brought the row back too, so the status index finds the run as running.
        assert [r.run_id for r in other.list_runs(status="running")] == ["r1"]
        assert other.list_runs(status="failed") == []
        assert other.claim("w", 30.0) == ["r1"]
        snapshot, run = step(run, "approval", changes={"x": 1}, status="waiting")
        writer.append(snapshot, run)
        assert [r.run_id for r in other.list_runs(status="waiting")] == ["r1"]


def test_a_version_2_file_keeps_each_runs_status_after_the_migration(tmp_path: Path) -> None:
    """Schema 2 kept the status only in the runs row (current even when older records
    followed it); the migration copies it onto each run's newest record."""
    path = tmp_path / "r.db"
    with closing(SqliteStore(path)) as store:
        run, start = new_run("r1", context={"log": []})
        store.create_run(run, start)
        snapshot, run = step(run, "approval", status="waiting", waiting_for=("approve",))
        store.append(snapshot, run)
        snapshot, run = step(run, "review", status="waiting", waiting_for=("approve",))
        store.append(snapshot, run)
        other, other_start = new_run("r2", context={"log": []})
        store.create_run(other, other_start)
        snapshot, other = step(other, "reviewing")
        store.append(snapshot, other)
    with closing(sqlite3.connect(path)) as db, db:  # as schema 2 left it: row at seq 1
        db.execute("UPDATE runs SET seq = 1, state = 'approval' WHERE run_id = 'r1'")
        db.execute("DROP TRIGGER records_running_head")  # schema 5's
        for column in ("status", "waiting_for", "error"):
            db.execute(f"ALTER TABLE records DROP COLUMN {column}")
        db.execute("DELETE FROM schema_migrations WHERE version >= 2")
    with closing(SqliteStore(path)) as store:
        assert store.settings().schema_version == SCHEMA_VERSION
        assert store.get_run("r1") == run
        assert store.get_run("r2") == other
        assert [r.run_id for r in store.list_runs(status="waiting")] == ["r1"]
        assert store.claim("w", 30) == ["r2"]


class _FullDisk:
    """A connection whose COMMIT fails as on a full disk; everything else is the real one."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self._real = real

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._real.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._real, name)


def test_a_run_whose_creation_did_not_commit_is_not_remembered(tmp_path: Path) -> None:
    """The handle keeps a run's internal key only once the run is committed: a key kept from
    a failed COMMIT names no run, or (once another process creates that run id) another row."""
    run, start = new_run("r1")
    with closing(SqliteStore(tmp_path / "runs.db")) as store:
        real = store._db
        store._db = _FullDisk(real)  # type: ignore[assignment]
        with pytest.raises(StoreError, match="disk is full"):
            store.create_run(run, start)
        store._db = real
        assert "r1" not in store._run_keys
        assert store.list_runs() == []
        store.create_run(run, start)  # the same id, now committed, works as new
        assert store.get_run("r1").seq == 0


def test_a_store_in_a_folder_it_cannot_write_says_why_it_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In WAL mode SQLite creates -wal and -shm files beside the store even to read it: an
    existing, readable file in a read-only folder failed with only 'unable to open database
    file'. (Root writes anywhere, so the folder's access is what the test takes away.)"""
    from fsm.store import sqlite as sqlite_store

    path = tmp_path / "runs.db"
    SqliteStore(path).close()
    monkeypatch.setattr(sqlite_store.os, "access", lambda folder, mode: False)
    hint = sqlite_store._folder_hint(str(path))
    assert f"the folder {tmp_path} is not writable" in hint
    assert "runs.db-wal and -shm files" in hint
    assert sqlite_store._folder_hint(str(tmp_path / "missing.db")) == ""


def _plan(path: Path, query: str, values: tuple[object, ...]) -> str:
    with closing(sqlite3.connect(path)) as db:
        return " | ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + query, values))


def test_listing_by_status_and_claiming_search_the_status_index(tmp_path: Path) -> None:
    """With many finished runs, a worker's claim and ``fsm runs --status`` must not read
    every run: their plans search the status index instead of scanning by creation time."""
    from fsm.store import sqlite_schema as sql

    path = tmp_path / "r.db"
    with closing(SqliteStore(path)):
        pass
    by_status = _plan(path, sql.LIST_RUNS_BY_STATUS, ("running", 50))
    runnable = _plan(path, sql.SELECT_RUNNABLE, (0.0, 8))
    assert "SEARCH runs USING INDEX runs_by_status (status=?)" in by_status
    assert "SEARCH runs USING INDEX runs_by_status (status=?)" in runnable


def test_a_waiting_run_that_received_its_event_is_listed_and_claimed_as_running(
    tmp_path: Path,
) -> None:
    """The append after a status change rewrites the runs row, so the status index finds the
    run by its current status, on this handle and on any other."""
    path = tmp_path / "r.db"
    with closing(SqliteStore(path)) as store, closing(SqliteStore(path)) as other:
        run, start = new_run("r1", context={"log": []})
        store.create_run(run, start)
        snapshot, run = step(run, "approval", status="waiting", waiting_for=("go",))
        store.append(snapshot, run)
        assert [r.run_id for r in other.list_runs(status="waiting")] == ["r1"]
        snapshot, run = step(run, "drafting", event="go", status="running")
        store.append(snapshot, run)
        snapshot, run = step(run, "reviewing", appended={"log": ["x"]})
        store.append(snapshot, run)
        assert [r.run_id for r in other.list_runs(status="running")] == ["r1"]
        assert other.list_runs(status="waiting") == []
        assert other.claim("w", 30.0, limit=5) == ["r1"]


def test_a_version_3_file_brings_rows_behind_a_newer_record_up_to_date(tmp_path: Path) -> None:
    """Schema 3 left a waiting run's row 'waiting' once its event made it run again; the
    migration to 4 moves such rows to their newest record, so the run is listed and claimed."""
    path = tmp_path / "r.db"
    run, start = new_run("r1", context={"log": []})
    with closing(SqliteStore(path)) as store:
        store.create_run(run, start)
        snapshot, run = step(run, "approval", status="waiting", waiting_for=("go",))
        store.append(snapshot, run)
        snapshot, run = step(run, "drafting", event="go", status="running")
        store.append(snapshot, run)
    with closing(sqlite3.connect(path)) as db, db:  # the row as schema 3 left it
        db.execute("UPDATE runs SET status = 'waiting', waiting_for = '[\"go\"]', seq = 1")
        db.execute("DROP TRIGGER records_running_head")  # schema 5's
        db.execute("DELETE FROM schema_migrations WHERE version >= 3")
    with closing(SqliteStore(path)) as store:
        assert store.settings().schema_version == SCHEMA_VERSION
        assert store.get_run("r1") == run
        assert [r.run_id for r in store.list_runs(status="running")] == ["r1"]
        assert store.claim("w", 30.0) == ["r1"]


def test_a_running_record_from_a_writer_that_keeps_the_row_is_still_listed_and_claimed(
    tmp_path: Path,
) -> None:
    """A process that opened the file under schema 3 and still runs inserts a waiting run's
    event record without rewriting the runs row; the file itself brings the row up to it, so
    the run is not lost to ``claim`` and status listings."""
    from fsm.store import sqlite_schema as sql
    from fsm.store.codec import encode_snapshot

    path = tmp_path / "r.db"
    with closing(SqliteStore(path)) as store:
        run, start = new_run("r1", context={"log": []})
        store.create_run(run, start)
        snapshot, run = step(run, "approval", status="waiting", waiting_for=("go",))
        store.append(snapshot, run)
        snapshot, run = step(run, "drafting", event="go", status="running")
        payload, checksum = encode_snapshot(snapshot, run.spec_hash)
        with closing(sqlite3.connect(path)) as db, db:  # what schema 3 code inserted, alone
            row = (sql.record_key(1, 2), 0, bytes.fromhex(checksum), payload, run.state)
            db.execute(sql.INSERT_SNAPSHOT, (*row, run.updated_at, None, None, None))
        assert store.get_run("r1") == run
        assert [r.run_id for r in store.list_runs(status="running")] == ["r1"]
        assert store.list_runs(status="waiting") == []
        assert store.claim("w", 30.0) == ["r1"]
