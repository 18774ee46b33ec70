"""copy_run: a run moved to another store (SQLite to PostgreSQL, say) reads and continues there
as it would have in the store it came from."""

from __future__ import annotations

import shutil
from contextlib import closing
from pathlib import Path

import attrs
import pytest

from fsm.errors import ConflictError
from fsm.runtime import Workflow
from fsm.store import SqliteStore, Store, copy_run

SPECS = Path(__file__).resolve().parents[2] / "specs"
BRIEF = {"brief": {"topic": "moving runs between stores", "audience": "technical"}}


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
