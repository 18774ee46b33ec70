"""Shared hypothesis strategies for tests: random contract types and arbitrary JSON data."""

from __future__ import annotations

import itertools
import keyword
from typing import TypeVar

from hypothesis import strategies as st

from fsm.datatypes import (
    NO_DEFAULT,
    SCALARS,
    Constraints,
    DataType,
    DictType,
    EnumType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
)
from fsm.testing import values

T = TypeVar("T")

# Patterns whose Python and ECMA-262 meanings agree (ASCII classes, no anchors inside).
PATTERNS = ("[a-z]+", "[A-Z][a-z]{0,5}", "[0-9]{3}", "(ab|cd)*", "[a-f0-9]{2,4}-x")

field_names = st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True).filter(
    lambda name: not keyword.iskeyword(name)
)


@st.composite
def record_types(draw: st.DrawFn, max_depth: int = 2) -> RecordType:
    """A random record type: every kind of field, constraints, defaults and nested records.

    Names are unique within one drawn tree (``R0``, ``E1``, ...), as the spec checker demands."""
    counter = itertools.count()
    return _record(draw, counter, max_depth)


def _record(draw: st.DrawFn, counter: itertools.count[int], depth: int) -> RecordType:
    name = f"R{next(counter)}"
    names = draw(st.lists(field_names, min_size=1, max_size=5, unique=True))
    fields = tuple(_field(draw, counter, depth, field_name) for field_name in names)
    return RecordType(name, fields, description=draw(st.sampled_from(["", f"About {name}."])))


def _field(draw: st.DrawFn, counter: itertools.count[int], depth: int, name: str) -> FieldDef:
    data_type = _type(draw, counter, depth)
    constraints = draw(constraints_for(data_type))
    default = draw(values(data_type, constraints)) if draw(st.integers(0, 3)) == 0 else NO_DEFAULT
    return FieldDef(name, data_type, default, constraints, draw(st.sampled_from(["", "A field."])))


def _type(draw: st.DrawFn, counter: itertools.count[int], depth: int) -> DataType:
    kinds = ["scalar", "scalar", "enum"]
    if depth >= 0:
        kinds += ["list", "dict", "optional"]
    if depth > 0:
        kinds.append("record")
    match draw(st.sampled_from(kinds)):
        case "scalar":
            return draw(st.sampled_from(list(SCALARS.values())))
        case "enum":
            members = draw(st.lists(field_names, min_size=1, max_size=4, unique=True))
            return EnumType(f"E{next(counter)}", tuple(members))
        case "list":
            return ListType(_type(draw, counter, depth - 1))
        case "dict":
            return DictType(_type(draw, counter, depth - 1))
        case "optional":
            inner = _type(draw, counter, depth - 1)
            return inner if isinstance(inner, OptionalType) else OptionalType(inner)
        case _:
            return _record(draw, counter, depth - 1)


@st.composite
def constraints_for(draw: st.DrawFn, data_type: DataType) -> Constraints:
    """Satisfiable constraints that apply to ``data_type`` (often none)."""
    target = data_type.inner if isinstance(data_type, OptionalType) else data_type
    if draw(st.booleans()):
        return Constraints()
    match target:
        case ScalarType(name="int"):
            return _number_bounds(draw, st.integers(-1000, 1000))
        case ScalarType(name="float"):
            return _number_bounds(draw, st.floats(-1e6, 1e6, allow_nan=False))
        case ScalarType(name="str"):
            if draw(st.booleans()):
                return Constraints(pattern=draw(st.sampled_from(PATTERNS)))
            return _lengths(draw)
        case ListType() | DictType():
            return _lengths(draw)
    return Constraints()


def _number_bounds(draw: st.DrawFn, numbers: st.SearchStrategy[float]) -> Constraints:
    low, high = sorted(draw(st.lists(numbers, min_size=2, max_size=2)))
    minimum, maximum = draw(_some_of(low, high))
    return Constraints(minimum=minimum, maximum=maximum)


def _lengths(draw: st.DrawFn) -> Constraints:
    low = draw(st.integers(0, 3))
    high = draw(st.integers(low, low + 3))
    min_len, max_len = draw(_some_of(low, high))
    return Constraints(min_len=min_len, max_len=max_len)


def _some_of(low: T, high: T) -> st.SearchStrategy[tuple[T | None, T | None]]:
    """Each bound, or no bound."""
    return st.tuples(st.sampled_from([low, None]), st.sampled_from([high, None]))


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)

json_values: st.SearchStrategy[object] = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)
"""Arbitrary JSON data (as ``json.loads`` returns it)."""


@st.composite
def mutated(draw: st.DrawFn, value: object) -> object:
    """``value`` with one part changed: replaced, nudged, removed or added."""
    if isinstance(value, dict) and draw(st.booleans()):
        changed = dict(value)
        action = draw(st.sampled_from(["change", "drop", "add"] if value else ["add"]))
        if action == "add":
            changed[draw(st.text(max_size=4))] = draw(json_values)
            return changed
        key = draw(st.sampled_from(sorted(value)))
        if action == "drop":
            del changed[key]
        else:
            changed[key] = draw(mutated(value[key]))
        return changed
    if isinstance(value, list) and draw(st.booleans()):
        action = draw(st.sampled_from(["change", "drop", "add"] if value else ["add"]))
        if action == "add":
            return [*value, draw(st.sampled_from(value)) if value else draw(json_values)]
        index = draw(st.integers(0, len(value) - 1))
        kept = [] if action == "drop" else [draw(mutated(value[index]))]
        return [*value[:index], *kept, *value[index + 1 :]]
    if draw(st.booleans()):
        return draw(_nudged(value))
    return draw(json_values)


def _nudged(value: object) -> st.SearchStrategy[object]:
    """A value next to ``value``, to probe bounds, lengths and anchored patterns."""
    if isinstance(value, bool) or value is None:
        return json_values
    if isinstance(value, int):
        return st.sampled_from([value - 1, value + 1])
    if isinstance(value, float):
        return st.sampled_from([-1.5, -1e-9, 1e-9, 1.5]).map(lambda step: value + step)
    if isinstance(value, str):
        extra = st.text(min_size=1, max_size=2)
        return st.one_of(extra.map(lambda e: e + value), extra.map(lambda e: value + e))
    return json_values
