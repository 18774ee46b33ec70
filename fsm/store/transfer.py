"""``copy_run``: moving a run between stores, e.g. from SQLite to PostgreSQL when a deployment
outgrows one machine, with its whole history, so it can be continued, replayed and forked there.
"""

from __future__ import annotations

import os
import socket

import attrs

from fsm.errors import CorruptionError
from fsm.store.base import Store
from fsm.store.records import RunRecord, Snapshot

_LEASE_SECONDS = 60.0
_RENEW_EVERY = 500  # records: a copy keeps its lease well within _LEASE_SECONDS


def copy_run(source: Store, target: Store, run_id: str) -> RunRecord:
    """Copy run ``run_id`` with every record from ``source`` into ``target``; return its head.

    The copy keeps the run's id, records (checksummed again by ``target``), lineage and head,
    without the lease. It is leased while it is written, so workers serving ``target`` take it
    up only once it is complete (a copy that stops half-way is a run interrupted at its last
    copied record). ``ConflictError`` if ``target`` has the run already. The run stays in
    ``source``: continue it in one store only, or its agents are called in both."""
    head = attrs.evolve(source.get_run(run_id), lease_owner=None, lease_expires_at=None)
    records = source.history(run_id)
    if len(records) != head.seq + 1:
        raise CorruptionError(
            f"run {run_id}: its head is at seq {head.seq} but {len(records)} records were read"
        )
    owner = f"fsm-copy:{socket.gethostname()}:{os.getpid()}"
    target.create_run(_head_at(head, records[0]), records[0], lease=(owner, _LEASE_SECONDS))
    for snapshot in records[1:]:
        target.append(snapshot, _head_at(head, snapshot))
        if snapshot.seq % _RENEW_EVERY == 0:
            target.renew(run_id, owner, _LEASE_SECONDS)
    if _head_at(head, records[-1]) is not head:
        # Why: a head changed without a record (``update_run``, e.g. a cancelled run) is
        # written the same way, so the copy's head equals the source's.
        target.update_run(head)
    target.release(run_id, owner)
    return target.get_run(run_id)


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
