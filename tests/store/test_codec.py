"""Records as bytes: exact round trips, checksums bound to run and seq, defaults left out."""

from __future__ import annotations

import enum
import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.errors import CorruptionError, StoreError
from fsm.store import Frame, Snapshot, codec, decode_snapshot, encode_snapshot
from fsm.store.base import MAX_FRAME_GAP, MAX_REPLAY_BYTES, encode_candidate, keeps_frame
from fsm.store.codec import COMPRESS_FROM, FORMAT_VERSION, checksum, encode_json
from tests.strategies import json_values

from .builders import new_run, step

names = st.text(min_size=1, max_size=8)
optional_names = st.none() | names


@st.composite
def snapshots(draw: st.DrawFn) -> Snapshot:
    """Any valid record: a start record with a frame, or a transition with or without one."""
    seq = draw(st.integers(0, 10**6))
    frame = None
    if seq == 0 or draw(st.booleans()):
        frame = Frame(
            context=draw(st.dictionaries(names, json_values, max_size=4)),
            state=draw(names),
            steps=draw(st.integers(0, 10**6)),
            visits=draw(st.dictionaries(names, st.integers(1, 100), max_size=3)),
        )
    changes = draw(st.dictionaries(st.sampled_from("abc"), json_values, max_size=3))
    return Snapshot(
        run_id=draw(st.text(min_size=1, max_size=32)),
        seq=seq,
        source=None if seq == 0 else draw(names),
        target=draw(names),
        event=draw(optional_names),
        rule=draw(optional_names),
        changes=changes,
        appended=draw(
            st.dictionaries(st.sampled_from("xyz"), st.lists(json_values, max_size=3), max_size=2)
        ),
        output=draw(json_values),
        error=draw(st.none() | st.text(max_size=20)),
        attempt=draw(st.integers(1, 5)),
        failed_attempts=tuple(draw(st.lists(st.text(max_size=20), max_size=3))),
        started_at=draw(st.floats(0, 2e9)),
        duration_ms=draw(st.floats(0, 1e6)),
        spec_hash=draw(st.text(max_size=64)),
        status=draw(st.sampled_from(("running", "waiting", "completed", "failed"))),
        frame=frame,
    )


@settings(max_examples=100)
@given(snapshots())
def test_every_record_round_trips_exactly(snapshot: Snapshot) -> None:
    """decode(encode(s)) == s for any record of JSON-ready data."""
    payload, digest = encode_snapshot(snapshot)
    assert decode_snapshot(snapshot.run_id, snapshot.seq, payload, digest) == snapshot


def _transition() -> Snapshot:
    run, _ = new_run("r1", context={"log": []})
    snapshot, _ = step(run, "reviewing", changes={"draft": {"title": "t"}}, appended={"log": ["a"]})
    return snapshot


def test_a_changed_byte_is_corruption() -> None:
    """Flipping any byte of the payload fails the checksum with a message naming run and seq."""
    payload, digest = encode_snapshot(_transition())
    for index in range(len(payload)):
        damaged = payload[:index] + bytes([payload[index] ^ 0x20]) + payload[index + 1 :]
        with pytest.raises(CorruptionError, match=r"run r1 seq 1: .* does not match its checksum"):
            decode_snapshot("r1", 1, damaged, digest)


def test_a_record_moved_to_another_run_or_seq_is_corruption() -> None:
    """The checksum covers run id and seq, so intact bytes under another key are rejected."""
    payload, digest = encode_snapshot(_transition())
    for run_id, seq in (("r2", 1), ("r1", 2), ("r11", 1)):
        with pytest.raises(CorruptionError, match=f"run {run_id} seq {seq}"):
            decode_snapshot(run_id, seq, payload, digest)


def test_a_record_of_an_unknown_format_version_is_refused() -> None:
    """A payload from another format version is never half-read, even with a valid checksum."""
    data: dict[str, Any] = json.loads(encode_snapshot(_transition())[0])
    data["v"] = FORMAT_VERSION + 1
    payload = json.dumps(data).encode()
    with pytest.raises(CorruptionError, match=f"record format {FORMAT_VERSION + 1}"):
        decode_snapshot("r1", 1, payload, checksum("r1", 1, payload))


def test_the_runs_pinned_spec_hash_is_left_out_and_given_back() -> None:
    """A record under the pinned hash omits it (format 3); decoding restores it exactly."""
    record = _transition()
    full, _ = encode_snapshot(record)
    payload, digest = encode_snapshot(record, record.spec_hash)
    assert len(full) - len(payload) >= len(record.spec_hash)
    assert json.loads(payload)["v"] == 3
    assert decode_snapshot("r1", 1, payload, digest, record.spec_hash) == record
    with pytest.raises(CorruptionError, match="relies on the run's pinned hash"):
        decode_snapshot("r1", 1, payload, digest)


def test_a_record_under_another_spec_hash_keeps_its_own() -> None:
    """After an allowed spec change the record's hash differs from the pinned one and is kept."""
    record = _transition()
    payload, digest = encode_snapshot(record, "cd" * 32)
    assert json.loads(payload)["spec_hash"] == record.spec_hash
    assert decode_snapshot("r1", 1, payload, digest, "cd" * 32) == record


def test_a_checksummed_payload_that_does_not_decode_is_corruption() -> None:
    """Bytes with a matching checksum but missing fields raise CorruptionError, not KeyError."""
    for payload in (b'{"v":1}', b"[1,2]", b"\xff\xfe", b'{"v":1,"target":"a"'):
        with pytest.raises(CorruptionError, match="does not decode"):
            decode_snapshot("r1", 1, payload, checksum("r1", 1, payload))


_TRANSITION = {
    "v": 1,
    "source": "a",
    "target": "b",
    "status": "running",
    "started_at": 1.0,
    "duration_ms": 0.5,
    "spec_hash": "ab",
}


@pytest.mark.parametrize(
    "edit",
    [
        {"changes": [1, 2]},
        {"target": 5},
        {"target": ["b"]},
        {"source": 7},
        {"started_at": "noon"},
        {"duration_ms": True},
        {"attempt": "2"},
        {"error": {"message": "x"}},
        {"appended": {"log": 5}},
        {"failed_attempts": "attempt 1 failed"},
        {"failed_attempts": {"a": "b"}},
        {"failed_attempts": ["x", 2]},
        {"frame": [1]},
        {"frame": {"context": {}, "state": 3, "steps": 1, "visits": {}}},
        {"frame": {"context": {}, "state": "b", "steps": "1", "visits": {}}},
        {"frame": {"context": {}, "state": "b", "steps": 1, "visits": {"b": "x"}}},
    ],
)
def test_a_checksummed_record_of_the_wrong_shape_is_corruption(edit: dict[str, Any]) -> None:
    """A record edited with its checksum recomputed, holding the wrong JSON type for one of its
    own keys, is CorruptionError when read, not a traceback later in replay or history."""
    payload = json.dumps(_TRANSITION | edit).encode()
    with pytest.raises(CorruptionError, match="does not decode"):
        decode_snapshot("r1", 1, payload, checksum("r1", 1, payload))


def test_a_checksummed_record_nested_too_deep_to_decode_is_corruption() -> None:
    """JSON nested far deeper than any record makes the decoder recurse too deep: that is
    CorruptionError too, never a RecursionError."""
    deep = "[" * 100_000 + "]" * 100_000
    payload = json.dumps(_TRANSITION)[:-1].encode() + b',"changes":{"x":' + deep.encode() + b"}}"
    with pytest.raises(CorruptionError, match="does not decode"):
        decode_snapshot("r1", 1, payload, checksum("r1", 1, payload))


def test_a_record_of_the_right_shape_still_decodes() -> None:
    """The shape check accepts every key of a well-formed transition record."""
    data = _TRANSITION | {"changes": {"x": 1}, "appended": {"log": [1]}, "attempt": 2}
    data["failed_attempts"] = ["agent 'a' failed (attempt 1 of 2): boom"]
    payload = json.dumps(data).encode()
    record = decode_snapshot("r1", 1, payload, checksum("r1", 1, payload))
    assert (record.target, record.attempt, record.appended) == ("b", 2, {"log": [1]})
    assert record.failed_attempts == ("agent 'a' failed (attempt 1 of 2): boom",)


@pytest.mark.parametrize(
    "bad", [{"tags": {1, 2}}, {"score": float("inf")}, {"when": object()}, {"s": "\ud800"}]
)
def test_values_that_are_not_json_are_refused(bad: dict[str, object]) -> None:
    """Sets, non-finite numbers, objects and lone surrogates raise StoreError when encoding."""
    with pytest.raises(StoreError, match="run r1 seq 1: the record is not JSON-ready"):
        encode_snapshot(attrs.evolve(_transition(), changes=bad))


def test_fields_at_their_default_are_left_out() -> None:
    """A bare transition stores no keys for empty changes, absent event, output or error."""
    run, _ = new_run("r1")
    snapshot, _ = step(run, "reviewing")
    stored = json.loads(encode_snapshot(snapshot)[0])
    assert set(stored) == {
        "v",
        "source",
        "target",
        "rule",
        "status",
        "started_at",
        "duration_ms",
        "spec_hash",
    }


NOTE = "a note long enough to be worth a reference " * 3


def _with_output(output: object, **fields: Any) -> Snapshot:
    return attrs.evolve(_transition(), output=output, **fields)


def test_an_output_the_writes_hold_is_stored_once_and_read_back_in_order() -> None:
    """Output values that are the record's changes or appended items are kept by reference."""
    title = "a title that is long enough to be worth a reference rather than a copy: 64+ chars"
    output = {"score": 0.5, "note": NOTE, "title": title}
    snapshot = _with_output(output, changes={"title": title}, appended={"notes": [NOTE]})
    payload, digest = encode_snapshot(snapshot)
    stored = json.loads(payload)
    assert payload.count(NOTE.encode()) == 1
    assert stored["v"] == 2
    assert stored["output_from"] == {"score": None, "note": ["notes", 0], "title": "title"}
    assert stored["output"] == {"score": 0.5}
    decoded = decode_snapshot("r1", 1, payload, digest)
    assert decoded == snapshot
    assert list(decoded.output) == ["score", "note", "title"]  # type: ignore[call-overload]


def test_format_3_marks_kept_output_values_without_null() -> None:
    """With a pinned hash the references use 0 for values kept in output: no null is written."""
    title = "a title that is long enough to be worth a reference rather than a copy: 64+ chars"
    output = {"score": 0.5, "note": NOTE, "title": title}
    snapshot = _with_output(output, changes={"title": title}, appended={"notes": [NOTE]})
    payload, digest = encode_snapshot(snapshot, snapshot.spec_hash)
    assert b"null" not in payload
    assert json.loads(payload)["output_from"] == {
        "score": 0,
        "note": ["notes", 0],
        "title": "title",
    }
    decoded = decode_snapshot("r1", 1, payload, digest, snapshot.spec_hash)
    assert decoded == snapshot
    assert list(decoded.output) == ["score", "note", "title"]  # type: ignore[call-overload]


def test_a_whole_output_written_to_one_field_is_a_single_reference() -> None:
    """An output merged whole into a field is stored as that field's name."""
    review = {"score": 0.9, "issues": ["none"]}
    snapshot = _with_output(review, changes={"review": review})
    payload, digest = encode_snapshot(snapshot)
    assert json.loads(payload)["output_from"] == "review"
    assert "output" not in json.loads(payload)
    assert decode_snapshot("r1", 1, payload, digest) == snapshot


def test_equal_but_separate_values_and_short_strings_are_stored_as_they_are() -> None:
    """Only identical objects are referenced, and only when a reference is smaller."""
    output = {"a": "short", "b": list(range(3))}
    snapshot = _with_output(output, changes={"a": "short", "b": [0, 1, 2]})
    payload, _ = encode_snapshot(snapshot)
    assert json.loads(payload)["v"] == 1
    assert "output_from" not in json.loads(payload)


def test_a_reference_to_a_missing_value_is_corruption() -> None:
    """A checksummed record whose output_from points nowhere is not half-read."""
    data: dict[str, Any] = json.loads(encode_snapshot(_transition())[0])
    data.update(v=2, output_from={"note": ["notes", 3]}, appended={"notes": [NOTE]})
    payload = json.dumps(data).encode()
    with pytest.raises(CorruptionError, match="does not decode"):
        decode_snapshot("r1", 1, payload, checksum("r1", 1, payload))


@pytest.mark.parametrize("value", [2**70, -(2**80), [None, {"k": None}], "caf\u00e9 \u2713"])
def test_values_the_fast_encoder_cannot_write_exactly_still_round_trip(value: object) -> None:
    """Big integers, nulls and non-ASCII text come back exactly, whichever encoder wrote them."""
    snapshot = attrs.evolve(_transition(), changes={"x": value})
    assert decode_snapshot("r1", 1, *encode_snapshot(snapshot)) == snapshot


@st.composite
def sharing_outputs(draw: st.DrawFn) -> Snapshot:
    """A record whose output mixes literals with objects shared with its changes and items."""
    changes = draw(st.dictionaries(st.sampled_from("abc"), json_values, max_size=3))
    appended = draw(
        st.dictionaries(st.sampled_from("xyz"), st.lists(json_values, max_size=3), max_size=2)
    )
    shared = [*changes.values(), *(item for items in appended.values() for item in items)]
    choices = st.sampled_from(shared) | json_values if shared else json_values
    output: object = draw(st.dictionaries(names, choices, max_size=4))
    if shared and draw(st.booleans()):
        output = draw(st.sampled_from(shared))
    return attrs.evolve(_transition(), changes=changes, appended=appended, output=output)


@settings(max_examples=150)
@given(sharing_outputs())
def test_outputs_sharing_values_with_the_record_round_trip_exactly(snapshot: Snapshot) -> None:
    """However the output shares objects with changes and items, decoding gives it back."""
    assert decode_snapshot("r1", 1, *encode_snapshot(snapshot)) == snapshot


def test_a_large_payload_is_stored_compressed_and_reads_back_exactly() -> None:
    """From COMPRESS_FROM bytes a compressible record is stored as zlib, smaller, and equal."""
    run, _ = new_run("r1", context={})
    record, _ = step(run, "reviewing", appended={"log": ["line " * 10 for _ in range(2_000)]})
    payload, digest = encode_snapshot(record)
    assert payload[:1] != b"{"
    assert len(payload) < COMPRESS_FROM <= len(encode_json(record))
    assert decode_snapshot("r1", 1, payload, digest) == record


def test_a_small_payload_stays_plain_json() -> None:
    """Below COMPRESS_FROM a record is stored as its JSON text, readable with any tool."""
    run, _ = new_run("r1", context={})
    small, _ = step(run, "reviewing", changes={"x": "y" * 1000})
    assert encode_snapshot(small)[0] == encode_json(small)


def test_a_checksummed_payload_that_does_not_inflate_is_corruption() -> None:
    """Bytes that are neither JSON nor a zlib stream raise CorruptionError, never zlib.error."""
    payload = b"\x78\x01not zlib at all"
    with pytest.raises(CorruptionError, match="does not decode"):
        decode_snapshot("r1", 1, payload, checksum("r1", 1, payload))


nested_with_floats = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300)
@given(nested_with_floats, st.sampled_from([0, 600]))
def test_the_fast_encoder_writes_what_json_writes_and_refuses_what_it_refuses(
    data: object, padding: int
) -> None:
    """Whatever nulls, "null" text and floats the data holds, the JSON is the standard
    encoder's (strict: NaN and infinities refused; floats may be spelled otherwise). orjson
    writes those as null, so a small payload with null is searched for them and a large one
    (padded here) walked; a None alone no longer sends it to the slow encoder."""
    value = [data, "p" * padding] if padding else data
    strict = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    try:
        expected = strict.encode(value).encode()
    except ValueError:
        with pytest.raises(ValueError, match="Out of range float values"):
            codec._dumps(value)
        return
    assert json.loads(codec._dumps(value)) == json.loads(expected)


def _nan_at(depth: int) -> object:
    value: object = float("nan")
    for level in range(depth):
        value = [value] if level % 2 else {"k": value}
    return value


@pytest.mark.parametrize(
    "data",
    [
        {"notes": ["n" * 1000] * 50, "deep": _nan_at(40)},
        {"notes": ["n" * 1000] * 50, "vector": [0.5] * 5000 + [float("-inf")]},
        {"counts": list(range(20_000)), "last": [float("inf")]},  # past the walk's budget
        ("x" * 600, float("nan")),
    ],
    ids=["deep-in-text", "in-a-vector", "past-the-budget", "top-level-tuple"],
)
def test_large_payloads_holding_a_non_finite_float_are_refused(data: object) -> None:
    """Large payloads are walked for floats instead of searched for null: NaN and infinities
    are still refused wherever they are, and whether the walk or the search finds them."""
    with pytest.raises(ValueError, match="Out of range float values"):
        codec._dumps(data)


@pytest.mark.parametrize(
    "data",
    [
        {"notes": ["annulled null " * 100] * 50, "review": None, "score": 0.5},
        {"counts": list(range(20_000)), "none": None, "ratio": [1.5, -2.25]},
    ],
)
def test_large_payloads_with_only_finite_floats_stay_on_the_fast_encoder(
    data: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = json.dumps(data, separators=(",", ":")).encode()
    monkeypatch.setattr(codec, "_stdlib_dumps", lambda data: pytest.fail("fell back to json"))
    assert codec._dumps(data) == expected


class _Ratio(float, enum.Enum):
    """A float enum: orjson encodes its members natively (no subclass passthrough), so an
    infinite one comes out as null."""

    HALF = 0.5
    UNBOUNDED = float("inf")


@pytest.mark.parametrize(
    "data",
    [
        _Ratio.UNBOUNDED,
        {"ratio": _Ratio.UNBOUNDED},
        {"notes": "n" * 600, "ratio": _Ratio.UNBOUNDED},
        {"notes": "n" * 600, "ratios": [0.5] * 40 + [_Ratio.UNBOUNDED]},
    ],
    ids=["top-level", "small", "large", "in-a-long-list"],
)
def test_a_float_enum_member_holding_infinity_is_refused(data: object) -> None:
    """A member of a float enum is a float: its infinity is refused as the standard encoder
    refuses it, never written as null (the walk once looked at exact floats only)."""
    with pytest.raises(ValueError, match="Out of range float values"):
        codec._dumps(data)
    assert json.loads(codec._dumps({"notes": "n" * 600, "r": [_Ratio.HALF] * 40})) == {
        "notes": "n" * 600,
        "r": [0.5] * 40,
    }


def test_the_walk_gives_way_to_the_search_past_its_budget() -> None:
    numbers = {"counts": list(range(1000)), "more": [[1.0, 2.0]] * 10}
    assert codec._holds_non_finite(numbers, budget=100) is None
    assert codec._holds_non_finite(numbers, budget=10_000) is False
    assert codec._holds_non_finite({"x": [[float("nan")]]}, budget=10) is True
    assert codec._holds_non_finite(float("inf")) is True


def test_a_none_beside_a_large_text_stays_on_the_fast_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The standard encoder is not called for data whose only nulls are None."""
    called: list[object] = []
    monkeypatch.setattr(codec, "_stdlib_dumps", lambda data: called.append(data) or b"")
    payload = codec._dumps({"notes": ["annulled " * 100] * 50, "review": None})
    assert payload.startswith(b'{"notes":["annulled')
    assert called == []
    codec._dumps({"review": None, "score": [1.0, float("nan")]})
    assert len(called) == 1


@pytest.mark.parametrize(
    "context",
    [
        {},
        {"draft": None, "log": ["a", "b"]},
        {"n": 2**70, "text": "caf\u00e9 \u2713"},
        {"x": {"y": [1, {}]}},
    ],
)
def test_a_frame_weighs_what_it_adds_to_its_record(context: dict[str, Any]) -> None:
    """The frame rule weighs a frame without encoding its record twice: by the bytes it adds."""
    frame = Frame(context=context, state="drafting", steps=3, visits={"drafting": 2})
    bare = attrs.evolve(_transition(), frame=None)
    added = len(encode_json(attrs.evolve(bare, frame=frame))) - len(encode_json(bare))
    assert codec.weigh_frame(frame) == added


def test_a_frame_that_is_not_kept_is_weighed_not_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Searching a large frame for NaN costs several times encoding it: only a kept frame is
    checked (with its record); one the rule skips is only weighed."""
    checked: list[object] = []
    search = codec._holds_non_finite
    monkeypatch.setattr(
        codec,
        "_holds_non_finite",
        lambda data, budget=None: checked.append(data) or search(data, budget),
    )
    frame = Frame(context={"big": "x" * 5_000, "none": None}, state="drafting", steps=3, visits={})
    snapshot = attrs.evolve(_transition(), changes={"n": None}, frame=frame)
    payload, _, framed = encode_candidate(
        snapshot, interval=4, gap=4, since_bytes=10, rebuild_frame=lambda: frame
    )
    assert not framed
    assert b"frame" not in payload
    assert all("frame" not in data for data in checked if isinstance(data, dict))
    _, _, framed = encode_candidate(
        snapshot, interval=4, gap=4, since_bytes=10_000, rebuild_frame=lambda: frame
    )
    assert framed
    assert any("frame" in data for data in checked if isinstance(data, dict))


def test_the_frame_rule_keeps_a_frame_exactly_at_each_threshold() -> None:
    """Each threshold is inclusive: replay bytes equal to the frame's, a gap of exactly
    ``MAX_FRAME_GAP`` intervals, or exactly ``MAX_REPLAY_BYTES`` since the last frame keeps
    it; one byte or one record short of every threshold does not."""
    assert keeps_frame(4, gap=4, since_bytes=500, frame_bytes=500)
    assert not keeps_frame(4, gap=4, since_bytes=499, frame_bytes=500)
    huge = 2 * MAX_REPLAY_BYTES
    assert keeps_frame(4, gap=MAX_FRAME_GAP * 4, since_bytes=1, frame_bytes=huge)
    assert not keeps_frame(4, gap=MAX_FRAME_GAP * 4 - 1, since_bytes=1, frame_bytes=huge)
    assert keeps_frame(4, gap=4, since_bytes=MAX_REPLAY_BYTES, frame_bytes=huge)
    assert not keeps_frame(4, gap=4, since_bytes=MAX_REPLAY_BYTES - 1, frame_bytes=huge)
