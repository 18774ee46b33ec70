"""Rebuilding a run's state from one frame record and the delta records after it.

Pure functions shared by every backend, so "the state at seq N" means the same thing
everywhere: start from the frame, then per record replace the ``changes`` fields, extend the
``appended`` lists, count one step and one visit of the target, and move to the target.
"""

from __future__ import annotations

from collections.abc import Sequence

from fsm.errors import CorruptionError
from fsm.store.records import Frame, JsonValue, RunState, RunStatus, Snapshot


def stored_frame(frame_record: Snapshot) -> Snapshot:
    """A backend's frame record, chosen by its ``full_frame`` column: one marked so that holds
    no frame (the column, outside the checksum, edited by hand) is ``CorruptionError``, not
    ``rebuild``'s ``ValueError`` for a caller's bug."""
    if frame_record.frame is None:
        raise CorruptionError(
            f"run {frame_record.run_id} seq {frame_record.seq}: the store marks this record as"
            " holding a frame (its full_frame column) but it holds none; the column was edited"
            " by hand. Set it back to 0, or restore the store from a backup",
            run_id=frame_record.run_id,
            seq=frame_record.seq,
        )
    return frame_record


def rebuild(frame_record: Snapshot, deltas: Sequence[Snapshot]) -> RunState:
    """The state after the last of ``deltas`` (or after ``frame_record`` when there are none).

    ``deltas`` must be the records directly following ``frame_record``, in seq order; their own
    frames, if any, are not needed. Inputs are never mutated; JSON values are shared with them.
    """
    replay = Replay.from_record(frame_record)
    for record in deltas:
        replay.apply(record)
    return replay.state()


class Replay:
    """A run's state carried forward one record at a time: ``rebuild``, for a caller that
    goes through many records and needs the state (or a frame) along the way, such as a copy
    giving its target a frame on every candidate seq. Records are never mutated; JSON values
    are shared with them, and ``state()`` shares the context's with this object (its lists
    grow in place as records are applied: ``frame()`` copies them)."""

    def __init__(self, run_id: str, seq: int, frame: Frame, status: RunStatus) -> None:
        """Start from run ``run_id``'s state after ``seq``: ``frame``, with ``status``."""
        self._run_id, self._seq, self._status = run_id, seq, status
        self._context: dict[str, JsonValue] = dict(frame["context"])
        self._visits = dict(frame["visits"])
        self._steps = frame["steps"]
        self._state = frame["state"]
        self._owned: set[str] = set()  # append fields already copied, so extending them is safe

    @classmethod
    def from_record(cls, frame_record: Snapshot) -> Replay:
        """Start from a record that holds a frame."""
        if frame_record.frame is None:
            raise ValueError(f"run {frame_record.run_id} seq {frame_record.seq} holds no frame")
        run_id, seq, status = frame_record.run_id, frame_record.seq, frame_record.status
        return cls(run_id, seq, frame_record.frame, status)

    def apply(self, record: Snapshot) -> None:
        """Move on by ``record``, which must directly follow the last record applied."""
        context, owned = self._context, self._owned
        if record.run_id != self._run_id or record.seq != self._seq + 1:
            raise CorruptionError(
                f"run {self._run_id}: record {record.run_id} seq {record.seq} does not"
                f" follow seq {self._seq}; records are missing",
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
        self._steps += 1
        self._visits[record.target] = self._visits.get(record.target, 0) + 1
        self._state = record.target
        self._seq, self._status = record.seq, record.status

    def state(self) -> RunState:
        """The state after the last record applied."""
        return RunState(
            context=self._context,
            state=self._state,
            steps=self._steps,
            visits=self._visits,
            seq=self._seq,
            status=self._status,
        )

    def frame(self) -> Frame:
        """The full frame of ``state()``, holding copies of its lists (which keep growing)."""
        context = {
            name: list(value) if isinstance(value, list) else value
            for name, value in self._context.items()
        }
        return Frame(
            context=context, state=self._state, steps=self._steps, visits=dict(self._visits)
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
