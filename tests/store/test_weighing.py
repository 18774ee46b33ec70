"""Frames weighed field by field: the same weights as encoding the frame, for less work."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.store import Frame, MemoryStore, SqliteStore, codec, weighing
from fsm.store.weighing import FrameWeigher
from tests.strategies import json_values

from .builders import new_run, step

field_names = st.sampled_from(["notes", "draft", "score", "log", "n\u00e9"])


def _frame(context: dict[str, Any], steps: int = 1) -> Frame:
    return Frame(context=context, state="drafting", steps=steps, visits={"drafting": steps})


class _CountingEncoder:
    """Stands in for orjson in ``weighing``, counting the bytes it encodes."""

    def __init__(self) -> None:
        self.encoded = 0
        self.JSONEncodeError = orjson.JSONEncodeError

    def dumps(self, value: object) -> bytes:
        payload = orjson.dumps(value)
        self.encoded += len(payload)
        return payload


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, str, Any]]:
    """What a run does to its context between candidates: replace a field, append items to a
    list field (in a fresh copy, as the runtime's frames are, or in place), drop a field."""
    kinds = st.sampled_from(["set", "append", "append_in_place", "drop"])
    return draw(
        st.lists(st.tuples(kinds, field_names, json_values | st.lists(json_values)), max_size=12)
    )


@settings(max_examples=150, deadline=None)
@given(first=st.dictionaries(field_names, json_values, max_size=4), changes=mutations())
def test_each_weight_is_the_frame_encoded(
    first: dict[str, Any], changes: list[tuple[str, str, Any]]
) -> None:
    weigher = FrameWeigher()
    context = dict(first)
    assert weigher.weigh("r", _frame(context)) == codec.weigh_frame(_frame(context))
    for steps, (kind, name, value) in enumerate(changes, start=2):
        current = context.get(name)
        if kind == "set":
            context[name] = value
        elif kind == "drop":
            context.pop(name, None)
        elif isinstance(current, list):
            items = value if isinstance(value, list) else [value]
            if kind == "append":
                context[name] = [*current, *items]
            else:
                current.extend(items)  # changed after it was weighed: still weighed exactly
        else:
            context[name] = [value]
        frame = _frame(context, steps)
        assert weigher.weigh("r", frame) == codec.weigh_frame(frame)


@pytest.mark.parametrize(
    "context", [{"n": 2**70, "log": ["a"]}, {"log": [{1, 2}]}, {"log": ["a", b"bytes"]}]
)
def test_what_orjson_cannot_weigh_is_weighed_as_the_codec_does(context: dict[str, Any]) -> None:
    """Big integers are measured by the standard encoder; values that are not JSON weigh 0,
    so the frame is kept and encoding it raises the error that says why."""
    frame = _frame(context)
    assert FrameWeigher().weigh("r", frame) == codec.weigh_frame(frame)


def test_a_grown_list_costs_only_its_new_items(monkeypatch: pytest.MonkeyPatch) -> None:
    notes = [f"note {i} " + "x" * 1000 for i in range(2000)]
    weigher = FrameWeigher()
    weigher.weigh("r", _frame({"topic": "t", "notes": list(notes)}))
    counter = _CountingEncoder()
    monkeypatch.setattr(weighing, "orjson", counter)
    grown = _frame({"topic": "t", "notes": [*notes, "one more"]})
    assert weigher.weigh("r", grown) == codec.weigh_frame(grown)
    assert 0 < counter.encoded < 200  # the new item, the names and the frame's small fields


def test_a_list_changed_before_its_end_is_weighed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    notes = ["x" * 100 for _ in range(100)]
    weigher = FrameWeigher()
    weigher.weigh("r", _frame({"notes": notes}))
    counter = _CountingEncoder()
    monkeypatch.setattr(weighing, "orjson", counter)
    changed = _frame({"notes": ["y" * 100, *notes[1:], "z"]})
    assert weigher.weigh("r", changed) == codec.weigh_frame(changed)
    assert counter.encoded > 100 * 100


def test_forgotten_and_least_recently_used_runs_are_weighed_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    big = ["x" * 1000] * 50
    weigher = FrameWeigher(capacity=2)
    for run_id in ("a", "b", "c"):
        weigher.weigh(run_id, _frame({"notes": big}))
    weigher.forget("c")
    counter = _CountingEncoder()
    monkeypatch.setattr(weighing, "orjson", counter)
    weigher.weigh("b", _frame({"notes": big}))
    assert counter.encoded < 1000  # remembered
    for run_id in ("a", "c"):  # "a" fell out when "c" came in; "c" was forgotten
        counter.encoded = 0
        weigher.weigh(run_id, _frame({"notes": big}))
        assert counter.encoded > 50 * 1000


def test_capacity_is_at_least_one() -> None:
    with pytest.raises(ValueError, match="capacity"):
        FrameWeigher(capacity=0)


@pytest.mark.parametrize("make_store", ["memory", "sqlite"])
def test_stores_weigh_candidates_with_their_weigher_and_forget_ended_runs(
    make_store: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store's candidates go through its weigher, and a run that ends is dropped from it
    (it would otherwise keep the run's values alive)."""
    store: MemoryStore | SqliteStore
    if make_store == "memory":
        store = MemoryStore(frame_interval=2)
    else:
        store = SqliteStore(tmp_path / "runs.db", frame_interval=2)
    weighed: list[str] = []
    original = FrameWeigher.weigh

    def spy(self: FrameWeigher, run_id: str, frame: Frame) -> int:
        weighed.append(run_id)
        return original(self, run_id, frame)

    monkeypatch.setattr(FrameWeigher, "weigh", spy)
    run, start = new_run("r1", context={"notes": []})
    store.create_run(run, start)
    notes: list[str] = []
    for seq in range(1, 5):
        notes = [*notes, f"note {seq}"]
        frame = _frame({"notes": notes}, seq) if seq % 2 == 0 else None
        snapshot, run = step(
            run,
            "drafting",
            appended={"notes": [f"note {seq}"]},
            status="completed" if seq == 4 else "running",
            frame=frame,
        )
        store.append(snapshot, run)
    assert weighed == ["r1", "r1"]
    assert "r1" not in store._weigher._runs
    store.close()
