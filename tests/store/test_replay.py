"""Replay: the state at a seq is the frame plus the deltas after it, and inputs stay untouched."""

from __future__ import annotations

import copy

import attrs
import pytest

from fsm.errors import CorruptionError
from fsm.store import RunState, full_frame, rebuild

from .builders import new_run, step


def test_rebuild_replaces_changes_and_extends_appends() -> None:
    """Replace fields take the new value; append fields grow by the appended items, in order."""
    run, start = new_run("r1", context={"draft": None, "log": ["begin"]})
    first, run = step(run, "reviewing", changes={"draft": {"v": 1}}, appended={"log": ["a"]})
    second, run = step(run, "drafting", changes={"draft": {"v": 2}}, appended={"log": ["b", "c"]})
    state = rebuild(start, [first, second])
    assert state.context == {"draft": {"v": 2}, "log": ["begin", "a", "b", "c"]}


def test_rebuild_counts_steps_and_visits() -> None:
    """Each record is one step and one visit of its target; the initial state counts once."""
    run, start = new_run("r1", state="drafting")
    records = []
    for target in ("reviewing", "drafting", "reviewing", "approval"):
        record, run = step(run, target, status="waiting" if target == "approval" else None)
        records.append(record)
    state = rebuild(start, records)
    assert state == RunState(
        context={},
        state="approval",
        steps=4,
        visits={"drafting": 2, "reviewing": 2, "approval": 1},
        seq=4,
        status="waiting",
    )


def test_rebuild_without_deltas_is_the_frame() -> None:
    """A frame record alone rebuilds to exactly its frame, and full_frame inverts rebuild."""
    _, start = new_run("r1", context={"log": [1, 2], "brief": {"topic": "t"}})
    state = rebuild(start, [])
    assert full_frame(state) == start.frame
    assert (state.seq, state.status) == (0, "running")


def test_rebuild_starts_from_a_later_frame_with_inherited_counts() -> None:
    """A frame's steps and visits carry on (a fork's start record holds its parent's)."""
    run, start = new_run("r1", state="reviewing")
    assert start.frame is not None
    forked = attrs.evolve(start, frame={**start.frame, "steps": 7, "visits": {"reviewing": 3}})
    record, _ = step(run, "reviewing")
    state = rebuild(forked, [record])
    assert (state.steps, state.visits) == (8, {"reviewing": 4})


def test_rebuild_never_mutates_its_inputs() -> None:
    """Frames and records are read, not changed, even when lists are extended."""
    run, start = new_run("r1", context={"log": ["begin"], "notes": None})
    first, run = step(run, "reviewing", appended={"log": ["a"], "notes": ["n"]})
    second, run = step(run, "drafting", changes={"log": ["fresh"]})
    third, run = step(run, "reviewing", appended={"log": ["z"]})
    before = copy.deepcopy([start, first, second, third])
    state = rebuild(start, [first, second, third])
    assert state.context == {"log": ["fresh", "z"], "notes": ["n"]}
    assert [start, first, second, third] == before


def test_a_missing_record_is_corruption() -> None:
    """Deltas must follow the frame seq by seq; a gap names the run and the seqs."""
    run, start = new_run("r1")
    _, run = step(run, "reviewing")
    second, _ = step(run, "drafting")
    with pytest.raises(CorruptionError, match="run r1: record r1 seq 2 does not follow seq 0"):
        rebuild(start, [second])


def test_appending_to_a_field_that_is_not_a_list_is_corruption() -> None:
    """An append onto a non-list value cannot come from a valid run; it is reported, not coerced."""
    run, start = new_run("r1", context={"log": "not a list"})
    record, _ = step(run, "reviewing", appended={"log": ["a"]})
    with pytest.raises(CorruptionError, match="run r1 seq 1: appends to 'log', which holds str"):
        rebuild(start, [record])


def test_rebuild_needs_a_frame_to_start_from() -> None:
    """Starting replay from a record without a frame is a caller bug."""
    run, _ = new_run("r1")
    record, _ = step(run, "reviewing")
    with pytest.raises(ValueError, match="holds no frame"):
        rebuild(record, [])
