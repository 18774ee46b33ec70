"""Weighing a run's frames without encoding its whole context on every candidate seq.

The frame rule (``keeps_frame``) weighs the frame a candidate record could hold. Encoding a
large context to learn its size was the one part of a step that grew with the context: a run
whose list field had grown to 20 MB spent ~10 ms a candidate on it. A ``FrameWeigher``
remembers what each field of a run's last weighed frame weighed. A field holding the very same
object weighs what it did, and a list that only grew past the items it held (the same objects,
in order: what an ``append`` field does) weighs what it did plus its new items; anything else
is encoded again. The weights are exact, not estimates: a cache hit is proved by identity, so
any process following the rule reaches the same decision whether or not it has a cache.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Mapping

import orjson

from fsm.store.codec import FRAME_KEY, weigh_frame
from fsm.store.records import Frame, JsonValue

_IMMUTABLE = (str, int, float, bool, type(None))
"""Values whose identity proves their weight: they cannot change after they were weighed."""


class _Weighed:
    """One field's value as weighed: the value itself (a list's items as a tuple, since the
    list may change in place after) and its encoded bytes."""

    __slots__ = ("bytes", "value")

    def __init__(self, value: object, weight: int) -> None:
        self.value = value
        self.bytes = weight


_Fields = dict[str, _Weighed]


class FrameWeigher:
    """``weigh_frame`` for the frames of many runs, reusing the weights of unchanged fields.

    A store keeps one and weighs every candidate's frame with ``weigh(run_id, frame)``. It
    remembers the runs it weighed last (``capacity`` of them, least recently used out first):
    a worker advancing N runs at once needs a capacity of at least N to gain. What it holds
    are references to values of those runs' contexts, so ``forget`` a run that ended.
    Safe to share between threads.
    """

    def __init__(self, capacity: int = 16) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1; got {capacity}")
        self._capacity = capacity
        self._runs: OrderedDict[str, _Fields] = OrderedDict()
        self._lock = threading.Lock()

    def weigh(self, run_id: str, frame: Frame) -> int:
        """What ``weigh_frame(frame)`` returns, encoding only the fields that changed."""
        with self._lock:
            previous = self._runs.pop(run_id, None)
        fields: _Fields = {}
        try:
            context = _weigh_context(frame["context"], previous or {}, fields)
            rest = len(orjson.dumps({**frame, "context": {}}))  # holds the context's "{}"
        except (TypeError, orjson.JSONEncodeError):  # big ints, values that are not JSON
            return weigh_frame(frame)
        with self._lock:
            self._runs[run_id] = fields
            while len(self._runs) > self._capacity:
                self._runs.popitem(last=False)
        return len(FRAME_KEY) + rest + context

    def forget(self, run_id: str) -> None:
        """Drop what is remembered of a run (it ended, or moved to another process)."""
        with self._lock:
            self._runs.pop(run_id, None)


def _weigh_context(context: Mapping[str, JsonValue], previous: _Fields, fields: _Fields) -> int:
    """The bytes between the context's braces, recording each field's weight in ``fields``."""
    total = max(len(context) - 1, 0)  # the commas between fields
    for name, value in context.items():
        weighed = _weigh_value(value, previous.get(name))
        if weighed is not None:
            fields[name] = weighed
            weight = weighed.bytes
        else:
            weight = len(orjson.dumps(value))
        total += len(orjson.dumps(name)) + 1 + weight  # "name": value
    return total


def _weigh_value(value: JsonValue, before: _Weighed | None) -> _Weighed | None:
    """The value weighed, reusing ``before`` where identity proves it still holds; ``None``
    for a value not worth remembering (a dict: it may change in place, so is encoded)."""
    if type(value) is list:
        items = tuple(value)
        if before is not None and isinstance(before.value, tuple):
            known = before.value
            if len(known) <= len(items) and all(map(operator.is_, known, items)):
                tail = items[len(known) :]
                if not known:
                    return _Weighed(items, len(orjson.dumps(value)))
                added = sum(len(orjson.dumps(item)) + 1 for item in tail)  # ",item"
                return _Weighed(items, before.bytes + added)
        return _Weighed(items, len(orjson.dumps(value)))
    if type(value) in _IMMUTABLE:
        if before is not None and before.value is value:
            return before
        return _Weighed(value, len(orjson.dumps(value)))
    return None
