"""``copy_run``: moving a run between stores, e.g. from SQLite to PostgreSQL when a deployment
outgrows one machine, with its whole history, so it can be continued, replayed and forked there.
"""

from __future__ import annotations

import os

import attrs

from fsm.errors import ConflictError, CorruptionError, NotFoundError
from fsm.hosts import local_host
from fsm.store.base import Store
from fsm.store.records import RunRecord, Snapshot
from fsm.store.replay import Replay, full_frame

COPY_LEASE_SECONDS = 60.0
"""How long a copy's lease on the run it copies from lasts (renewed while it copies)."""
_RENEW_EVERY = 500  # records: a copy keeps its source lease well within COPY_LEASE_SECONDS
_UNTIL_COPIED = 100 * 365 * 86400.0
"""The target's lease on a copy being written: it never lapses on its own, so a half copy
whose copy was killed is never claimed by the target's workers (they would advance it from a
past step, calling agents the source had called); copying again takes it over and ends it."""


COPY_PREFIX = "fsm-copy:"
"""Prefix of the lease owner ``copy_run`` writes into both stores while it copies a run."""


def copy_owner() -> str:
    """The lease holder a copy writes into both stores: ``fsm-copy:host:pid``."""
    return f"{COPY_PREFIX}{local_host()}:{os.getpid()}"


def copy_run(source: Store, target: Store, run_id: str) -> RunRecord:
    """Copy run ``run_id`` with every record from ``source`` into ``target``; return its head.

    The copy keeps the run's id, records (checksummed again by ``target``), lineage and head,
    without the lease. The run is leased in both stores while it is copied: in ``source`` so
    nothing advances it half-way through (``ConflictError`` naming the holder if something
    holds it), in ``target`` so workers there take it up only once it is complete (a copy that
    was killed leaves its half copy leased there for good). A copy that stopped half-way is
    finished by copying again (the records ``target`` has must be the
    source's first ones); a complete copy is left as it is. ``ConflictError`` if ``target``
    holds another run under that id. The run stays in ``source``: continue it in one store
    only, or its agents are called in both."""
    owner = copy_owner()
    if not source.lease(run_id, owner, COPY_LEASE_SECONDS):
        holder = source.get_run(run_id).lease_owner
        raise ConflictError(
            f"run {run_id} is leased by {holder}, which is advancing it; stop that process "
            f"(or wait until its lease expires), then copy again",
            run_id=run_id,
        )
    try:
        return _copy_leased(source, target, run_id, owner)
    finally:
        source.release(run_id, owner)


_BATCH = 1_000
"""Records a copy reads (and compares) at a time: a run of a million steps is copied in flat
memory instead of being read whole from both stores."""


def _copy_leased(source: Store, target: Store, run_id: str, owner: str) -> RunRecord:
    head = attrs.evolve(source.get_run(run_id), lease_owner=None, lease_expires_at=None)
    copied = _copied_so_far(source, target, head, owner)
    if not copied:
        (start,) = _read(source, run_id, 0, 1)
        target.create_run(_head_at(head, start), start, lease=(owner, _UNTIL_COPIED))
        copied = 1
        replay = Replay.from_record(start)
    elif copied == head.seq + 1 and target.get_run(run_id).lease_owner is None:
        return _copied_before(head, target.get_run(run_id))
    else:  # finishing an interrupted copy: from the state where it stopped
        before = source.load_state(run_id, copied - 1)
        replay = Replay(run_id, before.seq, full_frame(before), before.status)
    interval = target.frame_interval
    for first in range(copied, head.seq + 1, _BATCH):
        for record in _read(source, run_id, first, min(first + _BATCH, head.seq + 1)):
            replay.apply(record)
            snapshot = record
            if record.frame is None and record.seq % interval == 0:
                # as the runtime does: else the target rebuilds it by replay in the append
                snapshot = attrs.evolve(record, frame=replay.frame())
            target.append(snapshot, _head_at(head, snapshot))
            if snapshot.seq % _RENEW_EVERY == 0:
                source.renew(run_id, owner, COPY_LEASE_SECONDS)
    (newest,) = _read(source, run_id, head.seq, head.seq + 1)
    if _head_at(head, newest) is not head:
        # Why: a head changed without a record (``update_run``, e.g. a cancelled run) is
        # written the same way, so the copy's head equals the source's.
        target.update_run(head)
    target.release(run_id, owner)
    return target.get_run(run_id)


def _copied_before(here: RunRecord, there: RunRecord) -> RunRecord:
    """The target's head of a run copied whole before, if it still says what the source's
    does; ``ConflictError`` if either was changed since without a record (``update_run``,
    e.g. a run cancelled in one store): copying cannot tell which one is right."""
    said = (here.status, here.state, here.waiting_for, here.error)
    if (there.status, there.state, there.waiting_for, there.error) == said:
        return there
    raise ConflictError(
        f"run {here.run_id} was copied before, but its head has changed since in one of the "
        f"stores ({here.status} in '{here.state}' here, {there.status} in '{there.state}' "
        f"there, both at seq {here.seq}); settle it in the store where the run is to go on",
        run_id=here.run_id,
    )


def _read(store: Store, run_id: str, start: int, end: int) -> list[Snapshot]:
    """Records ``start`` to ``end - 1`` of the run; ``CorruptionError`` if any is missing."""
    records = store.history(run_id, start, end)
    if len(records) != end - start:
        raise CorruptionError(
            f"run {run_id}: its head is at seq {end - 1} or later but {len(records)} of the "
            f"records from seq {start} to {end - 1} were read",
            run_id=run_id,
        )
    return records


def _copied_so_far(source: Store, target: Store, head: RunRecord, owner: str) -> int:
    """How many of the run's records ``target`` holds already (0 when it has no such run),
    leased to ``owner`` unless the copy there is complete; ``ConflictError`` when ``target``
    holds a different run, or this one moved on there. The records both hold are compared a
    batch at a time."""
    run_id = head.run_id
    try:
        there_seq = target.get_run(run_id).seq
    except NotFoundError:
        return 0
    common = min(there_seq, head.seq) + 1
    for first in range(0, common, _BATCH):
        end = min(first + _BATCH, common)
        there = _without_frames(target.history(run_id, first, end))
        if there != _without_frames(_read(source, run_id, first, end)):
            raise ConflictError(
                f"the target store already holds a different run {run_id} (its records differ "
                f"from this one's); copy into another store, or continue the run where it is",
                run_id=run_id,
            )
    if there_seq > head.seq:
        raise ConflictError(
            f"run {run_id} was copied before and has moved on in the target store (seq "
            f"{there_seq} there, {head.seq} here); continue it there",
            run_id=run_id,
        )
    holder = target.get_run(run_id).lease_owner
    if there_seq == head.seq and holder is None:
        return there_seq + 1
    if holder is not None and holder.startswith(COPY_PREFIX):
        # a copy that was interrupted: this one finishes it, taking its lease over in one
        # write, so no worker of the target claims the half-copied run in between
        taken = target.hand_over(run_id, holder, owner, _UNTIL_COPIED)
    else:
        taken = target.lease(run_id, owner, _UNTIL_COPIED)
    if not taken:
        raise ConflictError(
            f"run {run_id} is leased in the target store by {holder}, which is advancing it",
            run_id=run_id,
        )
    return there_seq + 1


def _without_frames(records: list[Snapshot]) -> list[Snapshot]:
    """Records as two stores compare them: each store keeps full frames at its own interval."""
    return [attrs.evolve(record, frame=None) if record.seq else record for record in records]


def _head_at(head: RunRecord, snapshot: Snapshot) -> RunRecord:
    """The head the run had after ``snapshot``: ``head`` itself for its newest record."""
    if snapshot.seq == head.seq and (head.state, head.status) == (
        snapshot.target,
        snapshot.status,
    ):
        return head
    return attrs.evolve(
        head,
        seq=snapshot.seq,
        state=snapshot.target,
        status=snapshot.status,
        waiting_for=(),
        error=snapshot.error,
        updated_at=snapshot.started_at,
    )
