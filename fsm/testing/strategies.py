"""Hypothesis strategies that generate contract-valid JSON-ready data for any ``DataType``.

Every value ``values(t)`` draws passes ``fsm.values.check_value(value, t, ...)``: numbers stay
within their bounds (floats are finite and always ``float``), strings respect their lengths and
fully match their pattern, optional values are sometimes ``None``, fields with a default are
sometimes left out (the default applies) and sometimes given the default itself. Sizes stay
cheap whatever the contract asks: long lists, dicts and strings repeat one drawn item past
``DRAWN_ITEMS``, and long pattern matches come from a few drawn once.

``extra_values`` mixes chosen candidates into the values drawn at given paths, so a caller can
aim at the interesting spots, e.g. ``{("review", "score"): [0.8]}`` to hit a guard boundary.
"""

from __future__ import annotations

import copy
import functools
import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from fsm.datatypes import (
    Constraints,
    DataType,
    DictType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
    render_type,
)
from fsm.pattern_engine import compile_pattern, python_pattern
from fsm.values import check_value

if TYPE_CHECKING:  # typeshed knows it by its old, deprecated name
    import sre_parse as _parser
else:
    from re import _parser

DRAWN_ITEMS = 32
"""Items of a list or dict (characters of a string) drawn one by one. A longer minimum length is
reached by repeating one more drawn item: hypothesis slows to seconds per value near a thousand
draws and gives up near two thousand, so a field with ``min_len: 5000`` could not be drawn."""

LONG_MATCH = 100
"""Patterns whose shortest match is longer get ``LONG_MATCH_EXAMPLES`` strings drawn once."""
LONG_MATCH_EXAMPLES = 8

Path = tuple[str, ...]
"""A place inside a value: record field names, ``EACH`` for every list item or dict value.
``()`` is the value itself; optional types are transparent (``None`` is a valid candidate)."""

EACH = "*"


def values(
    data_type: DataType,
    constraints: Constraints | None = None,
    *,
    extra_values: Mapping[Path, Sequence[object]] | None = None,
) -> st.SearchStrategy[object]:
    """Contract-valid data of ``data_type`` (with ``constraints`` on the root value).

    ``extra_values`` maps paths to candidates that are drawn often at that path. Candidates
    the contract rejects there are skipped (a boundary just past a maximum cannot occur); a
    path that does not exist in the type raises ``ValueError``."""
    extras = {tuple(path): list(candidates) for path, candidates in (extra_values or {}).items()}
    used: set[Path] = set()
    strategy = _values(data_type, constraints or Constraints(), (), extras, used)
    unknown = sorted(set(extras) - used)
    if unknown:
        raise ValueError(
            f"extra_values paths {unknown} do not exist in {render_type(data_type)}; use field "
            f"names, and {EACH!r} for list items and dict values"
        )
    return strategy


def _values(
    data_type: DataType,
    constraints: Constraints,
    path: Path,
    extras: Mapping[Path, Sequence[object]],
    used: set[Path],
) -> st.SearchStrategy[object]:
    strategy = _plain(data_type, constraints, path, extras, used)
    if path not in extras:
        return strategy
    used.add(path)
    valid = [c for c in extras[path] if not check_value(c, data_type, "", constraints)]
    if not valid:
        return strategy
    return st.one_of(st.sampled_from(valid).map(copy.deepcopy), strategy)


def _plain(
    data_type: DataType,
    constraints: Constraints,
    path: Path,
    extras: Mapping[Path, Sequence[object]],
    used: set[Path],
) -> st.SearchStrategy[object]:
    match data_type:
        case OptionalType(inner=inner):
            return st.one_of(st.none(), _plain(inner, constraints, path, extras, used))
        case ScalarType(name="bool"):
            return st.booleans()
        case ScalarType(name="int"):
            return _integers(constraints)
        case ScalarType(name="float"):
            return _floats(constraints)
        case ScalarType(name="str"):
            return _strings(constraints)
        case EnumType(name=name, values=members):
            if not members:
                raise ValueError(f"enum {name} has no values, so no value can be generated")
            return st.sampled_from(members)
        case ListType(item=item):
            items = _values(item, Constraints(), (*path, EACH), extras, used)
            return _lists(items, constraints.min_len or 0, constraints.max_len)
        case DictType(value=item):
            entries = _values(item, Constraints(), (*path, EACH), extras, used)
            return _dicts(entries, constraints.min_len or 0, constraints.max_len)
        case RecordType():
            return _records(data_type, path, extras, used)
    raise AssertionError(f"unhandled type {data_type!r}")  # pragma: no cover


def _integers(constraints: Constraints) -> st.SearchStrategy[object]:
    low = None if constraints.minimum is None else math.ceil(constraints.minimum)
    high = None if constraints.maximum is None else math.floor(constraints.maximum)
    if low is not None and high is not None and low > high:
        raise ValueError(f"no int lies within {constraints.minimum}..{constraints.maximum}")
    return st.integers(low, high)


def _floats(constraints: Constraints) -> st.SearchStrategy[object]:
    """Floats within the bounds. A bound may be an int no float holds exactly (``2**53 + 1``),
    which hypothesis refuses: the nearest float inside the bounds stands in for it."""
    low, high = constraints.minimum, constraints.maximum
    if low is not None and float(low) < low:
        low = math.nextafter(float(low), math.inf)
    if high is not None and float(high) > high:
        high = math.nextafter(float(high), -math.inf)
    if low is not None and high is not None and low > high:
        raise ValueError(f"no float lies within {constraints.minimum}..{constraints.maximum}")
    # Bounds compare as numbers (-0.0 >= 0 holds), hypothesis' by sign (it refuses 0.0..-0.0):
    # a zero bound lets in both zeros.
    if low == 0:
        low = -0.0
    if high == 0:
        high = 0.0
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _padded_sizes(low: int, high: int | None) -> st.SearchStrategy[int]:
    """Sizes for a value longer than hypothesis can draw item by item: the minimum and a little
    more."""
    top = low + DRAWN_ITEMS if high is None else min(high, low + DRAWN_ITEMS)
    return st.integers(low, top)


def _lists(
    items: st.SearchStrategy[object], low: int, high: int | None
) -> st.SearchStrategy[object]:
    if low <= DRAWN_ITEMS:
        return st.lists(items, min_size=low, max_size=high)

    def padded(drawn: list[object], filler: object, size: int) -> list[object]:
        return drawn + [copy.deepcopy(filler) for _ in range(size - len(drawn))]

    drawn = st.lists(items, max_size=DRAWN_ITEMS)
    return st.builds(padded, drawn, items, _padded_sizes(low, high))


def _dicts(
    entries: st.SearchStrategy[object], low: int, high: int | None
) -> st.SearchStrategy[object]:
    if low <= DRAWN_ITEMS:
        return st.dictionaries(st.text(), entries, min_size=low, max_size=high)

    def padded(drawn: dict[str, object], filler: object, size: int) -> dict[str, object]:
        result = dict(drawn)
        number = 0
        while len(result) < size:
            result.setdefault(f"k{number}", copy.deepcopy(filler))
            number += 1
        return result

    drawn = st.dictionaries(st.text(), entries, max_size=DRAWN_ITEMS)
    return st.builds(padded, drawn, entries, _padded_sizes(low, high))


def _strings(constraints: Constraints) -> st.SearchStrategy[object]:
    low, high = constraints.min_len or 0, constraints.max_len
    if constraints.pattern is None:
        if low <= DRAWN_ITEMS:
            return st.text(min_size=low, max_size=high)
        return st.builds(
            lambda head, filler, size: head + filler * (size - len(head)),
            st.text(max_size=DRAWN_ITEMS),
            st.text(min_size=1, max_size=1),
            _padded_sizes(low, high),
        )
    if low == 0 and high is None:
        return _matching(constraints.pattern)
    sized = _sized_matches(constraints.pattern, low, high)
    if sized is not None:
        return sized
    matching = _matching(constraints.pattern)
    return matching.filter(lambda text: low <= len(text) and (high is None or len(text) <= high))


def _matching(pattern: str) -> st.SearchStrategy[str]:
    """Strings fully matching ``pattern``; when its shortest match is long, a few drawn once
    (hypothesis builds such a string character by character, ~0.1 s for a thousand)."""
    if _parser.parse(pattern, re.ASCII).getwidth()[0] <= LONG_MATCH:
        return regex_matches(pattern)
    return st.sampled_from(_long_matches(pattern))


_CATEGORIES = {
    _parser.CATEGORY_DIGIT: r"\d",
    _parser.CATEGORY_NOT_DIGIT: r"\D",
    _parser.CATEGORY_SPACE: r"\s",
    _parser.CATEGORY_NOT_SPACE: r"\S",
    _parser.CATEGORY_WORD: r"\w",
    _parser.CATEGORY_NOT_WORD: r"\W",
}
_KEPT_FLAGS = ((re.IGNORECASE, "i"), (re.DOTALL, "s"), (re.ASCII, "a"))
Piece = tuple[st.SearchStrategy[str], int, int | None]
"""One character's strategy and how many times it repeats: at least, at most (None: any)."""


def _sized_matches(pattern: str, low: int, high: int | None) -> st.SearchStrategy[str] | None:
    """Matches of ``pattern`` with a length in ``low..high``, built to that length, for a
    pattern that is a sequence of characters and repeats of one (``T-[0-9]+``,
    ``^[0-9a-f]{2,}$``); None for any other. Filtering unsized matches by length finds almost
    none when the bounds are far from the short strings hypothesis draws (``[0-9a-f]+`` of
    exactly 40 characters, a hash)."""
    parsed = _parser.parse(pattern, re.ASCII)
    flags = "".join(letter for flag, letter in _KEPT_FLAGS if parsed.state.flags & flag)
    prefix = f"(?{flags})" if flags else ""
    pieces = _pieces(parsed.data, prefix)
    if pieces is None:
        return None
    least = max(low, sum(lo for _, lo, _ in pieces))
    widest = [hi for _, _, hi in pieces]
    most = None if None in widest else sum(hi for hi in widest if hi is not None)
    if high is not None:
        most = high if most is None else min(most, high)
    if most is None:
        most = least + DRAWN_ITEMS
    if least > most:
        return None
    matches = compile_pattern(pattern).fullmatch
    return _concatenated(tuple(pieces), least, most).filter(lambda text: bool(matches(text)))


def _pieces(items: Sequence[Any], prefix: str) -> list[Piece] | None:
    """The pattern's top-level items as pieces; None when one is not a character, a repeat of
    one, or an anchor at its end (``^`` first, ``$`` last)."""
    pieces: list[Piece] = []
    for index, (op, arg) in enumerate(items):
        if op is _parser.AT:
            first = index == 0 and arg in (_parser.AT_BEGINNING, _parser.AT_BEGINNING_STRING)
            last = index == len(items) - 1 and arg in (_parser.AT_END, _parser.AT_END_STRING)
            if not (first or last):
                return None
            continue
        if op in (_parser.MAX_REPEAT, _parser.MIN_REPEAT):
            assert isinstance(arg, tuple)
            lo, hi, body = arg
            inner = list(body)
            one = _character(*inner[0]) if len(inner) == 1 else None
            if one is None:
                return None
            top = None if hi == _parser.MAXREPEAT else hi
            pieces.append((st.from_regex(prefix + one, fullmatch=True), lo, top))
            continue
        one = _character(op, arg)
        if one is None:
            return None
        pieces.append((st.from_regex(prefix + one, fullmatch=True), 1, 1))
    return pieces


def _character(op: object, arg: object) -> str | None:
    """A regex for one character item of a parsed pattern, or None if it is not one."""
    if op is _parser.LITERAL and isinstance(arg, int):
        return re.escape(chr(arg))
    if op is _parser.NOT_LITERAL and isinstance(arg, int):
        return f"[^{re.escape(chr(arg))}]"
    if op is _parser.ANY:
        return "."
    if op is not _parser.IN or not isinstance(arg, list):
        return None
    parts: list[str] = []
    for kind, value in arg:
        if kind is _parser.NEGATE:
            parts.append("^")
        elif kind is _parser.LITERAL:
            parts.append(re.escape(chr(value)))
        elif kind is _parser.RANGE:
            parts.append(f"{re.escape(chr(value[0]))}-{re.escape(chr(value[1]))}")
        elif kind is _parser.CATEGORY and value in _CATEGORIES:
            parts.append(_CATEGORIES[value])
        else:
            return None
    return f"[{''.join(parts)}]"


def _concatenated(pieces: tuple[Piece, ...], least: int, most: int) -> st.SearchStrategy[str]:
    """A total length in ``least..most`` shared out among the pieces within their own
    bounds; a piece repeated past ``DRAWN_ITEMS`` repeats its last drawn character."""
    after_least = [sum(lo for _, lo, _ in pieces[index:]) for index in range(len(pieces) + 1)]
    after_most: list[int | None] = []
    for index in range(len(pieces) + 1):
        tops = [hi for _, _, hi in pieces[index:]]
        after_most.append(None if None in tops else sum(hi for hi in tops if hi is not None))

    @st.composite
    def build(draw: st.DrawFn) -> str:
        remaining = draw(st.integers(least, most))
        text: list[str] = []
        for index, (character, lo, hi) in enumerate(pieces):
            rest_least, rest_most = after_least[index + 1], after_most[index + 1]
            fewest = lo if rest_most is None else max(lo, remaining - rest_most)
            many = remaining - rest_least if hi is None else min(hi, remaining - rest_least)
            count = draw(st.integers(fewest, many))
            drawn = min(count, DRAWN_ITEMS)
            chars = draw(st.lists(character, min_size=drawn, max_size=drawn))
            text.extend(chars)
            if count > drawn:
                text.append(chars[-1] * (count - drawn))
            remaining -= count
        return "".join(text)

    return build()


def regex_matches(pattern: str) -> st.SearchStrategy[str]:
    """Strings that fully match ``pattern`` under RE2, which checks them at run time: drawn by
    hypothesis from Python's reading of it (with ``re.ASCII``, RE2's classes), and filtered
    by RE2 for the corners where the two still differ (``\\s`` is no ``\\v`` in RE2)."""
    matches = compile_pattern(pattern).fullmatch
    drawn = st.from_regex(python_pattern(pattern), fullmatch=True)
    return drawn.filter(lambda text: matches(text) is not None)


@functools.lru_cache(maxsize=64)
def _long_matches(pattern: str) -> tuple[str, ...]:
    found: list[str] = []
    quick = settings(
        max_examples=LONG_MATCH_EXAMPLES,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )

    @quick
    @given(regex_matches(pattern))
    def collect(text: str) -> None:
        found.append(text)

    collect()
    return tuple(dict.fromkeys(found))


def _records(
    record: RecordType,
    path: Path,
    extras: Mapping[Path, Sequence[object]],
    used: set[Path],
) -> st.SearchStrategy[object]:
    required: dict[str, st.SearchStrategy[object]] = {}
    omissible: dict[str, st.SearchStrategy[object]] = {}
    for field in record.fields:
        strategy = _values(field.type, field.constraints, (*path, field.name), extras, used)
        if field.has_default:
            omissible[field.name] = st.one_of(st.just(field.default).map(copy.deepcopy), strategy)
        elif isinstance(field.type, OptionalType):
            omissible[field.name] = strategy
        else:
            required[field.name] = strategy
    return st.fixed_dictionaries(required, optional=omissible)
