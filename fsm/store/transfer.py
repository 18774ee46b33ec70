"""``copy_run``: moving a run between stores, e.g. from SQLite to PostgreSQL when a deployment
outgrows one machine, with its whole history, so it can be continued, replayed and forked there.
"""

from __future__ import annotations

import os
import socket

import attrs

from fsm.errors import ConflictError, CorruptionError, NotFoundError
from fsm.store.base import Store
from fsm.store.records import RunRecord, Snapshot

_LEASE_SECONDS = 60.0
_RENEW_EVERY = 500  # records: a copy keeps its leases well within _LEASE_SECONDS


_COPY_PREFIX = "fsm-copy:"


def copy_owner() -> str:
    """The lease holder a copy writes into both stores: ``fsm-copy:host:pid``."""
    return f"{_COPY_PREFIX}{socket.gethostname()}:{os.getpid()}"


def copy_run(source: Store, target: Store, run_id: str) -> RunRecord:
    """Copy run ``run_id`` with every record from ``source`` into ``target``; return its head.

    The copy keeps the run's id, records (checksummed again by ``target``), lineage and head,
    without the lease. The run is leased in both stores while it is copied: in ``source`` so
    nothing advances it half-way through (``ConflictError`` naming the holder if something
    holds it), in ``target`` so workers there take it up only once it is complete. A copy that
    stopped half-way is finished by copying again (the records ``target`` has must be the
    source's first ones); a complete copy is left as it is. ``ConflictError`` if ``target``
    holds another run under that id. The run stays in ``source``: continue it in one store
    only, or its agents are called in both."""
    owner = copy_owner()
    if not source.lease(run_id, owner, _LEASE_SECONDS):
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


def _copy_leased(source: Store, target: Store, run_id: str, owner: str) -> RunRecord:
    head = attrs.evolve(source.get_run(run_id), lease_owner=None, lease_expires_at=None)
    records = source.history(run_id)
    if len(records) != head.seq + 1:
        raise CorruptionError(
            f"run {run_id}: its head is at seq {head.seq} but {len(records)} records were read",
            run_id=run_id,
        )
    copied = _copied_so_far(target, run_id, records, owner)
    if not copied:
        target.create_run(_head_at(head, records[0]), records[0], lease=(owner, _LEASE_SECONDS))
        copied = 1
    elif copied == len(records) and target.get_run(run_id).lease_owner is None:
        return target.get_run(run_id)  # copied whole before
    for snapshot in records[copied:]:
        target.append(snapshot, _head_at(head, snapshot))
        if snapshot.seq % _RENEW_EVERY == 0:
            target.renew(run_id, owner, _LEASE_SECONDS)
            source.renew(run_id, owner, _LEASE_SECONDS)
    if _head_at(head, records[-1]) is not head:
        # Why: a head changed without a record (``update_run``, e.g. a cancelled run) is
        # written the same way, so the copy's head equals the source's.
        target.update_run(head)
    target.release(run_id, owner)
    return target.get_run(run_id)


def _copied_so_far(target: Store, run_id: str, records: list[Snapshot], owner: str) -> int:
    """How many of ``records`` ``target`` holds already (0 when it has no such run), leased to
    ``owner`` unless the copy there is complete; ``ConflictError`` when ``target`` holds a
    different run, or this one moved on there."""
    try:
        there = target.history(run_id)
    except NotFoundError:
        return 0
    if _without_frames(there[: len(records)]) != _without_frames(records[: len(there)]):
        raise ConflictError(
            f"the target store already holds a different run {run_id} (its records differ "
            f"from this one's); copy into another store, or continue the run where it is",
            run_id=run_id,
        )
    if len(there) > len(records):
        raise ConflictError(
            f"run {run_id} was copied before and has moved on in the target store (seq "
            f"{len(there) - 1} there, {len(records) - 1} here); continue it there",
            run_id=run_id,
        )
    holder = target.get_run(run_id).lease_owner
    if len(there) == len(records) and holder is None:
        return len(there)
    if holder is not None and holder.startswith(_COPY_PREFIX):
        # a copy that was interrupted: this one finishes it, taking its lease over in one
        # write, so no worker of the target claims the half-copied run in between
        taken = target.hand_over(run_id, holder, owner, _LEASE_SECONDS)
    else:
        taken = target.lease(run_id, owner, _LEASE_SECONDS)
    if not taken:
        raise ConflictError(
            f"run {run_id} is leased in the target store by {holder}, which is advancing it",
            run_id=run_id,
        )
    return len(there)


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
