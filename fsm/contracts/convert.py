"""Converting contract values between JSON-ready data and contract classes, strictly.

One ``ContractConverter`` per ``ContractClasses``, made by ``make_converter``; each owns its own
configured cattrs converter. Data is first checked with ``fsm.values.check_value`` (the single
definition of contract-valid), so every problem is reported at once with its path, e.g.
``draft.word_count: expected int >= 0, got -3``; only valid data reaches cattrs.

Normalisation: an ``int`` in a ``float`` field becomes a ``float`` (``1`` → ``1.0``), tuples
become lists and enum strings become enum members. Hence ``structure(unstructure(x)) == x``
for every valid instance, and ``unstructure(structure(d)) == d`` for valid data that spells out
every field and writes floats as floats.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any, cast

import attrs
import cattrs

from fsm.contracts.build import ContractClasses
from fsm.contracts.hooks import new_cattrs_converter
from fsm.datatypes import (
    DataType,
    DictType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    render_type,
)
from fsm.errors import ContractError, ContractProblem
from fsm.values import check_value, short_repr


@attrs.frozen(eq=False)
class ContractConverter:
    """Structures, unstructures and validates the values of one spec's contracts."""

    classes: ContractClasses
    _engine: cattrs.Converter

    def structure(self, data: object, data_type: DataType, path: str) -> object:
        """Contract-valid JSON-ready ``data`` as instances; raises ``ContractError`` listing
        every problem otherwise. ``path`` prefixes problem paths (``"draft"``)."""
        problems = check_value(data, data_type, path)
        if problems:
            raise ContractError(contract_name(data_type), problems)
        return self._engine.structure(data, self.classes.python_type(data_type))

    def structure_valid(self, data: object, data_type: DataType) -> object:
        """``structure`` for data a compiled check (``fsm.runtime.checks``) has just accepted:
        without checking it a second time, the slow way."""
        return self._engine.structure(data, self.classes.python_type(data_type))

    def unstructure(self, value: object) -> object:
        """A value as JSON-ready data: dicts, lists, plain str/int/float/bool, None.

        Fast for valid values. An instance whose fields hold what cattrs cannot read (a dict
        for a record, an int for a list) is validated instead: a fixable value is normalised,
        anything else raises ``ContractError`` naming each bad field."""
        try:
            return self._engine.unstructure(value)
        except Exception:
            named = self.classes.type_for_class(type(value))
            if named is None:
                raise
            return self._engine.unstructure(self.validate(value, named, ""))

    def validate(self, value: object, data_type: DataType, path: str) -> object:
        """An instance of the right class, or JSON-ready data, as a checked and normalised
        instance. Anything else (a wrong class, a broken constraint, a field of the wrong type
        that attrs let through) raises ``ContractError``: invalid output never gets through."""
        mismatches: list[ContractProblem] = []
        data = self._as_data(value, data_type, path, mismatches)
        rejected = {problem.path for problem in mismatches}
        problems = mismatches + [
            problem
            for problem in check_value(data, data_type, path)
            if problem.path not in rejected
        ]
        if problems:
            raise ContractError(contract_name(data_type), problems)
        return self._engine.structure(data, self.classes.python_type(data_type))

    def _as_data(
        self,
        value: object,
        data_type: DataType,
        path: str,
        mismatches: list[ContractProblem],
    ) -> object:
        """Read a possibly ill-formed value as data without trusting its annotations.

        Instances of a class other than the one built for the expected type are recorded as
        mismatches; everything else is passed on for ``check_value`` to judge."""
        match data_type:
            case OptionalType(inner=inner):
                return None if value is None else self._as_data(value, inner, path, mismatches)
            case ListType(item=item) if isinstance(value, list | tuple):
                return [
                    self._as_data(element, item, f"{path}[{index}]", mismatches)
                    for index, element in enumerate(value)
                ]
            case DictType(value=item) if isinstance(value, Mapping):
                return {
                    key: self._as_data(element, item, f"{path}[{key!r}]", mismatches)
                    for key, element in value.items()
                }
            case EnumType() if isinstance(value, enum.Enum):
                if type(value) is not self.classes.for_type(data_type) and not _same_enum(
                    type(value), data_type
                ):
                    mismatches.append(_wrong_class(path, data_type, value))
                return value.value
            case RecordType() if attrs.has(type(value)):
                if type(value) is not self.classes.for_type(data_type) and not _same_record(
                    type(value), data_type
                ):
                    mismatches.append(_wrong_class(path, data_type, value))
                    return value
                fields = {f.name: getattr(value, f.name) for f in data_type.fields}
                return self._record_data(fields, data_type, path, mismatches)
            case RecordType() if isinstance(value, Mapping):
                return self._record_data(value, data_type, path, mismatches)
        return value

    def _record_data(
        self,
        fields: Mapping[Any, object],
        record: RecordType,
        path: str,
        mismatches: list[ContractProblem],
    ) -> dict[object, object]:
        data: dict[object, object] = {}
        for key, element in fields.items():
            field = record.field(key) if isinstance(key, str) else None
            if field is None:  # unknown: check_value reports it
                data[key] = element
            else:
                field_path = f"{path}.{key}" if path else str(key)
                data[key] = self._as_data(element, field.type, field_path, mismatches)
        return data


def make_converter(classes: ContractClasses) -> ContractConverter:
    """A converter of its own for ``classes`` (never cattrs' global one)."""
    return ContractConverter(classes, new_cattrs_converter())


def contract_name(data_type: DataType) -> str:
    """How a ``ContractError`` names the type: ``Draft``, ``list[Issue]``, ``Review?``."""
    return render_type(data_type)


def _same_record(cls: type, record: RecordType) -> bool:
    """The class another ``Workflow`` (or the generated package) built for this contract:
    same name, same fields in the same order. Its values are then checked as data, like a
    dict's; an agent serving two workflows of one spec can return either's instances."""
    names = [field.name for field in attrs.fields(cls)]
    return cls.__name__ == record.name and names == [field.name for field in record.fields]


def _same_enum(cls: type, enum_type: EnumType) -> bool:
    members = [member.value for member in cast(type[enum.Enum], cls)]
    return cls.__name__ == enum_type.name and members == list(enum_type.values)


def _wrong_class(path: str, expected: RecordType | EnumType, value: object) -> ContractProblem:
    found = type(value)
    what = f"an instance of {found.__qualname__}"
    if found.__name__ == expected.name:  # same name, other fields: say why it is not taken
        what += f" (from {found.__module__}, whose fields or members differ from the contract's)"
    return ContractProblem(
        path, f"an instance of {expected.name} (or its JSON data)", f"{what}: {short_repr(value)}"
    )
