"""The record values refuse shapes no store should hold."""

from __future__ import annotations

import re
import time

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.store import RunRecord, Snapshot, new_run_id
from fsm.store.records import RUN_STATUSES, unchecked_run_record, unchecked_snapshot

from .builders import new_run, step
from .test_codec import snapshots


def test_the_start_record_needs_a_frame_and_no_source() -> None:
    """Seq 0 without a frame, or with a source state, is a ValueError."""
    _, start = new_run("r1")
    with pytest.raises(ValueError, match="needs a frame and no source"):
        attrs.evolve(start, frame=None)
    with pytest.raises(ValueError, match="needs a frame and no source"):
        attrs.evolve(start, source="drafting")


def test_a_transition_needs_a_source() -> None:
    """A record after seq 0 names the state it left."""
    run, _ = new_run("r1")
    record, _ = step(run, "reviewing")
    with pytest.raises(ValueError, match="r1 seq 1: a transition needs a source"):
        attrs.evolve(record, source=None)


def test_a_field_cannot_be_both_replaced_and_appended() -> None:
    """changes and appended name disjoint fields: one merge policy per field."""
    run, _ = new_run("r1")
    with pytest.raises(ValueError, match=r"fields \['log'\] are both replaced and appended"):
        step(run, "reviewing", changes={"log": []}, appended={"log": ["a"]})


def test_statuses_seqs_and_attempts_are_checked() -> None:
    """Unknown statuses, negative seqs and attempts below 1 are ValueErrors naming the field."""
    run, _ = new_run("r1")
    with pytest.raises(ValueError, match="status must be one of running, waiting"):
        attrs.evolve(run, status="paused")
    with pytest.raises(ValueError, match="seq must be >= 0"):
        attrs.evolve(run, seq=-1)
    record, _ = step(run, "reviewing")
    with pytest.raises(ValueError, match="status must be one of"):
        attrs.evolve(record, status="done")
    with pytest.raises(ValueError, match="attempt is counted from 1"):
        attrs.evolve(record, attempt=0)


def test_run_ids_are_unique_and_sort_by_creation_time() -> None:
    """Ids made later sort later (millisecond prefix); ids made together still differ."""
    first = new_run_id()
    same_moment = {new_run_id() for _ in range(1000)}
    time.sleep(0.002)
    later = new_run_id()
    assert len(same_moment) == 1000
    assert first < later
    assert re.fullmatch("[0-9a-f]{32}", later)


@settings(max_examples=100)
@given(snapshots())
def test_the_unchecked_snapshot_constructor_builds_what_the_checked_one_builds(
    snapshot: Snapshot,
) -> None:
    built = unchecked_snapshot(**attrs.asdict(snapshot, recurse=False))
    assert type(built) is Snapshot
    assert built == snapshot
    assert attrs.asdict(built, recurse=False) == attrs.asdict(snapshot, recurse=False)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.seq = 1  # type: ignore[misc]


@settings(max_examples=100)
@given(
    st.builds(
        RunRecord,
        run_id=st.text(min_size=1, max_size=32),
        workflow=st.text(max_size=8),
        spec_hash=st.text(max_size=64),
        spec_path=st.text(max_size=20),
        status=st.sampled_from(RUN_STATUSES),
        state=st.text(max_size=8),
        seq=st.integers(0, 10**9),
        waiting_for=st.lists(st.text(max_size=5), max_size=3).map(tuple),
        error=st.none() | st.text(max_size=10),
        created_at=st.floats(0, 2e9),
        updated_at=st.floats(0, 2e9),
        parent_run_id=st.none() | st.text(max_size=32),
        parent_seq=st.none() | st.integers(0, 10**6),
        lease_owner=st.none() | st.text(max_size=10),
        lease_expires_at=st.none() | st.floats(0, 2e9),
    )
)
def test_the_unchecked_run_record_constructor_builds_what_the_checked_one_builds(
    run: RunRecord,
) -> None:
    built = unchecked_run_record(**attrs.asdict(run, recurse=False))
    assert type(built) is RunRecord
    assert built == run
    assert hash(built) == hash(run)


def test_an_unchecked_constructor_needs_every_field_by_keyword() -> None:
    """A field added to the class later cannot be left unset by a caller that misses it."""
    run, _ = new_run()
    fields = attrs.asdict(run, recurse=False)
    del fields["lease_expires_at"]
    with pytest.raises(TypeError, match="lease_expires_at"):
        unchecked_run_record(**fields)
    with pytest.raises(TypeError):
        unchecked_run_record(*attrs.astuple(run, recurse=False))


def test_failed_attempts_given_as_a_list_is_kept_as_a_tuple() -> None:
    """A caller passing a list built a record unequal to the same record read back (a tuple),
    so `copy_run` took it for a different run."""
    run, _ = new_run()
    snapshot, _ = step(run, "reviewing")
    listed = attrs.evolve(snapshot, failed_attempts=["attempt 1 failed"])
    assert listed.failed_attempts == ("attempt 1 failed",)
    assert listed == attrs.evolve(snapshot, failed_attempts=("attempt 1 failed",))
