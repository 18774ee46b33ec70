"""What PostgresStore adds beyond the conformance suite: URL handling, migrations, the
database clock for leases, and clear errors when the server cannot be used."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner

from fsm.cli import main
from fsm.errors import CorruptionError, StoreError
from fsm.store import open_store
from fsm.store.postgres import PostgresStore
from fsm.store.postgres_schema import SCHEMA_VERSION
from tests.postgres.conftest import scoped, server_url
from tests.store.builders import new_run, step


def test_open_store_hands_postgresql_urls_to_postgres_store(postgres_url: str) -> None:
    """open_store('postgresql://…') returns a working PostgresStore."""
    with closing(open_store(postgres_url, cwd=Path.cwd())) as store:
        assert isinstance(store, PostgresStore)
        run, start = new_run()
        store.create_run(run, start)
        assert store.get_run(run.run_id) == run


def test_opening_twice_migrates_once(postgres_url: str) -> None:
    """A second store on the same schema applies no migration again; versions are recorded."""
    for _ in range(2):
        with closing(PostgresStore(postgres_url)):
            pass
    with psycopg.connect(postgres_url) as db:
        versions = db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [row[0] for row in versions] == list(range(SCHEMA_VERSION))


def test_leases_use_the_database_clock_by_default(postgres_url: str) -> None:
    """Without an injected clock, lease expiry is the server's time plus the lease."""
    with closing(PostgresStore(postgres_url)) as store:
        run, start = new_run()
        store.create_run(run, start)
        before = time.time()
        assert store.claim("w1", 30) == [run.run_id]
        expires = store.get_run(run.run_id).lease_expires_at
        assert expires is not None
        assert before + 29 < expires < time.time() + 31
        assert store.claim("w2", 30) == []
        assert store.renew(run.run_id, "w1", 0.0) is True
        assert store.claim("w2", 30) == [run.run_id]


def test_fsm_runs_counts_a_lease_down_by_the_database_clock(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leases expire by the server's clock; `fsm runs` used to subtract this machine's time
    from that, so a client clock 1000 s ahead showed a live 300 s lease as expired 700 s
    ago (and one behind, as lasting 1000 s longer). The time left is the store's to say."""
    with closing(PostgresStore(postgres_url)) as store:
        run, start = new_run()
        store.create_run(run, start)
        assert store.lease(run.run_id, "w1", 300)
    real_time = time.time
    for skew in (1000.0, -1000.0):
        monkeypatch.setattr(time, "time", lambda skew=skew: real_time() + skew)
        listed = CliRunner().invoke(main, ["runs", "--store", postgres_url])
        as_json = CliRunner().invoke(main, ["runs", "--store", postgres_url, "--json"])
        monkeypatch.setattr(time, "time", real_time)
        assert listed.exit_code == 0, listed.output
        left = re.search(r"leased to w1 for (\d+) s more", listed.stdout)
        assert left is not None, listed.stdout
        assert 290 <= int(left.group(1)) <= 300
        (entry,) = [e for e in json.loads(as_json.stdout) if e["run_id"] == run.run_id]
        assert 290 <= entry["lease_seconds_left"] <= 300


def test_an_unreachable_server_is_a_clear_store_error(caplog: pytest.LogCaptureFixture) -> None:
    """A URL nobody listens on fails at once (not after the pool's retries for the whole
    connect timeout) with a message naming the server and the cause, not the password, and
    without the pool's own retry warnings."""
    url = "postgresql://someone:secret@127.0.0.1:1/nowhere"
    began = time.monotonic()
    with pytest.raises(StoreError, match=r"cannot connect .*127\.0\.0\.1:1/nowhere") as caught:
        PostgresStore(url, connect_timeout=10)
    assert time.monotonic() - began < 5
    assert "Connection refused" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert not [r for r in caplog.records if r.name.startswith("psycopg")]


def test_a_search_path_naming_no_schema_is_a_clear_store_error(postgres_url: str) -> None:
    """Connected, but the URL's schema does not exist: a StoreError that says to create it,
    not psycopg's traceback from the first CREATE TABLE."""
    joiner = "&" if "?" in postgres_url else "?"
    url = f"{postgres_url}{joiner}options=-csearch_path%3Dfsm_no_such_schema"
    with pytest.raises(StoreError, match=r"cannot set up .*CREATE SCHEMA") as caught:
        PostgresStore(url)
    assert "no schema has been selected" in str(caught.value)


def test_a_user_without_create_on_the_schema_uses_tables_another_user_set_up(
    postgres_url: str,
) -> None:
    """An application user with rights on the tables but not CREATE on the schema (the usual
    least-privilege setup, and PostgreSQL 15's default on ``public``) opens a store whose
    tables an owner created, as the setup error advises; before, every open ran a CREATE
    TABLE IF NOT EXISTS and was refused. Without rights on the tables the error names them."""
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        row = admin.execute("SELECT current_schema()").fetchone()
        assert row is not None
        schema = str(row[0])
        role = f"fsm_app_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE ROLE "{role}"')
        try:
            admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"')
            # the application user's URL: the session takes its role, as a login would
            url = scoped(server_url(), f"{schema} -c role={role}")
            with pytest.raises(StoreError, match="needs CREATE on the schema"):
                PostgresStore(url)
            with closing(PostgresStore(postgres_url)):  # the owner sets the tables up
                pass
            with pytest.raises(StoreError, match=r"permission denied for table .*GRANT them"):
                PostgresStore(url)
            admin.execute(
                f'GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA "{schema}" TO "{role}"'
            )
            with closing(PostgresStore(url)) as store:
                run, start = new_run()
                store.create_run(run, start)
                assert store.claim("w1", 30) == [run.run_id]
        finally:
            admin.execute(f'DROP OWNED BY "{role}"')
            admin.execute(f'DROP ROLE "{role}"')


def test_a_deleted_record_is_reported_not_skipped(postgres_url: str) -> None:
    """Rows removed behind the store's back make history raise CorruptionError, as on SQLite,
    instead of a history that silently jumps over them."""
    with closing(PostgresStore(postgres_url)) as store:
        run, start = new_run(context={"log": []})
        store.create_run(run, start)
        for _ in range(5):
            snapshot, run = step(run, "reviewing", appended={"log": ["x"]})
            store.append(snapshot, run)
        with psycopg.connect(postgres_url, autocommit=True) as db:
            db.execute("DELETE FROM snapshots WHERE run_id = %s AND seq IN (2, 4)", (run.run_id,))
        with pytest.raises(CorruptionError, match="2 of the records from seq 0 to 5 are missing"):
            store.history(run.run_id)
        assert [s.seq for s in store.history(run.run_id, 0, 2)] == [0, 1]
        assert store.history(run.run_id, 7) == []


def test_a_malformed_url_is_a_clear_store_error() -> None:
    """A URL libpq cannot parse is refused before any connection is tried."""
    with pytest.raises(StoreError, match="not a valid PostgreSQL URL"):
        PostgresStore("postgresql://host:notaport/db?sslmode")


def test_a_closed_store_says_so(postgres_url: str) -> None:
    """Calls after close raise StoreError naming the closed store."""
    store = PostgresStore(postgres_url)
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.list_runs()


def test_an_agent_failure_whose_message_holds_a_nul_is_recorded(postgres_url: str) -> None:
    """PostgreSQL ``text`` refuses NUL: a failed run's error quoting a model's reply with one
    used to fail the append (StoreError) instead of recording the failure."""
    from fsm.runtime import AgentCall, Workflow
    from tests.runtime.specs import counter

    def bump(inputs: object, call: AgentCall) -> dict[str, object]:
        raise ValueError("the model replied 'ok\x00'")

    with closing(open_store(postgres_url, cwd=Path.cwd())) as store:
        run = Workflow.from_spec(counter(), agents={"bump": bump}, store=store).start()
        assert run.status == "failed"
        error = store.get_run(run.run_id).error
        assert error is not None
        assert "ValueError: the model replied 'ok\\x00'" in error
        assert "\x00" not in error


def _terminate_backends(url: str, application: str) -> int:
    """Kill, server-side, every connection whose application_name is ``application``."""
    with psycopg.connect(url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s",
            (application,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_connection_killed_server_side_is_replaced_not_reported(postgres_url: str) -> None:
    """The pool hands out connections unchecked: after an administrator, a failover or an
    idle timeout ended one, the next call on it failed with StoreError although the server
    was up, and a worker parked its run for a whole lease. A call now retries on another
    connection, through as many dead ones as the pool holds."""
    application = f"fsm_kill_{uuid.uuid4().hex[:12]}"
    url = f"{postgres_url}&application_name={application}"
    with closing(PostgresStore(url, pool_size=3)) as store:
        run, start = new_run()
        store.create_run(run, start)
        with store._connection(), store._connection(), store._connection():
            pass  # the pool holds three connections now, all of them killed below
        calls: list[Callable[[], object]] = [
            lambda: store.claim("w1", 30),
            lambda: store.renew(run.run_id, "w1", 30),
            lambda: store.append(*step(run, "reviewing")),
            lambda: store.get_run(run.run_id),
            lambda: store.history(run.run_id),
            lambda: store.load_state(run.run_id),
            store.list_runs,
            lambda: store.release(run.run_id, "w1"),
            lambda: store.lease(run.run_id, "cli", 30),
            lambda: store.create_run(*new_run()),
        ]
        for call in calls:
            assert _terminate_backends(postgres_url, application) >= 1
            call()
        assert [snapshot.seq for snapshot in store.history(run.run_id)] == [0, 1]
        assert store.get_run(run.run_id).lease_owner == "cli"


def test_repeating_an_append_whose_commit_was_not_acknowledged_succeeds(
    postgres_url: str,
) -> None:
    """A connection may break after the server committed an append or a create_run but before
    the client heard so; the retry then finds its own record (same checksum) and succeeds
    instead of reporting a conflict with itself. Another writer's record still conflicts."""
    from fsm.errors import ConflictError

    with closing(PostgresStore(postgres_url)) as store:
        run, start = new_run()
        store.create_run(run, start)
        store.create_run(run, start)  # the same run again: already there, so done
        snapshot, head = step(run, "reviewing", output={"by": "me"})
        store.append(snapshot, head)
        store.append(snapshot, head)
        assert [record.seq for record in store.history(run.run_id)] == [0, 1]
        other, other_head = step(run, "reviewing", output={"by": "other"})
        with pytest.raises(ConflictError, match="head is at seq 1"):
            store.append(other, other_head)
        with pytest.raises(ConflictError, match="already exists"):
            store.create_run(*new_run(run.run_id, context={"n": 2}))


def test_repeating_an_append_on_a_frame_candidate_seq_succeeds(postgres_url: str) -> None:
    """On a frame candidate seq (a multiple of frame_interval) the store may add a frame the
    caller did not send, so the repeat's checksum differs from the stored record's: a repeat
    there was refused as a conflict with itself ("cannot append seq 2, the head is at seq 2"),
    and a worker dropped its run, or `fsm run` said a worker had taken it over. Another
    writer's record on that seq still conflicts."""
    from fsm.errors import ConflictError

    with closing(PostgresStore(postgres_url, frame_interval=2)) as store:
        run, start = new_run(context={"n": 0})
        store.create_run(run, start)
        first, head = step(run, "reviewing", changes={"n": 1})
        store.append(first, head)
        second, head = step(head, "reviewing", changes={"n": 2}, output={"by": "me"})
        store.append(second, head)
        store.append(second, head)
        other, other_head = step(head, "reviewing", changes={"n": 3}, output={"by": "other"})
        store.append(other, other_head)
        fourth, head = step(other_head, "reviewing", changes={"n": 4})
        store.append(fourth, head)
        store.append(fourth, head)
        with pytest.raises(ConflictError, match="head is at seq 4"):
            store.append(*step(other_head, "reviewing", changes={"n": 5}))
        assert [record.seq for record in store.history(run.run_id)] == [0, 1, 2, 3, 4]
        assert store.load_state(run.run_id).context == {"n": 4}


def test_the_pool_reconnects_soon_after_a_long_outage(postgres_url: str) -> None:
    """The pool retries a connection with doubling delays until its reconnect timeout; at
    psycopg_pool's default (300 s) they reached 128 s, so workers stayed idle for minutes
    after the server came back from an outage of a few minutes. Walk the pool's own backoff
    over a ten-minute outage: no wait between attempts is long."""
    from psycopg_pool.base import AttemptWithBackoff

    with closing(PostgresStore(postgres_url)) as store:
        timeout = store._pool.reconnect_timeout
    now, longest = 0.0, 0.0
    while now < 600:
        attempt = AttemptWithBackoff(timeout=timeout)  # a new one after each give-up
        while not attempt.time_to_give_up(now):
            attempt.update_delay(now)
            longest = max(longest, attempt.delay)
            now += attempt.delay or 0.01
    assert longest <= 20, f"the pool waits up to {longest:.0f} s between attempts"


def test_a_pool_with_no_free_connection_says_what_may_be_wrong(postgres_url: str) -> None:
    """All connections busy (here the only one, held by a transaction): the error names both
    causes, a server refusing connections or a pool too small, and how to size the pool."""
    store = PostgresStore(postgres_url, pool_size=1, connect_timeout=1)
    # the pool's one connection, held while another call waits for it
    with closing(store), store._pool.connection(), pytest.raises(StoreError) as caught:
        store.list_runs()
    message = str(caught.value)
    assert "became free in time" in message
    assert "every connection of this store's pool stayed busy (pool_size 1:" in message
    assert "PostgresStore(url, pool_size=...)" in message
