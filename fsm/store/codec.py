"""Snapshots as bytes: compact JSON plus a checksum that binds the bytes to their run and seq.

``run_id`` and ``seq`` are not in the payload (backends keep them as keys) but they are in the
checksum, so a record copied to another run or seq fails verification just like a flipped bit.
Fields holding their default are left out, which keeps a typical record to what changed, and
an agent output whose values the record already holds as changes or appended items is stored
as references to them (``output_from``) instead of a second copy. A record that fails its
checksum or does not decode raises ``CorruptionError``; it is never used. The format is
described in ``docs/storage.md``.

Encoding uses ``orjson`` (about ten times faster than ``json`` for a typical record); every
record orjson cannot write exactly (NaN or infinities, which it would turn into ``null``;
integers beyond 64 bits; non-str keys) goes through the standard encoder, which writes the
same JSON values and refuses what is not JSON-ready. Decoding always uses the standard
library: orjson reads big integers as floats.
"""

from __future__ import annotations

import hashlib
import json
import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from fsm.errors import CorruptionError, StoreError
from fsm.store.records import Frame, JsonValue, Snapshot

FORMAT_VERSION = 3
"""Version 2 added ``output_from``. Version 3 is written by stores that keep the run's pinned
spec hash and pass it to both ends: ``spec_hash`` is left out when it is the pinned one and
``status`` when it is ``running`` (about 80 bytes a record), and ``output_from`` marks values
kept in ``output`` with ``0`` instead of ``null`` (a payload without ``null`` stays on the fast
encoder). Otherwise a record is written with
the lowest version that holds it, so older readers read what they can."""
READABLE_VERSIONS = (1, 2, 3)

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_DECODER = json.JSONDecoder()
_MIN_REFERENCED_STR = 64
"""Shorter strings are cheaper to repeat than to reference: a reference saves a few dozen
bytes but costs a scan of the record's changes on every write (~1 µs)."""
COMPRESS_FROM = 64 * 1024
"""Payloads this large (in practice frames of big contexts) are stored zlib-compressed when
that is smaller. A JSON payload starts with ``{``, a zlib stream never does, so readers tell
them apart by the first byte; the checksum covers the stored bytes."""


def _stdlib_dumps(data: object) -> bytes:
    return _ENCODER.encode(data).encode()


def _fast_dumps() -> Callable[[object], bytes]:
    """orjson's encoder, strict about the types the standard one would refuse, but for two
    orjson always writes itself (no option turns that off): ``Enum`` members, as their value,
    and ``uuid.UUID``, as its text. The runtime never hands the store either (contexts hold
    plain JSON values); a direct ``Store`` caller storing one reads back the value or str."""
    strict = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
    strict |= orjson.OPT_PASSTHROUGH_SUBCLASS

    def refuse(value: object) -> object:
        raise TypeError(f"{type(value).__name__} is not JSON-ready")

    def dumps(data: object) -> bytes:
        try:
            payload: bytes = orjson.dumps(data, default=refuse, option=strict)
        except (TypeError, orjson.JSONEncodeError):
            return _stdlib_dumps(data)  # encodes subclasses and big ints, or raises
        # NaN and infinities come out as null, as None does: only a non-finite float sends
        # the data to json, which refuses it (a None alone once did, ~25x orjson's time)
        if _may_hold_non_finite(payload, data):
            return _stdlib_dumps(data)
        return payload

    return dumps


def weigh_frame(frame: Frame) -> int:
    """About how many bytes ``frame`` adds to its record's JSON (``,"frame":`` and the frame):
    what the frame rule weighs. Unchecked, for speed: a frame that is kept is encoded again,
    checked, with its record."""
    try:
        return len(FRAME_KEY) + len(orjson.dumps(frame))
    except (TypeError, orjson.JSONEncodeError):  # big ints: the standard encoder measures
        try:
            return len(FRAME_KEY) + len(_stdlib_dumps(frame))
        except (TypeError, ValueError):  # not JSON-ready: weighed as nothing, so it is kept
            return 0  # and encoding it raises the StoreError that says why


FRAME_KEY = b',"frame":'


_SCAN_UP_TO = 512
"""Payloads up to this many bytes are searched for ``null``, larger ones walked for floats.
Searching text for "null" takes 2-7 ns a byte (a 20 MB frame of notes: ~130 ms, many times
encoding it); a walk takes some 20-200 ns a value, however long its strings."""
_WALK_BYTES_PER_VALUE = 32
"""A walk gives way to the search past one value per this many payload bytes: data of many
small numbers is quicker searched (digits skip fast) than walked."""
_TYPED_AT_ONCE = 16
"""Containers longer than this have their values' types collected in one pass (C speed);
shorter ones are looped over (cheaper than building the set)."""
_NOT_FLOATS = frozenset({str, int, bool, type(None)})
_JSON_CONTAINERS = (dict, list, tuple)
_PLAIN = _NOT_FLOATS | {float, *_JSON_CONTAINERS}
"""Exact types orjson encodes as themselves. Another type here is one orjson encodes natively
despite ``OPT_PASSTHROUGH_SUBCLASS``: an ``Enum`` member, which for a ``float`` enum is a
float (``isinstance``) whose NaN or infinity orjson writes as null."""


def _may_hold_non_finite(payload: bytes, data: object) -> bool:
    """Whether NaN or an infinity is among ``data``'s values, which orjson has just encoded
    as ``payload``: so its containers are plain dicts, lists and tuples (subclasses went to
    ``default``), nested at most 255 deep."""
    if len(payload) > _SCAN_UP_TO:
        found = _holds_non_finite(data, budget=len(payload) // _WALK_BYTES_PER_VALUE)
        if found is not None:
            return found
    return b"null" in payload and bool(_holds_non_finite(data))


def _holds_non_finite(data: object, budget: int | None = None) -> bool | None:
    """Whether ``data`` holds NaN or an infinity; ``None`` if it holds more than ``budget``
    values, so the walk stopped before it knew."""
    if type(data) not in _JSON_CONTAINERS:
        return isinstance(data, float) and not math.isfinite(data)
    pending: list[Any] = [data]
    left = budget
    while pending:
        container = pending.pop()
        values = container.values() if type(container) is dict else container
        if left is not None:
            left -= len(values)
            if left < 0:
                return None
        if len(values) <= _TYPED_AT_ONCE:
            for value in values:
                kind = type(value)
                if kind is float or kind not in _PLAIN:
                    if isinstance(value, float) and value - value != 0.0:  # NaN - NaN: NaN
                        return True
                elif kind in _JSON_CONTAINERS:
                    pending.append(value)
            continue
        kinds = set(map(type, values))
        if kinds <= _NOT_FLOATS:
            continue
        if not kinds <= _PLAIN and not all(
            math.isfinite(value) for value in values if isinstance(value, float)
        ):
            return True
        if float in kinds and not all(
            math.isfinite(value) for value in values if type(value) is float
        ):
            return True
        if not kinds.isdisjoint(_JSON_CONTAINERS):
            pending.extend(value for value in values if type(value) in _JSON_CONTAINERS)
    return False


_dumps = _fast_dumps()


def checksum(run_id: str, seq: int, payload: bytes) -> str:
    """Hex blake2b-128 of run id, seq and payload."""
    return digest(run_id, seq, payload).hex()


def digest(run_id: str, seq: int, payload: bytes) -> bytes:
    """``checksum`` as the 16 raw bytes a store keeps."""
    hasher = _BLAKE2B_128.copy()  # cheaper than parsing the constructor's keywords each time
    hasher.update(f"{run_id}\x00{seq}\x00".encode())
    hasher.update(payload)
    return hasher.digest()


_BLAKE2B_128 = hashlib.blake2b(digest_size=16)


def encode_sealed(snapshot: Snapshot, pinned_hash: str) -> tuple[bytes, bytes]:
    """``encode_snapshot`` with the raw digest: what a store that keeps bytes writes."""
    payload = encode_json(snapshot, pinned_hash)
    if len(payload) >= COMPRESS_FROM:
        payload, _ = seal(snapshot.run_id, snapshot.seq, payload)
    return payload, digest(snapshot.run_id, snapshot.seq, payload)


def encode_snapshot(snapshot: Snapshot, pinned_hash: str | None = None) -> tuple[bytes, str]:
    """The payload bytes and their checksum; ``StoreError`` if a value is not JSON-ready.

    A store that keeps the run's pinned spec hash passes it as ``pinned_hash``: records under
    that hash (nearly all) then leave it out, and ``decode_snapshot`` needs it back."""
    return seal(snapshot.run_id, snapshot.seq, encode_json(snapshot, pinned_hash))


def seal(run_id: str, seq: int, payload: bytes) -> tuple[bytes, str]:
    """JSON bytes as stored (compressed from ``COMPRESS_FROM`` bytes) and their checksum."""
    if len(payload) >= COMPRESS_FROM:
        packed = zlib.compress(payload, 1)
        if len(packed) < len(payload):
            payload = packed
    return payload, checksum(run_id, seq, payload)


def encode_json(snapshot: Snapshot, pinned_hash: str | None = None) -> bytes:
    """The record as compact JSON, before ``seal``; ``StoreError`` if it is not JSON-ready."""
    data: dict[str, object] = {"v": 1}
    if snapshot.source is not None:
        data["source"] = snapshot.source
    data["target"] = snapshot.target
    if snapshot.event is not None:
        data["event"] = snapshot.event
    if snapshot.rule is not None:
        data["rule"] = snapshot.rule
    compact = pinned_hash is not None
    if not compact or snapshot.status != "running":
        data["status"] = snapshot.status
    if snapshot.attempt != 1:
        data["attempt"] = snapshot.attempt
    if snapshot.failed_attempts:
        data["failed_attempts"] = snapshot.failed_attempts
    data["started_at"] = snapshot.started_at
    data["duration_ms"] = snapshot.duration_ms
    if snapshot.spec_hash != pinned_hash:
        data["spec_hash"] = snapshot.spec_hash
    if snapshot.changes:
        data["changes"] = snapshot.changes
    if snapshot.appended:
        data["appended"] = snapshot.appended
    if snapshot.output is not None:
        references = _output_references(snapshot, 0 if compact else None)
        if references is None:
            data["output"] = snapshot.output
        else:
            data["v"] = 2
            data["output_from"], rest = references
            if rest:
                data["output"] = rest
    if snapshot.error is not None:
        data["error"] = snapshot.error
    if compact:
        data["v"] = 3
    if snapshot.frame is not None:
        data["frame"] = snapshot.frame
    try:
        return _dumps(data)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"run {snapshot.run_id} seq {snapshot.seq}: the record is not JSON-ready data"
            f" ({exc}); contexts, outputs and changes must hold only dict/list/str/int/float/"
            "bool/None with finite numbers"
        ) from exc


def decode_snapshot(
    run_id: str, seq: int, payload: bytes, stored_checksum: str, pinned_hash: str | None = None
) -> Snapshot:
    """The snapshot stored as ``payload`` at (run_id, seq), verified against its checksum;
    ``pinned_hash`` is the run's spec hash, for records that left it out."""
    if type(payload) is not bytes:  # e.g. a hand edit in SQL that turned the BLOB into TEXT
        raise CorruptionError(
            f"run {run_id} seq {seq}: the stored record is {type(payload).__name__}, not the"
            " bytes that were written; it was altered after it was written. Restore the store"
            " from a backup, or fork the run from an earlier seq",
            run_id=run_id,
            seq=seq,
        )
    if checksum(run_id, seq, payload) != stored_checksum:
        raise CorruptionError(
            f"run {run_id} seq {seq}: the stored record does not match its checksum; it was"
            " altered or damaged after it was written. Restore the store from a backup, or"
            " fork the run from an earlier seq",
            run_id=run_id,
            seq=seq,
        )
    try:
        text = payload if payload[:1] == b"{" else zlib.decompress(payload)
        data: dict[str, Any] = _DECODER.decode(text.decode())
        if data.get("v") not in READABLE_VERSIONS:
            raise CorruptionError(
                f"run {run_id} seq {seq}: record format {data.get('v')!r} is not a format"
                f" this version reads ({', '.join(map(str, READABLE_VERSIONS))}); upgrade"
                " Flow Orchestra",
                run_id=run_id,
                seq=seq,
            )
        _check_shape(data)
        changes = data.get("changes", {})
        appended = data.get("appended", {})
        output = data.get("output")
        if "output_from" in data:
            output = _resolve_output(data["output_from"], output, changes, appended)
        return Snapshot(
            run_id=run_id,
            seq=seq,
            source=data.get("source"),
            target=data["target"],
            event=data.get("event"),
            rule=data.get("rule"),
            changes=changes,
            appended=appended,
            output=output,
            error=data.get("error"),
            attempt=data.get("attempt", 1),
            failed_attempts=tuple(data.get("failed_attempts", ())),
            started_at=data["started_at"],
            duration_ms=data["duration_ms"],
            spec_hash=data["spec_hash"] if "spec_hash" in data else _pinned(pinned_hash),
            status=data["status"] if "status" in data or data["v"] < 3 else "running",
            frame=_frame(data.get("frame")),
        )
    except CorruptionError:
        raise
    except (
        ValueError,
        KeyError,
        IndexError,
        TypeError,
        AttributeError,
        RecursionError,  # JSON nested thousands deep: the decoder recurses once per level
        zlib.error,
    ) as exc:
        raise CorruptionError(
            f"run {run_id} seq {seq}: the stored record passed its checksum but does not"
            f" decode ({exc!r}); it was written by an incompatible version",
            run_id=run_id,
            seq=seq,
        ) from exc


_TEXT = (str,)
_MAYBE_TEXT = (str, type(None))
_NUMBER = (int, float)
_SHAPES: tuple[tuple[str, tuple[type, ...]], ...] = (
    ("target", _TEXT),
    ("source", _MAYBE_TEXT),
    ("event", _MAYBE_TEXT),
    ("rule", _MAYBE_TEXT),
    ("error", _MAYBE_TEXT),
    ("status", _TEXT),
    ("spec_hash", _TEXT),
    ("attempt", (int,)),
    ("started_at", _NUMBER),
    ("duration_ms", _NUMBER),
    ("changes", (dict,)),
    ("appended", (dict,)),
    ("frame", (dict, type(None))),
)


def _check_shape(data: object) -> None:
    """``TypeError`` unless the record's own keys hold the JSON types it was written with.

    A payload whose checksum was recomputed after an edit (or one from a foreign writer) is
    otherwise used as is, and a list where ``changes`` belongs, a number as ``target`` or
    text as ``started_at`` surfaces later as a traceback in replay or ``history``. Only the
    record's structure is checked (a few ``isinstance`` calls), never the context values."""
    if not isinstance(data, dict):
        raise TypeError(f"the record is {type(data).__name__}, not an object")
    for key, kinds in _SHAPES:
        value = data.get(key)
        if key in data and (not isinstance(value, kinds) or isinstance(value, bool)):
            raise TypeError(f"{key!r} holds {type(value).__name__}")
    retried = data.get("failed_attempts", [])
    if not isinstance(retried, list) or not all(isinstance(error, str) for error in retried):
        # Why: tuple() of a text would silently make each of its characters an error
        raise TypeError("'failed_attempts' is not a list of texts")
    for name, items in data.get("appended", {}).items():
        if not isinstance(items, list):
            raise TypeError(f"'appended' holds {type(items).__name__} for {name!r}, not a list")
    frame = data.get("frame")
    if frame is not None:
        state, steps, visits = frame.get("state"), frame.get("steps"), frame.get("visits")
        wrong_visits = not isinstance(visits, dict) or any(
            not isinstance(count, int) or isinstance(count, bool) for count in visits.values()
        )
        if not isinstance(state, str) or type(steps) is not int or wrong_visits:
            raise TypeError("the frame's state, steps or visits do not have their types")


def _pinned(pinned_hash: str | None) -> str:
    if pinned_hash is None:
        raise KeyError("spec_hash: the record relies on the run's pinned hash, none was given")
    return pinned_hash


def _frame(data: Any) -> Frame | None:
    if data is None:
        return None
    frame = Frame(
        context=data["context"], state=data["state"], steps=data["steps"], visits=data["visits"]
    )
    if not isinstance(frame["context"], dict) or not isinstance(frame["visits"], dict):
        raise TypeError("a frame's context and visits must be objects")
    return frame


Reference = str | list[str | int]
"""Where a record keeps a value: a changed field's name, or ``[field, index]`` of an appended
item."""


def _output_references(
    snapshot: Snapshot, literal: int | None
) -> tuple[Reference | dict[str, Reference | int | None], dict[str, JsonValue]] | None:
    """``(output_from, the rest of the output)`` when the record's changes or appended items
    hold the output (or some of its values), else None. ``literal`` marks a key whose value is
    in the rest (``None`` in format 2, ``0`` in format 3).

    Only identical objects are referenced (the runtime writes the output's own values into the
    context), so a reference always reads back an equal value; a match costs one lookup."""
    output = snapshot.output
    for name, value in snapshot.changes.items():
        if value is output:
            return name, {}
    for name, items in snapshot.appended.items():
        for index, item in enumerate(items):
            if item is output:
                return [name, index], {}
    if type(output) is not dict:
        return None
    for value in output.values():  # inline: this runs on every record that has an output
        kind = type(value)
        if (kind is str and len(value) >= _MIN_REFERENCED_STR) or (kind in _CONTAINERS and value):
            break
    else:
        return None  # nothing worth a reference (exact types: a subclass is just stored)
    places: dict[int, Reference] = {}
    for name, value in snapshot.changes.items():
        places.setdefault(id(value), name)
    for name, items in snapshot.appended.items():
        for index, item in enumerate(items):
            places.setdefault(id(item), [name, index])
    keys: dict[str, Reference | int | None] = {}
    rest: dict[str, JsonValue] = {}
    found = False
    for key, value in output.items():
        place = places.get(id(value)) if _worth_referencing(value) else None
        keys[key] = literal if place is None else place
        if place is None:
            rest[key] = value
        else:
            found = True
    return (keys, rest) if found else None


_CONTAINERS = (list, dict)


def _worth_referencing(value: object) -> bool:
    if isinstance(value, str):
        return len(value) >= _MIN_REFERENCED_STR
    return isinstance(value, list | dict) and bool(value)


def _resolve_output(
    output_from: Any,
    rest: Any,
    changes: Mapping[str, JsonValue],
    appended: Mapping[str, Sequence[JsonValue]],
) -> JsonValue:
    """The output ``_output_references`` described: keys in their order, values from where
    the record keeps them."""

    def at(place: Any) -> JsonValue:
        if isinstance(place, str):
            return changes[place]
        name, index = place
        return appended[name][index]

    if not isinstance(output_from, dict):
        return at(output_from)
    literal = rest or {}
    return {
        key: literal[key] if place is None or place == 0 else at(place)
        for key, place in output_from.items()
    }
