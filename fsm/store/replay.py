"""Rebuilding a run's state from one frame record and the delta records after it.

Pure functions shared by every backend, so "the state at seq N" means the same thing
everywhere: start from the frame, then per record replace the ``changes`` fields, extend the
``appended`` lists, count one step and one visit of the target, and move to the target.
"""

from __future__ import annotations

from collections.abc import Sequence

from fsm.errors import CorruptionError
from fsm.store.records import Frame, JsonValue, RunState, Snapshot


def rebuild(frame_record: Snapshot, deltas: Sequence[Snapshot]) -> RunState:
    """The state after the last of ``deltas`` (or after ``frame_record`` when there are none).

    ``deltas`` must be the records directly following ``frame_record``, in seq order; their own
    frames, if any, are not needed. Inputs are never mutated; JSON values are shared with them.
    """
    frame = frame_record.frame
    if frame is None:
        raise ValueError(f"run {frame_record.run_id} seq {frame_record.seq} holds no frame")
    context = dict(frame["context"])
    visits = dict(frame["visits"])
    steps = frame["steps"]
    state = frame["state"]
    owned: set[str] = set()  # append fields already copied, so extending them is safe
    last = frame_record
    for record in deltas:
        if record.run_id != last.run_id or record.seq != last.seq + 1:
            raise CorruptionError(
                f"run {frame_record.run_id}: record {record.run_id} seq {record.seq} does not"
                f" follow seq {last.seq}; records are missing",
                run_id=record.run_id,
                seq=record.seq,
            )
        for name, value in record.changes.items():
            context[name] = value
            owned.discard(name)
        for name, items in record.appended.items():
            if name not in owned:
                context[name] = _copy_list(context.get(name), record, name)
                owned.add(name)
            current = context[name]
            assert isinstance(current, list)
            current.extend(items)
        steps += 1
        visits[record.target] = visits.get(record.target, 0) + 1
        state = record.target
        last = record
    return RunState(
        context=context, state=state, steps=steps, visits=visits, seq=last.seq, status=last.status
    )


def full_frame(state: RunState) -> Frame:
    """The frame that lets replay start at ``state`` (a shallow copy of its mappings)."""
    return Frame(
        context=dict(state.context), state=state.state, steps=state.steps, visits=dict(state.visits)
    )


def _copy_list(value: JsonValue, record: Snapshot, name: str) -> list[JsonValue]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise CorruptionError(
            f"run {record.run_id} seq {record.seq}: appends to {name!r}, which holds"
            f" {type(value).__name__}, not a list",
            run_id=record.run_id,
            seq=record.seq,
        )
    return list(value)
