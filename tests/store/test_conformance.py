"""The store conformance suite: what every backend must do, run against each (see conftest)."""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsm.errors import ConflictError, CorruptionError, NotFoundError, StoreError
from fsm.store import Frame, RunRecord, RunState, Snapshot, Store, encode_snapshot, full_frame
from fsm.store.base import MAX_FRAME_GAP
from tests.strategies import json_values

from .builders import new_run, step
from .conftest import FRAME_INTERVAL, Backend


def started(store: Store, **kwargs: Any) -> RunRecord:
    run, start = new_run(**kwargs)
    store.create_run(run, start)
    return run


def advance(store: Store, run: RunRecord, count: int) -> RunRecord:
    """Append ``count`` transitions that each add one log line; return the new head."""
    for _ in range(count):
        snapshot, run = step(run, "reviewing", appended={"log": [f"step {run.seq + 1}"]})
        store.append(snapshot, run)
    return run


def without_frame(snapshot: Snapshot) -> Snapshot:
    return attrs.evolve(snapshot, frame=None) if snapshot.seq else snapshot


# --- runs -----------------------------------------------------------------------------------


def test_created_run_reads_back_equal(store: Store) -> None:
    """create_run stores the run exactly; get_run returns it."""
    run = started(store, context={"brief": {"topic": "storage"}})
    assert store.get_run(run.run_id) == run


def test_creating_an_existing_run_conflicts(store: Store) -> None:
    """A second create_run with the same id raises ConflictError and leaves the first intact."""
    run = started(store, context={"n": 1})
    again, start = new_run(run.run_id, context={"n": 2})
    with pytest.raises(ConflictError, match=run.run_id):
        store.create_run(again, start)
    assert store.load_state(run.run_id).context == {"n": 1}


def test_unknown_run_is_not_found_everywhere(store: Store) -> None:
    """Every operation on a run id the store does not hold raises NotFoundError, whose
    ``run_id`` names the run (StoreError's documented field, for callers that handle it)."""
    ghost, _ = new_run()
    snapshot, head = step(ghost, "reviewing")
    calls = [
        lambda: store.get_run(ghost.run_id),
        lambda: store.history(ghost.run_id),
        lambda: store.load_state(ghost.run_id),
        lambda: store.append(snapshot, head),
        lambda: store.update_run(ghost),
        lambda: store.renew(ghost.run_id, "w1", 10),
        lambda: store.release(ghost.run_id, "w1"),
        lambda: store.hand_over(ghost.run_id, "w1", "w2", 10),
    ]
    for call in calls:
        with pytest.raises(NotFoundError, match=ghost.run_id) as caught:
            call()
        assert caught.value.run_id == ghost.run_id


def test_list_runs_newest_first_within_limit(store: Store) -> None:
    """list_runs orders by creation time, newest first, and stops at limit."""
    runs = [started(store, created_at=1000.0 + i) for i in range(5)]
    listed = store.list_runs(limit=3)
    assert [r.run_id for r in listed] == [r.run_id for r in reversed(runs)][:3]
    assert store.list_runs(limit=0) == []


def test_a_limit_beyond_64_bits_means_all(store: Store) -> None:
    """A limit larger than any database integer (`fsm runs --limit 10**20`) lists or claims
    every run instead of overflowing the query parameter."""
    runs = [started(store, created_at=1000.0 + i) for i in range(3)]
    assert len(store.list_runs(limit=10**20)) == 3
    assert len(store.list_runs(status="running", limit=10**20)) == 3
    assert sorted(store.claim("w1", 10, limit=10**20)) == sorted(r.run_id for r in runs)


def test_list_runs_filters_by_status(store: Store) -> None:
    """list_runs(status=...) returns exactly the runs currently in that status."""
    running = started(store, created_at=1.0)
    waiting = started(store, created_at=2.0)
    snapshot, head = step(waiting, "approval", status="waiting", waiting_for=("approve",))
    store.append(snapshot, head)
    assert [r.run_id for r in store.list_runs(status="running")] == [running.run_id]
    assert [r.run_id for r in store.list_runs(status="waiting")] == [waiting.run_id]
    assert store.list_runs(status="completed") == []


def test_list_runs_rejects_an_unknown_status(store: Store) -> None:
    """A status outside running/waiting/completed/failed is a ValueError naming the choices."""
    with pytest.raises(ValueError, match="running, waiting, completed, failed"):
        store.list_runs(status="done")  # type: ignore[arg-type]  # the wrong value is the test


# --- appending ------------------------------------------------------------------------------


def test_append_moves_the_head_and_keeps_identity_and_lease(store: Store) -> None:
    """append makes the given run the head but keeps identity and lease fields as stored."""
    run = started(store)
    assert store.claim("w1", 30, limit=1) == [run.run_id]
    leased = store.get_run(run.run_id)
    snapshot, head = step(run, "approval", status="waiting", waiting_for=("approve", "reject"))
    store.append(snapshot, attrs.evolve(head, workflow="other", lease_owner=None))
    stored = store.get_run(run.run_id)
    assert stored == attrs.evolve(
        leased,
        seq=1,
        state="approval",
        status="waiting",
        waiting_for=("approve", "reject"),
        updated_at=head.updated_at,
    )


def test_appending_a_taken_seq_conflicts(store: Store) -> None:
    """A second append of the same seq raises ConflictError; the first record stays."""
    run = started(store)
    first, head = step(run, "reviewing", output={"by": "first"})
    second, second_head = step(run, "failed", output={"by": "second"}, status="failed")
    store.append(first, head)
    with pytest.raises(ConflictError, match="head is at seq 1") as caught:
        store.append(second, second_head)
    assert (caught.value.run_id, caught.value.seq) == (run.run_id, 1)
    assert store.history(run.run_id, 1) == [first]
    assert store.get_run(run.run_id) == head


def test_appending_past_the_head_conflicts(store: Store) -> None:
    """An append that would leave a gap (seq head+2) raises ConflictError."""
    run = started(store)
    _, head = step(run, "reviewing")
    gapped, gapped_head = step(head, "approval")
    with pytest.raises(ConflictError, match="cannot append seq 2"):
        store.append(gapped, gapped_head)
    assert store.get_run(run.run_id) == run


def test_append_rejects_a_head_that_disagrees_with_its_record(store: Store) -> None:
    """The head's run, seq, state and status must match the record: a caller bug, ValueError."""
    run = started(store)
    snapshot, head = step(run, "reviewing")
    for wrong in (
        attrs.evolve(head, seq=2),
        attrs.evolve(head, state="approval"),
        attrs.evolve(head, status="failed"),
        attrs.evolve(head, run_id="other"),
    ):
        with pytest.raises(ValueError, match="seq"):
            store.append(snapshot, wrong)
    assert store.get_run(run.run_id) == run


def test_a_record_that_is_not_json_ready_is_refused_and_not_stored(store: Store) -> None:
    """Non-JSON values (a set, NaN) raise StoreError and leave the run untouched."""
    run = started(store)
    for bad in ({"tags": {1, 2}}, {"score": float("nan")}):
        snapshot, head = step(run, "reviewing", changes=bad)
        with pytest.raises(StoreError, match="not JSON-ready"):
            store.append(snapshot, head)
    assert store.get_run(run.run_id) == run
    assert len(store.history(run.run_id)) == 1


def test_a_frame_that_is_not_json_ready_is_refused_as_a_store_error(store: Store) -> None:
    """A frame sent with a candidate record holding a value JSON cannot hold (a set, bytes)
    is a StoreError like any other record that is not JSON-ready, not a bare TypeError."""
    run = started(store)
    for _ in range(FRAME_INTERVAL - 1):
        snapshot, run = step(run, "reviewing")
        store.append(snapshot, run)
    for bad in ({1, 2}, b"raw"):
        frame = Frame(context={"bad": bad}, state="reviewing", steps=4, visits={"reviewing": 4})
        snapshot, head = step(run, "reviewing", frame=frame)
        with pytest.raises(StoreError, match="not JSON-ready"):
            store.append(snapshot, head)
    assert store.get_run(run.run_id) == run


def test_handles_racing_for_one_seq_have_exactly_one_winner(backend: Backend) -> None:
    """Four handles appending the same seq at once: one succeeds, three get ConflictError."""
    run = started(backend.store)
    handles = [backend.open(FRAME_INTERVAL) for _ in range(4)]
    try:
        for _ in range(10):
            outcomes = _race(handles, run)
            assert sorted(outcomes) == ["conflict"] * 3 + ["won"]
            run = backend.store.get_run(run.run_id)
    finally:
        for handle in handles:
            handle.close()
    assert run.seq == 10


def _race(handles: list[Store], run: RunRecord) -> list[str]:
    barrier = threading.Barrier(len(handles))
    outcomes: list[str] = []

    def attempt(handle: Store, name: str) -> None:
        snapshot, head = step(run, "reviewing", output={"writer": name})
        barrier.wait()
        try:
            handle.append(snapshot, head)
            outcomes.append("won")
        except ConflictError:
            outcomes.append("conflict")

    threads = [
        threading.Thread(target=attempt, args=(handle, f"w{i}")) for i, handle in enumerate(handles)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


# --- history and state ----------------------------------------------------------------------


def test_history_returns_the_requested_half_open_range(store: Store) -> None:
    """history(start, end) returns seqs start..end-1, clipped to what exists."""
    run = advance(store, started(store), 6)
    seqs = lambda *args: [s.seq for s in store.history(run.run_id, *args)]  # noqa: E731
    assert seqs() == list(range(7))
    assert seqs(2, 5) == [2, 3, 4]
    assert seqs(5) == [5, 6]
    assert seqs(4, 100) == [4, 5, 6]
    assert seqs(5, 5) == []
    assert seqs(9) == []
    assert seqs(-5, 2) == [0, 1]
    assert seqs(-3, -1) == []
    assert seqs(4, 2) == []


def test_history_returns_records_as_appended(store: Store) -> None:
    """Records read back equal the records written (the store may only add frames)."""
    run, start = new_run(context={"brief": {"topic": "t"}, "log": []})
    store.create_run(run, start)
    written = [start]
    for i in range(1, 7):
        snapshot, run = step(
            run,
            "reviewing" if i % 2 else "drafting",
            changes={"draft": {"title": f"v{i}", "body": "é ☃ \u0000", "n": i / 3}},
            appended={"log": [f"line {i}", None]},
            output={"title": f"v{i}"},
            event="approve" if i == 3 else None,
        )
        store.append(snapshot, run)
        written.append(snapshot)
    assert [without_frame(s) for s in store.history(run.run_id)] == written


def test_store_keeps_a_frame_at_every_interval_while_frames_are_small(store: Store) -> None:
    """With records outweighing the state, every K-th record gets the full state, sent or not."""
    run = advance(store, started(store, context={"log": []}), 2 * FRAME_INTERVAL + 1)
    history = store.history(run.run_id)
    framed = [s.seq for s in history if s.frame is not None]
    assert framed == [0, FRAME_INTERVAL, 2 * FRAME_INTERVAL]
    for record in history:
        if record.frame is not None:
            assert record.frame == full_frame(store.load_state(run.run_id, record.seq))


def test_frames_of_a_growing_list_cost_at_most_what_they_save(store: Store) -> None:
    """A frame is kept only where the records since the last one weigh at least as much."""
    run = started(store, context={"items": []})
    for index in range(12 * FRAME_INTERVAL):
        snapshot, run = step(run, "drafting", appended={"items": [f"{index:04d}" + "x" * 500]})
        store.append(snapshot, run)
    history = store.history(run.run_id)
    framed = [s.seq for s in history if s.frame is not None]
    assert framed[0] == 0
    assert len(framed) < 12  # candidates were skipped
    assert all(b - a <= MAX_FRAME_GAP * FRAME_INTERVAL for a, b in itertools.pairwise(framed))
    bare = [len(encode_snapshot(without_frame(s))[0]) for s in history]
    for last, frame_seq in itertools.pairwise(framed):
        frame_bytes = len(encode_snapshot(history[frame_seq])[0]) - bare[frame_seq]
        assert sum(bare[last + 1 : frame_seq + 1]) >= frame_bytes
    for seq in range(run.seq + 1):
        assert store.load_state(run.run_id, seq).context["items"] == [
            item for s in history[1 : seq + 1] for item in s.appended["items"]
        ]


def test_a_large_state_changing_little_still_gets_a_frame_every_few_intervals(
    store: Store,
) -> None:
    """Frames bigger than the records they save still come at least every MAX_FRAME_GAP·K."""
    run = started(store, context={"big": "b" * 20_000, "n": 0})
    for n in range(1, 2 * MAX_FRAME_GAP * FRAME_INTERVAL + 2):
        snapshot, run = step(run, "drafting", changes={"n": n})
        store.append(snapshot, run)
    framed = [s.seq for s in store.history(run.run_id) if s.frame is not None]
    gap = MAX_FRAME_GAP * FRAME_INTERVAL
    assert framed == [0, gap, 2 * gap]
    assert store.load_state(run.run_id, 2 * gap - 1).context == {
        "big": "b" * 20_000,
        "n": 2 * gap - 1,
    }


def test_a_callers_frame_is_stored_and_replay_starts_from_it(store: Store) -> None:
    """A frame sent with a record off the interval is kept, and later loads build on it."""
    run = advance(store, started(store, context={"log": []}), 1)
    snapshot, run = step(run, "approval", changes={"x": 1})
    # The marker is in no record's changes: seeing it proves loads start from this frame.
    frame = full_frame(store.load_state(run.run_id))
    frame.update(context={"log": ["step 1"], "x": 1, "marker": True}, state="approval", steps=2)
    frame["visits"]["approval"] = 1
    store.append(attrs.evolve(snapshot, frame=frame), run)
    snapshot, run = step(run, "published", appended={"log": ["done"]}, status="completed")
    store.append(snapshot, run)
    assert store.history(run.run_id, 2, 3)[0].frame == frame
    state = store.load_state(run.run_id)
    assert state.context == {"log": ["step 1", "done"], "x": 1, "marker": True}
    assert (state.steps, state.visits["published"]) == (3, 1)


REPLACED = ("draft", "review", "score")
APPENDED = ("log", "notes")
transitions = st.fixed_dictionaries(
    {
        "target": st.sampled_from(("drafting", "reviewing", "approval")),
        "changes": st.dictionaries(st.sampled_from(REPLACED), json_values, max_size=2),
        "appended": st.dictionaries(
            st.sampled_from(APPENDED), st.lists(json_values, max_size=3), max_size=2
        ),
        "send_frame": st.sampled_from((False, False, False, True)),
    }
)
initial_contexts = st.fixed_dictionaries(
    {"log": st.lists(json_values, max_size=3), "draft": json_values},
    optional={"notes": st.lists(json_values, max_size=2)},
)


@pytest.fixture
def stores_by_interval(backend: Backend) -> Iterator[dict[int, Store]]:
    stores = {interval: backend.open(interval) for interval in (1, 3, 100)}
    yield stores
    for store in stores.values():
        store.close()


# Each example starts a new run, so sharing the function-scoped stores between examples is safe.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    interval=st.sampled_from((1, 3, 100)),
    initial=initial_contexts,
    steps=st.lists(transitions, max_size=20),
)
def test_load_state_at_every_seq_equals_a_full_replay(
    stores_by_interval: dict[int, Store],
    interval: int,
    initial: dict[str, Any],
    steps: list[dict[str, Any]],
) -> None:
    """Whatever the frame spacing and caller frames, every seq loads the reference state."""
    store = stores_by_interval[interval]
    run, start = new_run(context=initial)
    store.create_run(run, start)
    expected = [_reference_start(run, initial)]
    written = [start]
    for spec in steps:
        state = _reference_step(expected[-1], spec)
        frame = full_frame(copy.deepcopy(state)) if spec["send_frame"] else None
        snapshot, run = step(
            run, spec["target"], changes=spec["changes"], appended=spec["appended"], frame=frame
        )
        store.append(snapshot, run)
        expected.append(state)
        written.append(snapshot)
    assert [store.load_state(run.run_id, seq) for seq in range(run.seq + 1)] == expected
    assert [without_frame(s) for s in store.history(run.run_id)] == [
        without_frame(s) for s in written
    ]


def _reference_start(run: RunRecord, initial: dict[str, Any]) -> RunState:
    return RunState(
        context=copy.deepcopy(initial),
        state=run.state,
        steps=0,
        visits={run.state: 1},
        seq=0,
        status=run.status,
    )


def _reference_step(before: RunState, spec: dict[str, Any]) -> RunState:
    """The state after one transition, computed from full copies (no replay code involved)."""
    context = copy.deepcopy(before.context)
    context.update(copy.deepcopy(spec["changes"]))
    for name, items in spec["appended"].items():
        context[name] = [*(context.get(name) or []), *copy.deepcopy(items)]
    visits = dict(before.visits)
    visits[spec["target"]] = visits.get(spec["target"], 0) + 1
    return RunState(
        context=context,
        state=spec["target"],
        steps=before.steps + 1,
        visits=visits,
        seq=before.seq + 1,
        status=before.status,
    )


def test_load_state_defaults_to_the_head(store: Store) -> None:
    """load_state without seq rebuilds the newest state: context, steps, visits, status."""
    run = started(store, context={"log": ["start"], "draft": None})
    snapshot, run = step(run, "reviewing", changes={"draft": {"v": 1}}, appended={"log": ["a"]})
    store.append(snapshot, run)
    snapshot, run = step(run, "drafting", changes={"draft": {"v": 2}}, appended={"log": ["b", "c"]})
    store.append(snapshot, run)
    snapshot, run = step(run, "approval", status="waiting", waiting_for=("approve",))
    store.append(snapshot, run)
    state = store.load_state(run.run_id)
    assert state.context == {"log": ["start", "a", "b", "c"], "draft": {"v": 2}}
    assert (state.seq, state.state, state.steps, state.status) == (3, "approval", 3, "waiting")
    assert state.visits == {"drafting": 2, "reviewing": 1, "approval": 1}
    assert store.load_state(run.run_id, 1).context == {"log": ["start", "a"], "draft": {"v": 1}}


def test_load_state_of_a_missing_seq_is_not_found(store: Store) -> None:
    """Seqs below 0 or past the head raise NotFoundError saying which seqs exist."""
    run = advance(store, started(store), 2)
    for seq in (-1, 3):
        with pytest.raises(NotFoundError, match="from 0 to 2"):
            store.load_state(run.run_id, seq)


def test_a_corrupted_record_is_never_used(backend: Backend) -> None:
    """A stored record altered behind the store's back raises CorruptionError naming it."""
    store = backend.store
    run = advance(store, started(store, context={"log": []}), 6)
    backend.corrupt(run.run_id, 5)
    with pytest.raises(CorruptionError, match=f"run {run.run_id} seq 5") as caught:
        store.history(run.run_id)
    assert (caught.value.run_id, caught.value.seq) == (run.run_id, 5)
    with pytest.raises(CorruptionError, match="seq 5"):
        store.load_state(run.run_id)
    assert store.load_state(run.run_id, 4).seq == 4
    assert [s.seq for s in store.history(run.run_id, 0, 5)] == [0, 1, 2, 3, 4]


def test_a_corrupted_frame_is_never_used(backend: Backend) -> None:
    """Damage to the start frame surfaces on every load that replays from it."""
    store = backend.store
    run = advance(store, started(store, context={"log": []}), 2)
    backend.corrupt(run.run_id, 0)
    with pytest.raises(CorruptionError, match="seq 0"):
        store.load_state(run.run_id, 2)


# --- update_run -----------------------------------------------------------------------------


def test_update_run_changes_status_without_a_transition(store: Store) -> None:
    """update_run writes status, waiting_for, error and updated_at, and appends nothing."""
    run = started(store)
    assert store.claim("w1", 30) == [run.run_id]
    leased = store.get_run(run.run_id)
    changed = attrs.evolve(run, status="failed", error="cancelled by user", updated_at=2000.0)
    store.update_run(changed)
    assert store.get_run(run.run_id) == attrs.evolve(
        leased, status="failed", error="cancelled by user", updated_at=2000.0
    )
    assert len(store.history(run.run_id)) == 1


def test_update_run_of_a_stale_head_conflicts(store: Store) -> None:
    """update_run based on an older seq raises ConflictError and changes nothing."""
    run = started(store)
    head = advance(store, run, 1)
    with pytest.raises(ConflictError, match="moved on to seq 1"):
        store.update_run(attrs.evolve(run, status="failed"))
    assert store.get_run(run.run_id) == head


def test_update_run_cannot_change_the_state(store: Store) -> None:
    """Moving to another state takes a transition record, so update_run refuses it."""
    run = started(store)
    with pytest.raises(ValueError, match="append it"):
        store.update_run(attrs.evolve(run, state="published"))


# --- leases ---------------------------------------------------------------------------------


def test_claim_takes_only_running_unleased_runs_oldest_first(store: Store) -> None:
    """claim leases running runs without a lease, oldest first, up to limit."""
    old = started(store, created_at=1.0)
    new = started(store, created_at=3.0)
    waiting = started(store, created_at=2.0, status="waiting", state="approval")
    assert store.claim("w1", 30, limit=1) == [old.run_id]
    assert store.claim("w2", 30, limit=5) == [new.run_id]
    assert store.claim("w3", 30, limit=5) == []
    owner = store.get_run(new.run_id)
    assert (owner.lease_owner, owner.lease_expires_at) == ("w2", pytest.approx(1_000_030.0))
    assert store.get_run(waiting.run_id).lease_owner is None


def test_an_expired_lease_is_taken_over(backend: Backend) -> None:
    """After its lease expires a run goes to the next worker; the old owner cannot renew."""
    store = backend.store
    run = started(store)
    assert store.claim("w1", 10) == [run.run_id]
    backend.clock.advance(9.9)
    assert store.claim("w2", 10) == []
    backend.clock.advance(0.2)
    assert store.claim("w2", 10) == [run.run_id]
    assert store.renew(run.run_id, "w1", 10) is False
    assert store.get_run(run.run_id).lease_owner == "w2"


def test_a_lease_is_over_at_the_instant_it_expires(backend: Backend) -> None:
    """Expiry is inclusive on every backend: at ``expires == now`` the run can be claimed and
    leased by another owner (the boundary ``claim``, ``lease`` and takeovers share)."""
    store = backend.store
    first, second = started(store), started(store)
    assert sorted(store.claim("w1", 10, limit=2)) == sorted([first.run_id, second.run_id])
    backend.clock.advance(10)
    claimed = store.claim("w2", 10, limit=1)
    assert len(claimed) == 1
    other = second.run_id if claimed == [first.run_id] else first.run_id
    assert store.lease(other, "w3", 10) is True
    assert store.get_run(other).lease_owner == "w3"


def test_seq_0_is_refused_by_append(store: Store) -> None:
    """A start record goes in with ``create_run`` only: an ``append`` of seq 0 would be a
    second start, so it is a caller bug (``ValueError``) and nothing is written."""
    run, start = new_run()
    store.create_run(run, start)
    with pytest.raises(ValueError, match="seq 0 is written by create_run"):
        store.append(start, run)
    assert len(store.history(run.run_id)) == 1


def test_renew_extends_only_the_owners_lease(backend: Backend) -> None:
    """The owner's renew pushes expiry forward; another worker's renew fails and changes nothing."""
    store = backend.store
    run = started(store)
    store.claim("w1", 10)
    backend.clock.advance(8)
    assert store.renew(run.run_id, "w2", 10) is False
    assert store.renew(run.run_id, "w1", 10) is True
    backend.clock.advance(8)
    assert store.claim("w2", 10) == []
    assert store.get_run(run.run_id).lease_expires_at == pytest.approx(1_000_018.0)


def test_a_lapsed_lease_renews_until_someone_else_claims_the_run(backend: Backend) -> None:
    """Past expiry the owner may still renew while no other worker has claimed the run."""
    store = backend.store
    run = started(store)
    store.claim("w1", 10)
    backend.clock.advance(15)
    assert store.renew(run.run_id, "w1", 10) is True
    assert store.claim("w2", 10) == []


def test_release_frees_the_run_for_others(store: Store) -> None:
    """release by a non-owner does nothing; by the owner it makes the run claimable again."""
    run = started(store)
    store.claim("w1", 60)
    store.release(run.run_id, "w2")
    assert store.get_run(run.run_id).lease_owner == "w1"
    store.release(run.run_id, "w1")
    released = store.get_run(run.run_id)
    assert (released.lease_owner, released.lease_expires_at) == (None, None)
    assert store.claim("w2", 60) == [run.run_id]


def test_lease_takes_one_given_run_whatever_its_status(backend: Backend) -> None:
    """A process advancing a run itself leases it first: a waiting run too, then no worker
    claims it once it runs; another owner is refused while the lease lives, not after."""
    store = backend.store
    waiting = started(store, status="waiting", state="approval")
    assert store.lease(waiting.run_id, "cli", 10) is True
    assert store.lease(waiting.run_id, "cli", 20) is True  # its own lease: taken again
    assert store.get_run(waiting.run_id).lease_expires_at == pytest.approx(1_000_020.0)
    assert store.lease(waiting.run_id, "w1", 10) is False
    snapshot, head = step(waiting, "drafting", event="reject")
    store.append(snapshot, head)  # the event made it runnable; the lease still holds it
    assert store.get_run(waiting.run_id).lease_owner == "cli"
    assert store.claim("w1", 10) == []
    backend.clock.advance(20.1)
    assert store.lease(waiting.run_id, "w1", 10) is True
    assert store.get_run(waiting.run_id).lease_owner == "w1"
    with pytest.raises(NotFoundError):
        store.lease("no-such-run", "cli", 10)


def test_now_is_the_clock_leases_expire_by(backend: Backend) -> None:
    """``now()`` reads the clock lease expiries are set with, so expiry minus ``now()`` is
    the time a lease has left, whatever this machine's clock says."""
    store = backend.store
    run = started(store)
    store.claim("w1", 30)
    backend.clock.advance(12)
    expires = store.get_run(run.run_id).lease_expires_at
    assert expires is not None
    assert expires - store.now() == pytest.approx(18.0)


def test_hand_over_passes_a_lease_on_without_freeing_the_run(backend: Backend) -> None:
    """hand_over moves the lease from its holder to another owner in one write (a worker
    parking a run, a command taking over a dead holder's), with a fresh expiry; it goes by
    the holder's name like renew, and changes nothing when the lease names someone else."""
    store = backend.store
    run = started(store)
    assert store.claim("w1", 10) == [run.run_id]
    backend.clock.advance(15)  # lapsed, but nobody took it: still w1's to pass on
    assert store.hand_over(run.run_id, "w1", "parked:w1", 30) is True
    head = store.get_run(run.run_id)
    assert (head.lease_owner, head.lease_expires_at) == ("parked:w1", pytest.approx(1_000_045.0))
    assert store.claim("w2", 10) == []
    assert store.hand_over(run.run_id, "w1", "parked:w1", 60) is True  # a repeat lands the same
    assert store.hand_over(run.run_id, "w2", "cli", 60) is False
    assert store.get_run(run.run_id).lease_owner == "parked:w1"
    backend.clock.advance(60.1)
    assert store.claim("w2", 10) == [run.run_id]
    assert store.hand_over(run.run_id, "parked:w1", "cli", 60) is False  # taken meanwhile
    assert store.get_run(run.run_id).lease_owner == "w2"
    with pytest.raises(NotFoundError, match="no-such-run"):
        store.hand_over("no-such-run", "w1", "cli", 10)


def test_a_run_created_leased_is_held_from_its_first_moment(backend: Backend) -> None:
    """``create_run(lease=...)`` writes the run and its lease together: no worker claims it
    while the lease lives; its owner renews and releases it like any lease."""
    store = backend.store
    run, start = new_run()
    store.create_run(run, start, lease=("cli", 30))
    head = store.get_run(run.run_id)
    assert (head.lease_owner, head.lease_expires_at) == ("cli", pytest.approx(1_000_030.0))
    assert store.claim("w1", 10) == []
    assert store.lease(run.run_id, "w1", 10) is False
    assert store.renew(run.run_id, "cli", 60) is True
    backend.clock.advance(59.9)
    assert store.claim("w1", 10) == []
    store.release(run.run_id, "cli")
    assert store.claim("w1", 10) == [run.run_id]
    plain, plain_start = new_run()
    store.create_run(plain, plain_start)  # without a lease: claimable at once
    assert store.get_run(plain.run_id).lease_owner is None
    assert store.claim("w2", 10) == [plain.run_id]


def test_finished_runs_are_never_claimed(store: Store) -> None:
    """A run that completes is not runnable, leased or not."""
    run = started(store)
    snapshot, head = step(run, "published", status="completed")
    store.append(snapshot, head)
    assert store.claim("w1", 60, limit=10) == []


# --- lifecycle ------------------------------------------------------------------------------


def test_a_closed_store_refuses_work(backend: Backend) -> None:
    """After close every call raises StoreError; closing again is harmless."""
    store = backend.open(FRAME_INTERVAL + 1)
    run = started(store)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.get_run(run.run_id)
    with pytest.raises(StoreError, match="closed"):
        store.claim("w1", 10)


@pytest.fixture
def two_handles(backend: Backend) -> Iterator[tuple[Store, Store]]:
    other = backend.open(FRAME_INTERVAL)
    yield backend.store, other
    other.close()


def test_a_second_handle_sees_every_write(two_handles: tuple[Store, Store]) -> None:
    """Writes through one handle are visible to another on the same storage."""
    first, second = two_handles
    run = advance(first, started(first, context={"log": []}), 3)
    assert second.get_run(run.run_id) == run
    assert second.load_state(run.run_id).context == {"log": ["step 1", "step 2", "step 3"]}
    second.append(*step(run, "approval", output={"by": "second"}))
    # another writer's record: PostgreSQL takes a repeat of the very same record as its own
    # (a retry whose first commit went unacknowledged), on every seq
    with pytest.raises(ConflictError):
        first.append(*step(run, "approval", output={"by": "first"}))
