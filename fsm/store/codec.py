"""Snapshots as bytes: compact JSON plus a checksum that binds the bytes to their run and seq.

``run_id`` and ``seq`` are not in the payload (backends keep them as keys) but they are in the
checksum, so a record copied to another run or seq fails verification just like a flipped bit.
Fields holding their default are left out, which keeps a typical record to what changed. A
record that fails its checksum or does not decode raises ``CorruptionError``; it is never used.
The format is described in ``docs/storage.md``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fsm.errors import CorruptionError, StoreError
from fsm.store.records import Frame, Snapshot

FORMAT_VERSION = 1

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_DECODER = json.JSONDecoder()


def checksum(run_id: str, seq: int, payload: bytes) -> str:
    """Hex blake2b-128 of run id, seq and payload."""
    key = f"{run_id}\x00{seq}\x00".encode()
    return hashlib.blake2b(key + payload, digest_size=16).hexdigest()


def encode_snapshot(snapshot: Snapshot) -> tuple[bytes, str]:
    """The payload bytes and their checksum; ``StoreError`` if a value is not JSON-ready."""
    data: dict[str, object] = {"v": FORMAT_VERSION}
    if snapshot.source is not None:
        data["source"] = snapshot.source
    data["target"] = snapshot.target
    if snapshot.event is not None:
        data["event"] = snapshot.event
    if snapshot.rule is not None:
        data["rule"] = snapshot.rule
    data["status"] = snapshot.status
    if snapshot.attempt != 1:
        data["attempt"] = snapshot.attempt
    data["started_at"] = snapshot.started_at
    data["duration_ms"] = snapshot.duration_ms
    data["spec_hash"] = snapshot.spec_hash
    if snapshot.changes:
        data["changes"] = snapshot.changes
    if snapshot.appended:
        data["appended"] = snapshot.appended
    if snapshot.output is not None:
        data["output"] = snapshot.output
    if snapshot.error is not None:
        data["error"] = snapshot.error
    if snapshot.frame is not None:
        data["frame"] = snapshot.frame
    try:
        payload = _ENCODER.encode(data).encode()
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"run {snapshot.run_id} seq {snapshot.seq}: the record is not JSON-ready data"
            f" ({exc}); contexts, outputs and changes must hold only dict/list/str/int/float/"
            "bool/None with finite numbers"
        ) from exc
    return payload, checksum(snapshot.run_id, snapshot.seq, payload)


def decode_snapshot(run_id: str, seq: int, payload: bytes, stored_checksum: str) -> Snapshot:
    """The snapshot stored as ``payload`` at (run_id, seq), verified against its checksum."""
    if checksum(run_id, seq, payload) != stored_checksum:
        raise CorruptionError(
            f"run {run_id} seq {seq}: the stored record does not match its checksum; it was"
            " altered or damaged after it was written. Restore the store from a backup, or"
            " fork the run from an earlier seq"
        )
    try:
        data: dict[str, Any] = _DECODER.decode(payload.decode())
        if data.get("v") != FORMAT_VERSION:
            raise CorruptionError(
                f"run {run_id} seq {seq}: record format {data.get('v')!r} is not the format"
                f" this version reads ({FORMAT_VERSION}); upgrade Flow Orchestra"
            )
        return Snapshot(
            run_id=run_id,
            seq=seq,
            source=data.get("source"),
            target=data["target"],
            event=data.get("event"),
            rule=data.get("rule"),
            changes=data.get("changes", {}),
            appended=data.get("appended", {}),
            output=data.get("output"),
            error=data.get("error"),
            attempt=data.get("attempt", 1),
            started_at=data["started_at"],
            duration_ms=data["duration_ms"],
            spec_hash=data["spec_hash"],
            status=data["status"],
            frame=_frame(data.get("frame")),
        )
    except CorruptionError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptionError(
            f"run {run_id} seq {seq}: the stored record passed its checksum but does not"
            f" decode ({exc!r}); it was written by an incompatible version"
        ) from exc


def _frame(data: Any) -> Frame | None:
    if data is None:
        return None
    frame = Frame(
        context=data["context"], state=data["state"], steps=data["steps"], visits=data["visits"]
    )
    if not isinstance(frame["context"], dict) or not isinstance(frame["visits"], dict):
        raise TypeError("a frame's context and visits must be objects")
    return frame
