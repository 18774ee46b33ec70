"""Compiled validity checks: ``fsm.values.check_value`` turned into one closure per type.

``check_value`` walks the type at every call and collects each problem with its path, which is
what an error message needs but costs more than the agent call it guards. Every step validates
an agent's input record and output, so the runtime compiles each contract once into a predicate
that answers only "valid or not" and stops at the first problem. When it says no, the caller
runs the full ``ContractConverter`` path, which reports every problem: the predicate decides
nothing the reference would not (``tests/runtime/test_checks.py`` compares them on generated
data), it only makes the common, valid case cheap.
"""

from __future__ import annotations

from collections.abc import Callable

from fsm.datatypes import (
    Constraints,
    DataType,
    DictType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
)
from fsm.pattern_engine import compile_pattern
from fsm.values import (
    is_text,
    plain_int,
    plain_number,
    within_float_range,
    within_int_range,
)

Check = Callable[[object], bool]
_NONE = Constraints()


def compile_check(data_type: DataType, constraints: Constraints = _NONE) -> Check:
    """A predicate that holds exactly when ``check_value(value, data_type, ...)`` is empty,
    for plain data: its lists, tuples and dicts of the builtin types themselves. A subclass
    of those is refused (the caller takes the full path), because what accepting means here
    is that cattrs may read the value again, and a subclass's ``__iter__``/``items`` may give
    it something else than was checked (past a ``max_len``, breaking a ``pattern``)."""
    return _Compiler().check(data_type, constraints)


class _Compiler:
    """Builds the closures; a record is compiled once, so recursive contracts terminate."""

    def __init__(self) -> None:
        self._records: dict[int, Check] = {}

    def check(self, data_type: DataType, constraints: Constraints) -> Check:
        match data_type:
            case OptionalType(inner=inner):
                inner_check = self.check(inner, constraints)
                return lambda value: value is None or inner_check(value)
            case ScalarType(name=name):
                return _scalar(name, constraints)
            case EnumType(values=values):
                allowed = frozenset(values)
                return lambda value: isinstance(value, str) and value in allowed
            case ListType(item=item):
                return self._list(self.check(item, _NONE), constraints)
            case DictType(value=item):
                return self._dict(self.check(item, _NONE), constraints)
            case RecordType():
                return self._record(data_type)
        raise TypeError(f"no check for {data_type!r}")

    def _list(self, item: Check, constraints: Constraints) -> Check:
        sized = _length(constraints)

        def check(value: object) -> bool:
            if type(value) is not list and type(value) is not tuple:
                return False
            return sized(len(value)) and all(map(item, value))

        return check

    def _dict(self, item: Check, constraints: Constraints) -> Check:
        sized = _length(constraints)

        def check(value: object) -> bool:
            if type(value) is not dict:
                return False
            return sized(len(value)) and all(
                isinstance(key, str) and is_text(key) and item(element)
                for key, element in value.items()
            )

        return check

    def _record(self, record: RecordType) -> Check:
        known = self._records.get(id(record))
        if known is not None:
            return known
        fields: list[tuple[str, bool, Check]] = []

        def check(value: object) -> bool:
            if type(value) is not dict:
                return False
            for key in value:
                if key not in names:
                    return False
            for name, required, field_check in fields:
                if name in value:
                    if not field_check(value[name]):
                        return False
                elif required:
                    return False
            return True

        self._records[id(record)] = check
        for field in record.fields:
            required = not field.has_default and not isinstance(field.type, OptionalType)
            fields.append((field.name, required, self.check(field.type, field.constraints)))
        names = frozenset(name for name, _, _ in fields)
        return check


def _scalar(name: str, constraints: Constraints) -> Check:
    if name == "bool":
        return lambda value: isinstance(value, bool)
    if name == "str":
        sized = _length(constraints)
        pattern = compile_pattern(constraints.pattern) if constraints.pattern is not None else None
        if pattern is None:
            return lambda value: (
                isinstance(value, str) and is_text(value) and sized(str.__len__(value))
            )
        return lambda value: (
            isinstance(value, str)
            and is_text(value)
            and sized(str.__len__(value))
            and pattern.fullmatch(value) is not None
        )
    bounded = _bounds(constraints)
    # Plain ints and floats first (what JSON and agents give): a subclass is compared by the
    # builtin value it converts to, since its own comparisons may say anything.
    if name == "int":
        return lambda value: (
            (within_int_range(value) and bounded(value))
            if type(value) is int
            else (
                isinstance(value, int)
                and not isinstance(value, bool)
                and within_int_range(number := plain_int(value))
                and bounded(number)
            )
        )
    return lambda value: (
        (within_float_range(value) and bounded(value))
        if type(value) is float or type(value) is int
        else (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and within_float_range(number := plain_number(value))
            and bounded(number)
        )
    )


def _bounds(constraints: Constraints) -> Callable[[float], bool]:
    low, high = constraints.minimum, constraints.maximum
    if low is None and high is None:
        return lambda _value: True
    return lambda value: (low is None or value >= low) and (high is None or value <= high)


def _length(constraints: Constraints) -> Callable[[int], bool]:
    low, high = constraints.min_len, constraints.max_len
    if low is None and high is None:
        return lambda _length: True
    return lambda length: (low is None or length >= low) and (high is None or length <= high)
