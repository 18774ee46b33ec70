"""Checking JSON-ready data against a ``DataType``, collecting every problem with its path.

This is the single definition of "contract-valid" for data: the spec checker uses it for
defaults, the contract converter for agent outputs and run inputs. It works on plain data
(``dict``, ``list``, ``str``, numbers, ``bool``, ``None``) so it needs no generated classes.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping, Sequence

from fsm.datatypes import (
    STR,
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
from fsm.diagnostics import indefinite
from fsm.errors import ContractProblem
from fsm.pattern_engine import fully_matches

_MAX_REPR = 60
_FLOAT_MAX = sys.float_info.max
# Python's default limit on the digits of an int it converts to text (sys.int_info): a longer
# int cannot be written as JSON, nor read back by a process with the default limit.
_INT_DIGITS = 4300
INT_BOUND: int = 10**_INT_DIGITS
_SURROGATE = re.compile("[\ud800-\udfff]")


def within_float_range(value: float) -> bool:
    """Finite, and small enough for a float: what a float field can hold. False for NaN, the
    infinities and ints past ~1.8e308 (``math.isfinite`` raises on those instead)."""
    return -_FLOAT_MAX <= value <= _FLOAT_MAX


def within_int_range(value: int) -> bool:
    """At most 4,300 digits: what JSON can carry between processes (``str(int)`` refuses more
    by default, so the store could not write it)."""
    return -INT_BOUND < value < INT_BOUND


def plain_number(value: int | float) -> int | float:
    """The builtin ``int`` or ``float`` a number (a subclass included) converts to: what is
    stored, and what bounds must be compared on. A subclass's own ``__lt__``/``__gt__`` may
    say anything (compare as 1 while holding 99)."""
    if type(value) is int or type(value) is float:
        return value
    return float.__float__(value) if isinstance(value, float) else int.__int__(value)


def plain_int(value: int) -> int:
    """``plain_number`` for an int."""
    return value if type(value) is int else int.__int__(value)


def is_text(value: str) -> bool:
    """Whether ``value`` is Unicode text UTF-8 can encode: no lone UTF-16 surrogates, which
    ``json.loads`` makes of half an escaped pair (``"\\ud83d"``, a cut-off emoji) and no store
    can write. ``isascii`` first: it is a flag lookup, and most text is ASCII."""
    return str.isascii(value) or _SURROGATE.search(value) is None


def as_sequence(value: list[object] | tuple[object, ...]) -> Sequence[object]:
    """The items a list or tuple gives when iterated (what converting it builds), measured by
    what they are: a subclass's own ``__len__`` may say anything."""
    return value if type(value) is list or type(value) is tuple else list(value)


def short_repr(value: object) -> str:
    """``repr`` cut to a line; never raises, so a problem's report is never lost to an
    agent's object whose ``__repr__`` is broken."""
    try:
        text = repr(value)
    except Exception as error:  # an object's own code: anything may come out of it
        return f"<{type(value).__qualname__} object; its repr raised {type(error).__name__}>"
    return text if len(text) <= _MAX_REPR else text[: _MAX_REPR - 3] + "..."


def describe_expected(data_type: DataType, constraints: Constraints) -> str:
    """``int >= 0``, ``str matching '^[a-z]+$'``, ``list[str] with at most 5 items``."""
    text = render_type(data_type)
    parts: list[str] = []
    if constraints.minimum is not None:
        parts.append(f">= {_number(constraints.minimum)}")
    if constraints.maximum is not None:
        parts.append(f"<= {_number(constraints.maximum)}")
    if constraints.min_len is not None:
        parts.append(f"with length >= {constraints.min_len}")
    if constraints.max_len is not None:
        parts.append(f"with length <= {constraints.max_len}")
    if constraints.pattern is not None:
        parts.append(f"matching {constraints.pattern!r}")
    return " ".join([text, *parts])


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def check_value(
    value: object,
    data_type: DataType,
    path: str,
    constraints: Constraints | None = None,
) -> list[ContractProblem]:
    """Every way ``value`` breaks ``data_type`` (and its field constraints); empty when valid."""
    problems: list[ContractProblem] = []
    _check(value, data_type, constraints or Constraints(), path, problems)
    return problems


def _check(
    value: object,
    data_type: DataType,
    constraints: Constraints,
    path: str,
    problems: list[ContractProblem],
) -> None:
    def fail(expected: str | None = None) -> None:
        problems.append(
            ContractProblem(
                path, expected or describe_expected(data_type, constraints), short_repr(value)
            )
        )

    match data_type:
        case OptionalType(inner=inner):
            if value is not None:
                _check(value, inner, constraints, path, problems)
        case ScalarType(name="bool"):
            if not isinstance(value, bool):
                fail()
        case ScalarType(name="int"):
            if isinstance(value, bool) or not isinstance(value, int):
                fail()
            elif not within_int_range(whole := plain_int(value)):
                fail(f"{describe_expected(data_type, constraints)} {_INT_DIGITS_NOTE}")
            else:
                _check_bounds(whole, constraints, fail)
        case ScalarType(name="float"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                fail()
            elif not within_float_range(number := plain_number(value)):
                fail(f"{describe_expected(data_type, constraints)} (finite, within float range)")
            else:
                _check_bounds(number, constraints, fail)
        case ScalarType(name="str"):
            _check_str(value, constraints, fail)
        case EnumType(values=values):
            if not isinstance(value, str) or value not in values:
                fail(f"one of {', '.join(repr(v) for v in values)}")
        case ListType(item=item):
            if not isinstance(value, list | tuple):
                fail()
                return
            elements = as_sequence(value)
            _check_length(len(elements), constraints, fail)
            for index, element in enumerate(elements):
                _check(element, item, Constraints(), f"{path}[{index}]", problems)
        case DictType(value=item):
            if not isinstance(value, Mapping):
                fail()
                return
            entries = list(value.items())
            _check_length(len(entries), constraints, fail)
            for key, element in entries:
                if not isinstance(key, str) or not is_text(key):
                    expected = _TEXT_KEYS if isinstance(key, str) else "string keys"
                    problems.append(ContractProblem(f"{path}", expected, short_repr(key)))
                    continue
                _check(element, item, Constraints(), f"{path}[{key!r}]", problems)
        case RecordType():
            _check_record(value, data_type, path, problems)


_NO_SURROGATES = "(valid Unicode: no lone surrogates)"
_INT_DIGITS_NOTE = f"(at most {_INT_DIGITS:,} digits)"
_TEXT_KEYS = f"string keys {_NO_SURROGATES}"


def _check_str(value: object, constraints: Constraints, fail: Callable[..., None]) -> None:
    if not isinstance(value, str):
        fail()
    elif not is_text(value):
        fail(f"{describe_expected(STR, constraints)} {_NO_SURROGATES}")
    elif not _check_length(str.__len__(value), constraints, fail):
        return  # reported once, by its length; no need to match its pattern too
    elif constraints.pattern is not None and not fully_matches(constraints.pattern, value):
        fail()


def _check_record(
    value: object,
    record: RecordType,
    path: str,
    problems: list[ContractProblem],
) -> None:
    if not isinstance(value, Mapping):
        expected = f"{indefinite(record.name)} object"
        problems.append(ContractProblem(path, expected, short_repr(value)))
        return
    known = set(record.field_names())
    for key in value:
        if key not in known:
            problems.append(
                ContractProblem(
                    _join(path, str(key)),
                    f"only the fields of {record.name} ({', '.join(sorted(known))})",
                    f"unknown field {str(key)!r}",
                )
            )
    for field in record.fields:
        field_path = _join(path, field.name)
        if field.name not in value:
            if not field.has_default and not isinstance(field.type, OptionalType):
                expected = describe_expected(field.type, field.constraints)
                problems.append(ContractProblem(field_path, expected, "nothing (missing)"))
            continue
        _check(value[field.name], field.type, field.constraints, field_path, problems)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check_bounds(value: float, constraints: Constraints, fail: Callable[[], None]) -> None:
    if constraints.minimum is not None and value < constraints.minimum:
        fail()
    elif constraints.maximum is not None and value > constraints.maximum:
        fail()


def _check_length(length: int, constraints: Constraints, fail: Callable[[], None]) -> bool:
    """Whether ``length`` is within the bounds (``fail()`` when it is not)."""
    if constraints.min_len is not None and length < constraints.min_len:
        fail()
        return False
    if constraints.max_len is not None and length > constraints.max_len:
        fail()
        return False
    return True
