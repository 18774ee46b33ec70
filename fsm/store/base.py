"""The ``Store`` protocol: everything the runtime and workers may ask of persistence.

The runtime only knows this protocol, never a backend. Every backend passes the same
conformance suite (``tests/store/``). Errors: ``NotFoundError`` for an unknown run or seq,
``ConflictError`` when another writer got there first, ``CorruptionError`` for a record that
fails its checksum, ``StoreError`` for anything else the storage refuses; ``ValueError`` for
arguments that break the rules below (a caller bug, not a storage condition).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import attrs

from fsm.store.codec import encode_json, seal, weigh_frame
from fsm.store.records import RUN_STATUSES, Frame, RunRecord, RunState, RunStatus, Snapshot

DEFAULT_FRAME_INTERVAL = 100
"""K: records whose seq is a multiple of K are the candidates for a full frame."""
MAX_FRAME_GAP = 10
"""In intervals: a candidate at least ``MAX_FRAME_GAP * K`` records past the last frame always
gets one, so a load never replays more than ``(MAX_FRAME_GAP + 1) * K`` records."""
MAX_REPLAY_BYTES = 4 * 1024 * 1024
"""A candidate with this many payload bytes since the last frame always gets one, so a load
reads at most about this much (plus one interval's records) beyond its frame."""


class Store(Protocol):
    """Runs, their transition records, and worker leases.

    Appends are optimistic: ``append`` of seq N+1 succeeds only while the head is N, so of
    several writers exactly one wins each seq. Frames: the start record always holds one, a
    frame a caller sends off the candidate seqs is kept, and on a candidate seq (a multiple of
    ``frame_interval``) the store keeps a frame when ``keeps_frame`` says so. Callers should
    send ``frame=full_frame(state)`` on candidate seqs; without it the store rebuilds the state
    by replay inside the write. Backends are safe to share between threads; use
    ``contextlib.closing`` to scope one.
    """

    @property
    def frame_interval(self) -> int:
        """K: seqs that are multiples of K are the candidates for a frame (``keeps_frame``)."""
        ...

    def create_run(
        self, run: RunRecord, start: Snapshot, *, lease: tuple[str, float] | None = None
    ) -> None:
        """Store a new run and its start record (seq 0). ``ConflictError`` if the id exists.

        With ``lease`` = (owner, seconds) the run is created leased to ``owner`` for that long
        (by the clock ``lease`` uses), in the same transaction: a process that creates a run
        to advance it itself leaves no moment in which a worker could claim it."""
        ...

    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        """Store ``snapshot`` and make ``run`` (whose seq is the snapshot's) the new head, in one
        transaction. ``ConflictError`` unless the stored head is ``snapshot.seq - 1``.

        From ``run`` the head takes seq, state, status, waiting_for, error and updated_at;
        identity and lease fields are kept as stored."""
        ...

    def get_run(self, run_id: str) -> RunRecord:
        """The run's head. ``NotFoundError`` if there is no such run."""
        ...

    def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunRecord]:
        """Up to ``limit`` runs, newest first, optionally only those with ``status``."""
        ...

    def history(self, run_id: str, start: int = 0, end: int | None = None) -> list[Snapshot]:
        """The run's records with ``start <= seq < end`` (``end=None``: through the head)."""
        ...

    def load_state(self, run_id: str, seq: int | None = None) -> RunState:
        """The run's state after record ``seq`` (default: the head), rebuilt from the nearest
        frame at or before it. ``NotFoundError`` if the run or the seq does not exist."""
        ...

    def update_run(self, run: RunRecord) -> None:
        """Change a run's status, waiting_for, error and updated_at without a transition
        (e.g. cancelling). ``ConflictError`` unless the stored head is still ``run.seq``;
        ``ValueError`` if ``run.state`` differs from the stored state (that takes an append)."""
        ...

    def claim(self, worker_id: str, lease_seconds: float, limit: int = 1) -> list[str]:
        """Lease up to ``limit`` runnable runs to ``worker_id`` and return their ids, oldest run
        first. Runnable: status ``running`` and no lease, or a lease that has expired."""
        ...

    def now(self) -> float:
        """The time now (epoch seconds) by the clock this store sets lease expiries with:
        ``lease_expires_at`` minus this is the time a lease has left. On PostgreSQL that is
        the database's clock, which this machine's need not agree with."""
        ...

    def lease(self, run_id: str, owner: str, lease_seconds: float) -> bool:
        """Lease one given run to ``owner`` (whatever its status) for ``lease_seconds``, unless
        another owner's lease is still live: ``True`` if ``owner`` holds it now. A process
        that advances a run itself (``fsm send``, ``fsm resume``) takes it first, so workers
        do not claim that run meanwhile."""
        ...

    def renew(self, run_id: str, worker_id: str, lease_seconds: float) -> bool:
        """Extend the lease to ``lease_seconds`` from now; ``False`` if the lease no longer
        names ``worker_id`` (released, or expired and claimed by another worker)."""
        ...

    def release(self, run_id: str, worker_id: str) -> None:
        """Give the lease up; a no-op unless ``worker_id`` holds it."""
        ...

    def hand_over(self, run_id: str, owner: str, new_owner: str, lease_seconds: float) -> bool:
        """Pass the lease ``owner`` holds to ``new_owner`` for ``lease_seconds`` from now, in one
        write, so no moment passes in which another process could claim or lease the run (a
        worker parking a run it cannot drive, a command taking over a dead holder's lease).
        ``True`` if ``new_owner`` holds it now; ``False``, changing nothing, if the lease names
        neither (released, or expired and taken by someone else). Like ``renew`` it goes by
        the name, not the expiry: a lapsed lease nobody took since is still ``owner``'s."""
        ...

    def close(self) -> None:
        """Release the connection; further calls fail. Closing twice is harmless."""
        ...


def keeps_frame(interval: int, gap: int, since_bytes: int, frame_bytes: int) -> bool:
    """Whether a candidate record keeps its frame: the frame rule every backend follows.

    ``gap`` is how many records after the last frame this one is, ``since_bytes`` the payload
    bytes of those records (this one included, without its frame), ``frame_bytes`` what the
    frame adds. A frame is written when the replay it saves has cost at least as much storage
    as the frame itself, so frames at most double what the records take however the context
    grows; and, whatever the sizes, when the gap or the bytes a load would replay reach a cap.
    """
    return (
        since_bytes >= frame_bytes
        or gap >= MAX_FRAME_GAP * interval
        or since_bytes >= MAX_REPLAY_BYTES
    )


def encode_candidate(
    snapshot: Snapshot,
    *,
    interval: int,
    gap: int,
    since_bytes: int,
    rebuild_frame: Callable[[], Frame],
    pinned_hash: str | None = None,
    weigh: Callable[[Frame], int] = weigh_frame,
) -> tuple[bytes, str, bool]:
    """``(payload, checksum, framed)`` for a record on a candidate seq, given the ``gap`` in
    records since the last frame and the payload bytes of the records in between.

    The frame the caller sent is used, else ``rebuild_frame()`` (a replay) supplies one; it is
    weighed by ``weigh`` (``weigh_frame``, or a ``FrameWeigher`` bound to the run), and encoded
    into the record only when ``keeps_frame`` says to keep it."""
    bare = encode_json(attrs.evolve(snapshot, frame=None), pinned_hash)
    frame = snapshot.frame if snapshot.frame is not None else rebuild_frame()
    # Weighed uncompressed and unchecked (most frames are not kept, and checking a large one
    # costs several times its encoding); a kept one is encoded and checked with its record.
    if keeps_frame(interval, gap, since_bytes + len(bare), weigh(frame)):
        framed = encode_json(attrs.evolve(snapshot, frame=frame), pinned_hash)
        return (*seal(snapshot.run_id, snapshot.seq, framed), True)
    return (*seal(snapshot.run_id, snapshot.seq, bare), False)


def check_start(run: RunRecord, start: Snapshot) -> None:
    """The rules ``create_run`` enforces on its arguments, shared by every backend."""
    if start.run_id != run.run_id or start.seq != 0 or run.seq != 0:
        raise ValueError(
            f"create_run takes a run at seq 0 and its start record (seq 0); got run"
            f" {run.run_id} seq {run.seq} with record {start.run_id} seq {start.seq}"
        )
    _check_head(run, start)


def check_append(snapshot: Snapshot, run: RunRecord) -> None:
    """The rules ``append`` enforces on its arguments, shared by every backend."""
    if snapshot.seq == 0:
        raise ValueError(f"run {run.run_id}: seq 0 is written by create_run, not append")
    if snapshot.run_id != run.run_id or snapshot.seq != run.seq:
        raise ValueError(
            f"append takes a record and the run's new head with the same run and seq; got"
            f" record {snapshot.run_id} seq {snapshot.seq} with run {run.run_id} seq {run.seq}"
        )
    _check_head(run, snapshot)


def _check_head(run: RunRecord, snapshot: Snapshot) -> None:
    if run.state != snapshot.target or run.status != snapshot.status:
        raise ValueError(
            f"run {run.run_id} seq {run.seq}: the head says state {run.state!r} and status"
            f" {run.status!r} but the record says {snapshot.target!r} and {snapshot.status!r}"
        )


def check_interval(frame_interval: int) -> int:
    if frame_interval < 1:
        raise ValueError(f"frame_interval must be >= 1; got {frame_interval}")
    return frame_interval


def check_status(status: str | None) -> None:
    """A ``list_runs`` filter must be a known status (or None for all)."""
    if status is not None and status not in RUN_STATUSES:
        raise ValueError(f"status must be one of {', '.join(RUN_STATUSES)}; got {status!r}")


MAX_LIMIT = 2**63 - 1
"""The largest query limit: SQLite's and PostgreSQL's integers are 64-bit."""


def check_limit(limit: int) -> int:
    """``limit`` as a query takes it: a larger one than any row count means all of them."""
    if limit < 0:
        raise ValueError(f"limit must be >= 0; got {limit}")
    return min(limit, MAX_LIMIT)
