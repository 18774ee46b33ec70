"""The stepper hands the store a frame on every K-th record, and that frame is the exact state;
and the heads it hands over keep what a transition does not move."""

from __future__ import annotations

from typing import Any

import attrs

from fsm.runtime import AgentCall, Workflow
from fsm.store import MemoryStore, RunRecord, Snapshot

from .specs import counter


class RecordingStore(MemoryStore):
    """A memory store that keeps every snapshot the runtime appends, as it was given."""

    def __init__(self, frame_interval: int) -> None:
        super().__init__(frame_interval=frame_interval)
        self.appended: list[Snapshot] = []

    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        self.appended.append(snapshot)
        super().append(snapshot, run)


def bump(inputs: Any, call: AgentCall) -> dict[str, object]:
    return {"value": inputs.value + 1}


def test_frame_seqs_carry_the_exact_state_so_the_store_never_replays() -> None:
    """Every K-th record arrives with a frame equal to the state rebuilt from deltas alone."""
    store = RecordingStore(frame_interval=3)
    handle = Workflow.from_spec(counter(), agents={"bump": bump}, store=store).start()
    reference = MemoryStore(frame_interval=10_000)
    replay = Workflow.from_spec(counter(), agents={"bump": bump}, store=reference).start()
    framed = [s for s in store.appended if s.seq % 3 == 0]
    assert [s.seq for s in framed] == [3, 6, 9]
    assert all(s.frame is not None for s in framed)
    assert all(s.frame is None for s in store.appended if s.seq % 3)
    for snapshot in framed:
        expected = reference.load_state(replay.run_id, snapshot.seq)
        assert snapshot.frame == {
            "context": expected.context,
            "state": expected.state,
            "steps": expected.steps,
            "visits": expected.visits,
        }
    assert handle.context_json == replay.context_json


def test_a_frame_does_not_share_the_live_run_s_growing_lists() -> None:
    """Lists in a frame are copies: later appends to the live run leave the frame as it was."""
    store = RecordingStore(frame_interval=2)
    Workflow.from_spec(counter(), agents={"bump": bump}, store=store).start()
    first = next(s for s in store.appended if s.frame is not None)
    assert first.frame is not None
    assert first.frame["context"]["items"] == [1, 2]


class HeadRecordingStore(RecordingStore):
    """Also keeps every new head the runtime hands over."""

    def __init__(self) -> None:
        super().__init__(frame_interval=100)
        self.heads: list[RunRecord] = []

    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        self.heads.append(run)
        super().append(snapshot, run)


def test_each_new_head_keeps_every_field_a_transition_does_not_move() -> None:
    """The stepper builds heads field by field: identity and a fork's lineage carry over."""
    store = HeadRecordingStore()
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    parent = workflow.start()
    fork = workflow.fork(parent.run_id, at=2)
    store.heads.clear()
    fork.resume()
    created = store.get_run(fork.run_id)
    moved = {"seq", "state", "status", "waiting_for", "error", "updated_at"}
    assert created.parent_run_id == parent.run_id
    assert store.heads
    for head in store.heads:
        kept = {name: value for name, value in attrs.asdict(head).items() if name not in moved}
        assert kept == {k: v for k, v in attrs.asdict(created).items() if k not in moved}
