"""The record values refuse shapes no store should hold."""

from __future__ import annotations

import re
import time

import attrs
import pytest

from fsm.store import new_run_id

from .builders import new_run, step


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
