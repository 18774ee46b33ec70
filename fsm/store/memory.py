"""``MemoryStore``: the in-memory twin of the durable stores, for tests and ``memory://``.

It keeps records encoded, exactly as a database would, so checksums and decoding are exercised
by every test that uses it. One lock guards all state, which makes it safe to share between
threads and makes each method atomic, like a transaction.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from functools import partial

import attrs

from fsm.errors import ConflictError, NotFoundError, StoreError
from fsm.store.base import (
    DEFAULT_FRAME_INTERVAL,
    check_append,
    check_interval,
    check_limit,
    check_start,
    check_status,
    encode_candidate,
)
from fsm.store.codec import decode_snapshot, encode_snapshot
from fsm.store.records import Frame, RunRecord, RunState, RunStatus, Snapshot
from fsm.store.replay import full_frame, rebuild
from fsm.store.weighing import FrameWeigher

EncodedRecord = tuple[bytes, str]  # payload, checksum


def _compact(payload: bytes, checksum: str) -> EncodedRecord:
    """The record as kept: a copy of the payload sized to it. orjson's ``bytes`` keep the
    buffer it grew (about 4 KB for a 150-byte record), which a store holding every record
    would keep too: 100,000 small records took ~400 MB instead of ~20 MB."""
    return bytes(memoryview(payload)), checksum


class MemoryStore:
    """A ``Store`` held in dictionaries; nothing survives the process."""

    def __init__(
        self,
        *,
        frame_interval: int = DEFAULT_FRAME_INTERVAL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.frame_interval = check_interval(frame_interval)
        self._clock = clock
        self._lock = threading.Lock()
        self._runs: dict[str, RunRecord] = {}
        self._records: dict[str, list[EncodedRecord]] = {}  # index = seq
        self._frames: dict[str, list[int]] = {}  # seqs of frame records, ascending
        self._weigher = FrameWeigher()
        self._closed = False

    def create_run(
        self, run: RunRecord, start: Snapshot, *, lease: tuple[str, float] | None = None
    ) -> None:
        check_start(run, start)
        encoded = _compact(*encode_snapshot(start, run.spec_hash))
        with self._lock:
            self._check_open()
            if run.run_id in self._runs:
                raise ConflictError(
                    f"run {run.run_id} already exists; choose a new run id", run_id=run.run_id
                )
            if lease is not None:
                owner, seconds = lease
                expires = self._clock() + seconds
                run = attrs.evolve(run, lease_owner=owner, lease_expires_at=expires)
            self._runs[run.run_id] = run
            self._records[run.run_id] = [encoded]
            self._frames[run.run_id] = [0]

    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        check_append(snapshot, run)
        with self._lock:
            head = self._head(run.run_id)
            if head.seq != snapshot.seq - 1:
                raise ConflictError(
                    f"run {run.run_id}: cannot append seq {snapshot.seq}, the head is at seq"
                    f" {head.seq}; reload the run and retry",
                    run_id=run.run_id,
                    seq=snapshot.seq,
                )
            if snapshot.seq % self.frame_interval == 0:
                payload, checksum, framed = self._encode_candidate(snapshot, head.spec_hash)
            else:
                payload, checksum = encode_snapshot(snapshot, head.spec_hash)
                framed = snapshot.frame is not None
            self._records[run.run_id].append(_compact(payload, checksum))
            if framed:
                self._frames[run.run_id].append(snapshot.seq)
            if run.status != "running":
                self._weigher.forget(run.run_id)
            self._runs[run.run_id] = attrs.evolve(
                head,
                seq=run.seq,
                state=run.state,
                status=run.status,
                waiting_for=run.waiting_for,
                error=run.error,
                updated_at=run.updated_at,
            )

    def get_run(self, run_id: str) -> RunRecord:
        with self._lock:
            return self._head(run_id)

    def list_runs(self, status: RunStatus | None = None, limit: int = 100) -> list[RunRecord]:
        limit = check_limit(limit)
        check_status(status)
        with self._lock:
            self._check_open()
            runs = [r for r in self._runs.values() if status is None or r.status == status]
        runs.sort(key=lambda r: (r.created_at, r.run_id), reverse=True)
        return runs[:limit]

    def history(self, run_id: str, start: int = 0, end: int | None = None) -> list[Snapshot]:
        with self._lock:
            head = self._head(run_id)
            start = max(start, 0)
            stop = max(start, head.seq + 1 if end is None else min(end, head.seq + 1))
            encoded = self._records[run_id][start:stop]
        return [
            decode_snapshot(run_id, start + i, *record, head.spec_hash)
            for i, record in enumerate(encoded)
        ]

    def load_state(self, run_id: str, seq: int | None = None) -> RunState:
        with self._lock:
            head = self._head(run_id)
            target = head.seq if seq is None else seq
            if not 0 <= target <= head.seq:
                raise NotFoundError(
                    f"run {run_id} has no seq {target}; its records run from 0 to {head.seq}",
                    run_id=run_id,
                    seq=target,
                )
            return self._rebuild(run_id, target)

    def update_run(self, run: RunRecord) -> None:
        with self._lock:
            head = self._head(run.run_id)
            if head.seq != run.seq:
                raise ConflictError(
                    f"run {run.run_id} moved on to seq {head.seq} (update was for seq"
                    f" {run.seq}); reload the run and retry",
                    run_id=run.run_id,
                    seq=run.seq,
                )
            if head.state != run.state:
                raise ValueError(
                    f"run {run.run_id}: update_run cannot move the run from {head.state!r} to"
                    f" {run.state!r}; a state change is a transition, so append it"
                )
            self._runs[run.run_id] = attrs.evolve(
                head,
                status=run.status,
                waiting_for=run.waiting_for,
                error=run.error,
                updated_at=run.updated_at,
            )

    def claim(self, worker_id: str, lease_seconds: float, limit: int = 1) -> list[str]:
        limit = check_limit(limit)
        with self._lock:
            self._check_open()
            now = self._clock()
            runnable = sorted(
                (
                    run
                    for run in self._runs.values()
                    if run.status == "running" and (run.lease_owner is None or _expired(run, now))
                ),
                key=lambda r: (r.created_at, r.run_id),
            )[:limit]
            for run in runnable:
                self._runs[run.run_id] = attrs.evolve(
                    run, lease_owner=worker_id, lease_expires_at=now + lease_seconds
                )
            return [run.run_id for run in runnable]

    def now(self) -> float:
        return self._clock()

    def lease(self, run_id: str, owner: str, lease_seconds: float) -> bool:
        with self._lock:
            head = self._head(run_id)
            now = self._clock()
            if head.lease_owner not in (None, owner) and not _expired(head, now):
                return False
            self._runs[run_id] = attrs.evolve(
                head, lease_owner=owner, lease_expires_at=now + lease_seconds
            )
            return True

    def renew(self, run_id: str, worker_id: str, lease_seconds: float) -> bool:
        with self._lock:
            head = self._head(run_id)
            if head.lease_owner != worker_id:
                return False
            expires = self._clock() + lease_seconds
            self._runs[run_id] = attrs.evolve(head, lease_expires_at=expires)
            return True

    def release(self, run_id: str, worker_id: str) -> None:
        with self._lock:
            head = self._head(run_id)
            if head.lease_owner == worker_id:
                self._runs[run_id] = attrs.evolve(head, lease_owner=None, lease_expires_at=None)

    def hand_over(self, run_id: str, owner: str, new_owner: str, lease_seconds: float) -> bool:
        with self._lock:
            head = self._head(run_id)
            if head.lease_owner not in (owner, new_owner):
                return False
            expires = self._clock() + lease_seconds
            self._runs[run_id] = attrs.evolve(head, lease_owner=new_owner, lease_expires_at=expires)
            return True

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._runs)} runs"
        return f"<MemoryStore {state}>"

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed; open a new one")

    def _head(self, run_id: str) -> RunRecord:
        self._check_open()
        try:
            return self._runs[run_id]
        except KeyError:
            raise NotFoundError(f"no run {run_id!r} in this store", run_id=run_id) from None

    def _encode_candidate(self, snapshot: Snapshot, pinned: str) -> tuple[bytes, str, bool]:
        """Payload, checksum and whether it holds a frame, for a record on a candidate seq."""
        run_id = snapshot.run_id
        last_frame = self._frames[run_id][-1]
        since_bytes = sum(len(payload) for payload, _ in self._records[run_id][last_frame + 1 :])

        def rebuild_frame() -> Frame:
            return full_frame(self._rebuild(run_id, snapshot.seq - 1, snapshot))

        gap = snapshot.seq - last_frame
        return encode_candidate(
            snapshot,
            interval=self.frame_interval,
            gap=gap,
            since_bytes=since_bytes,
            rebuild_frame=rebuild_frame,
            pinned_hash=pinned,
            weigh=partial(self._weigher.weigh, run_id),
        )

    def _rebuild(self, run_id: str, seq: int, *extra: Snapshot) -> RunState:
        """The state after ``seq`` (then after ``extra``), from the nearest frame at or before."""
        frames = self._frames[run_id]
        frame_seq = frames[bisect.bisect_right(frames, seq) - 1]
        records = self._records[run_id]
        pinned = self._runs[run_id].spec_hash
        decoded = [
            decode_snapshot(run_id, s, *records[s], pinned) for s in range(frame_seq, seq + 1)
        ]
        return rebuild(decoded[0], [*decoded[1:], *extra])


def _expired(run: RunRecord, now: float) -> bool:
    return run.lease_expires_at is not None and run.lease_expires_at <= now
