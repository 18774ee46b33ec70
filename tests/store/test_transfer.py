"""copy_run: a run moved to another store (SQLite to PostgreSQL, say) reads and continues there
as it would have in the store it came from."""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path

import attrs
import pytest

from fsm.errors import ConflictError, NotFoundError
from fsm.runtime import Workflow
from fsm.store import MemoryStore, SqliteStore, Store, copy_run

SPECS = Path(__file__).resolve().parents[2] / "specs"
BRIEF = {"brief": {"topic": "moving runs between stores", "audience": "technical"}}


def _records(store: Store, run_id: str) -> list[object]:
    """A run's records without their frames, which each store keeps at its own interval."""
    return [
        attrs.evolve(record, frame=None) if record.seq else record
        for record in store.history(run_id)
    ]


def _without_lease(store: Store, run_id: str) -> object:
    return attrs.evolve(store.get_run(run_id), lease_owner=None, lease_expires_at=None)


def test_a_waiting_run_is_copied_whole_and_continues_in_the_target(
    store: Store, tmp_path: Path
) -> None:
    """Head, every record and every state equal the source's; the copy is not left leased,
    answers its wait in the target, and the source run is untouched."""
    spec = tmp_path / "specs"
    shutil.copytree(SPECS, spec)
    with closing(SqliteStore(tmp_path / "source.db", frame_interval=2)) as source:
        run = Workflow.from_spec(spec / "content_pipeline.yaml", store=source).start(BRIEF)
        assert run.status == "waiting"
        copied = copy_run(source, store, run.run_id)
        assert copied == source.get_run(run.run_id)
        assert copied.lease_owner is None
        assert store.history(run.run_id) == source.history(run.run_id)
        for seq in range(run.seq + 1):
            assert store.load_state(run.run_id, seq) == source.load_state(run.run_id, seq)
        there = Workflow.from_spec(spec / "content_pipeline.yaml", store=store)
        there.run(run.run_id).send("approve", {"editor": "ada"})
        assert store.get_run(run.run_id).status == "completed"
        assert source.get_run(run.run_id).status == "waiting"
        with pytest.raises(ConflictError):
            copy_run(source, store, run.run_id)


def test_a_head_changed_without_a_record_is_copied_as_it_is(store: Store, tmp_path: Path) -> None:
    """A run whose status was changed by update_run (a cancelled run) keeps that head; a
    running run is left claimable by the target's workers."""
    with closing(SqliteStore(tmp_path / "source.db")) as source:
        workflow = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=source)
        cancelled = workflow.start(BRIEF, detach=True)
        head = source.get_run(cancelled.run_id)
        source.update_run(attrs.evolve(head, status="failed", error="cancelled", updated_at=5.0))
        queued = workflow.start(BRIEF, detach=True)
        for run_id in (cancelled.run_id, queued.run_id):
            copy_run(source, store, run_id)
            assert _without_lease(store, run_id) == _without_lease(source, run_id)
        assert store.claim("w1", 30, limit=5) == [queued.run_id]


class _FailingAfter:
    """A target store that breaks down after ``appends`` appends (a copy killed half-way)."""

    def __init__(self, store: Store, appends: int) -> None:
        self._store = store
        self._left = appends

    def append(self, snapshot: object, run: object) -> None:
        if self._left == 0:
            raise KeyboardInterrupt
        self._left -= 1
        self._store.append(snapshot, run)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_a_copy_stopped_half_way_is_finished_by_copying_again(store: Store, tmp_path: Path) -> None:
    """The half copy stays leased (no worker of the target takes it up), the source is not
    left leased, and copying again finishes it from where it stopped: one record each."""
    with closing(SqliteStore(tmp_path / "source.db")) as source:
        run = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=source).start(BRIEF)
        with pytest.raises(KeyboardInterrupt):
            copy_run(source, _FailingAfter(store, 2), run.run_id)  # type: ignore[arg-type]
        assert len(store.history(run.run_id)) == 3
        assert store.get_run(run.run_id).lease_owner is not None
        assert store.claim("w1", 30, limit=5) == []
        assert source.get_run(run.run_id).lease_owner is None
        copied = copy_run(source, store, run.run_id)
        assert copied == source.get_run(run.run_id)
        assert _records(store, run.run_id) == _records(source, run.run_id)
        assert copy_run(source, store, run.run_id) == copied  # whole already: left as it is


def test_a_run_leased_in_the_source_or_moved_on_in_the_target_is_not_copied(
    store: Store, tmp_path: Path
) -> None:
    """Something advancing the run in the source holds it back (named in the error); a copy
    that moved on in the target is neither copied over nor reported as a different run."""
    spec = tmp_path / "specs"
    shutil.copytree(SPECS, spec)
    with closing(SqliteStore(tmp_path / "source.db")) as source:
        run = Workflow.from_spec(spec / "content_pipeline.yaml", store=source).start(BRIEF)
        assert source.lease(run.run_id, "worker-7", 30)
        with pytest.raises(ConflictError, match="leased by worker-7"):
            copy_run(source, store, run.run_id)
        with pytest.raises(NotFoundError):
            store.get_run(run.run_id)
        source.release(run.run_id, "worker-7")
        copy_run(source, store, run.run_id)
        there = Workflow.from_spec(spec / "content_pipeline.yaml", store=store)
        there.run(run.run_id).send("approve", {"editor": "ada"})
        with pytest.raises(ConflictError, match="moved on in the target store"):
            copy_run(source, store, run.run_id)
        assert store.get_run(run.run_id).status == "completed"


def test_another_run_under_the_same_id_is_refused(store: Store, tmp_path: Path) -> None:
    with (
        closing(SqliteStore(tmp_path / "a.db")) as first,
        closing(SqliteStore(tmp_path / "b.db")) as second,
    ):
        for where in (first, second):
            Workflow.from_spec(SPECS / "content_pipeline.yaml", store=where).start(
                BRIEF, run_id="same-id"
            )
        copy_run(first, store, "same-id")
        with pytest.raises(ConflictError, match="different run same-id"):
            copy_run(second, store, "same-id")
        assert _records(store, "same-id") == _records(first, "same-id")


class _Counting:
    """A store that notes how many records each ``history`` call returns."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.reads: list[int] = []

    def history(self, run_id: str, start: int = 0, end: int | None = None) -> object:
        records = self._store.history(run_id, start, end)
        self.reads.append(len(records))
        return records

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_a_long_run_is_read_a_batch_at_a_time(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither store's history is read whole: a run of a million steps is copied, and a half
    copy compared, in flat memory."""
    from fsm.store import transfer

    monkeypatch.setattr(transfer, "_BATCH", 3)
    with closing(SqliteStore(tmp_path / "source.db")) as source:
        run = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=source).start(BRIEF)
        assert run.seq == 6
        with pytest.raises(KeyboardInterrupt):
            copy_run(source, _FailingAfter(store, 2), run.run_id)  # type: ignore[arg-type]
        counted_source, counted_target = _Counting(source), _Counting(store)
        copied = copy_run(counted_source, counted_target, run.run_id)  # type: ignore[arg-type]
        assert copied == source.get_run(run.run_id)
        assert _records(store, run.run_id) == _records(source, run.run_id)
        assert max(counted_source.reads) <= 3
        assert counted_target.reads == [3]  # the three records the half copy holds


def test_a_half_copy_is_never_claimed_by_the_target_s_workers(tmp_path: Path) -> None:
    """A copy killed half-way leaves its run leased in the target past any lease time, so no
    worker there advances a run missing its last records; copying again finishes it."""
    now = [1000.0]
    target = MemoryStore(clock=lambda: now[0])
    with closing(SqliteStore(tmp_path / "source.db")) as source:
        run = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=source).start(BRIEF)
        with pytest.raises(KeyboardInterrupt):
            copy_run(source, _FailingAfter(target, 2), run.run_id)  # type: ignore[arg-type]
        now[0] += 365 * 86400
        assert target.claim("w1", 30, limit=5) == []
        assert not target.lease(run.run_id, "fsm-cli:elsewhere", 30)
        copied = copy_run(source, target, run.run_id)
        assert copied == source.get_run(run.run_id)
        assert copied.lease_owner is None


def test_a_run_changed_without_a_record_since_its_copy_is_not_reported_copied(
    store: Store, tmp_path: Path
) -> None:
    """A run cancelled in the source after it was copied has the same records in both stores,
    but not the same head: copying again says so instead of 'already there'."""
    with closing(SqliteStore(tmp_path / "source.db")) as source:
        run = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=source).start(BRIEF)
        copy_run(source, store, run.run_id)
        assert copy_run(source, store, run.run_id) == store.get_run(run.run_id)
        head = source.get_run(run.run_id)
        source.update_run(attrs.evolve(head, status="failed", error="cancelled", updated_at=9.0))
        with pytest.raises(ConflictError, match="its head has changed since in one of the stores"):
            copy_run(source, store, run.run_id)
        assert store.get_run(run.run_id).status == "waiting"


def test_the_target_gets_a_frame_on_its_candidates_without_replaying(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy carries the run's state along and sends the frame on the target's candidate
    seqs, as the runtime does: the target no longer rebuilds it by replay inside each of those
    appends (which read and decoded each record several times). Every state still loads the
    same in both stores."""
    from fsm.store import memory, postgres, replay, sqlite
    from tests.store.builders import new_run, step

    source = MemoryStore(frame_interval=10_000)  # frames only at seq 0: the target makes its own
    run, start = new_run("long", context={"notes": [], "n": 0})
    source.create_run(run, start)
    for seq in range(1, 351):
        snapshot, run = step(run, "drafting", changes={"n": seq}, appended={"notes": [f"n{seq}"]})
        source.append(snapshot, run)
    rebuilt: list[int] = []
    real = replay.rebuild

    def counted(frame_record: object, deltas: list[object]) -> object:
        rebuilt.append(len(deltas))
        return real(frame_record, deltas)  # type: ignore[arg-type]

    for module in (memory, sqlite, postgres):
        monkeypatch.setattr(module, "rebuild", counted)
    copy_run(source, store, "long")
    assert rebuilt == []  # the copy starts from the start record's own frame
    for seq in range(0, 351, 7):
        assert store.load_state("long", seq) == source.load_state("long", seq)
