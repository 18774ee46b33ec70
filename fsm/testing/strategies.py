"""Hypothesis strategies that generate contract-valid JSON-ready data for any ``DataType``.

Every value ``values(t)`` draws passes ``fsm.values.check_value(value, t, ...)``: numbers stay
within their bounds (floats are finite and always ``float``), strings respect their lengths and
fully match their pattern, optional values are sometimes ``None``, fields with a default are
sometimes left out (the default applies) and sometimes given the default itself.

``extra_values`` mixes chosen candidates into the values drawn at given paths, so a caller can
aim at the interesting spots, e.g. ``{("review", "score"): [0.8]}`` to hit a guard boundary.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

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
from fsm.values import check_value

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
            return st.floats(
                constraints.minimum,
                constraints.maximum,
                allow_nan=False,
                allow_infinity=False,
            )
        case ScalarType(name="str"):
            return _strings(constraints)
        case EnumType(name=name, values=members):
            if not members:
                raise ValueError(f"enum {name} has no values, so no value can be generated")
            return st.sampled_from(members)
        case ListType(item=item):
            items = _values(item, Constraints(), (*path, EACH), extras, used)
            return st.lists(items, min_size=constraints.min_len or 0, max_size=constraints.max_len)
        case DictType(value=item):
            entries = _values(item, Constraints(), (*path, EACH), extras, used)
            return st.dictionaries(
                st.text(), entries, min_size=constraints.min_len or 0, max_size=constraints.max_len
            )
        case RecordType():
            return _records(data_type, path, extras, used)
    raise AssertionError(f"unhandled type {data_type!r}")  # pragma: no cover


def _integers(constraints: Constraints) -> st.SearchStrategy[object]:
    low = None if constraints.minimum is None else math.ceil(constraints.minimum)
    high = None if constraints.maximum is None else math.floor(constraints.maximum)
    if low is not None and high is not None and low > high:
        raise ValueError(f"no int lies within {constraints.minimum}..{constraints.maximum}")
    return st.integers(low, high)


def _strings(constraints: Constraints) -> st.SearchStrategy[object]:
    low, high = constraints.min_len or 0, constraints.max_len
    if constraints.pattern is None:
        return st.text(min_size=low, max_size=high)
    matching = st.from_regex(constraints.pattern, fullmatch=True)
    if low == 0 and high is None:
        return matching
    return matching.filter(lambda text: low <= len(text) and (high is None or len(text) <= high))


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
