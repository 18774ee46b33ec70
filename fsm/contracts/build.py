"""Attrs classes for contracts, built from their ``RecordType``/``EnumType`` at run time.

When a workflow runs without generated code, its contracts (and its context record) still need
real classes: agents construct them, guards read their attributes, cattrs converts them. The
rules match what codegen writes:

- a record becomes ``attrs.make_class(name, ..., frozen=True, kw_only=True, slots=True)`` with
  its fields in declared order;
- a field with a default gets that default, structured from its JSON-ready form (a ``list``,
  ``dict`` or record default is copied afresh for every instance, never shared);
- a ``T?`` field without a default defaults to ``None``; any other field is required;
- an enum becomes an ``enum.StrEnum``, so ``audience == "general"`` holds in guards and code.

``build_classes`` returns a ``ContractClasses`` value: the classes of one spec, looked up by
name or by type. There is no global registry; two specs may both declare a ``Draft``.
"""

from __future__ import annotations

import copy
import enum
import functools
import keyword
from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import cattrs

from fsm.contracts.hooks import new_cattrs_converter
from fsm.datatypes import (
    DataType,
    DictType,
    EnumType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
    named_types,
)
from fsm.diagnostics import did_you_mean
from fsm.errors import ContractError
from fsm.values import check_value

NamedType = RecordType | EnumType

_SCALARS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


@attrs.frozen
class ContractClasses:
    """The classes of one spec's contracts (and context), built once, looked up many times."""

    _classes: Mapping[str, type]
    _types: Mapping[str, NamedType]

    def names(self) -> tuple[str, ...]:
        """Every record and enum name, dependencies before the records that use them."""
        return tuple(self._classes)

    def get(self, name: str) -> type:
        """The class of the record or enum called ``name``."""
        try:
            return self._classes[name]
        except KeyError:
            hint = did_you_mean(name, self._classes)
            suffix = f"; {hint}" if hint else ""
            raise LookupError(f"no contract named {name!r}{suffix}") from None

    def type_of(self, name: str) -> NamedType:
        """The ``RecordType``/``EnumType`` a class was built from."""
        self.get(name)
        return self._types[name]

    def for_type(self, named_type: NamedType) -> type:
        """The class built for exactly this type (same name *and* same definition)."""
        cls = self.get(named_type.name)
        if self._types[named_type.name] != named_type:
            raise LookupError(
                f"contract {named_type.name!r} is defined differently here than in the spec "
                "these classes were built from; build the classes from the same spec"
            )
        return cls

    def type_for_class(self, cls: type) -> NamedType | None:
        """The type ``cls`` was built (or provided) for, or None for a class not of this spec."""
        for name, candidate in self._classes.items():
            if candidate is cls:
                return self._types[name]
        return None

    def python_type(self, data_type: DataType) -> Any:
        """The annotation cattrs structures ``data_type`` with: ``list[Draft] | None`` etc."""
        return _annotation(data_type, self._classes)


def build_classes(
    types: Iterable[NamedType],
    provided: Mapping[str, type] | None = None,
) -> ContractClasses:
    """Build a class for every record and enum reachable from ``types``, nested ones included.

    ``provided`` maps names to classes that already exist (generated code); they are checked
    against the spec and used instead of building new ones. Raises ``ValueError`` for names
    Python cannot use and for two different types sharing a name, and ``ContractError`` for a
    default that breaks its own field's contract."""
    provided = provided or {}
    declared = _collect(types)
    engine = new_cattrs_converter()  # only materialises defaults; never escapes this function
    classes: dict[str, type] = {}
    for name, named_type in declared.items():
        if name in provided:
            classes[name] = _checked_provided(named_type, provided[name])
        elif isinstance(named_type, EnumType):
            classes[name] = _enum_class(named_type)
        else:
            classes[name] = _record_class(named_type, classes, engine)
    return ContractClasses(classes, declared)


def _collect(types: Iterable[NamedType]) -> dict[str, NamedType]:
    declared: dict[str, NamedType] = {}
    for root in types:
        for named_type in named_types(root):
            known = declared.setdefault(named_type.name, named_type)
            if known != named_type:
                raise ValueError(
                    f"two different types are both named {named_type.name!r}; "
                    "give each contract a distinct name"
                )
    return declared


def _annotation(data_type: DataType, classes: Mapping[str, type]) -> Any:
    match data_type:
        case ScalarType(name=name):
            return _SCALARS[name]
        case ListType(item=item):
            return list[_annotation(item, classes)]  # type: ignore[misc]
        case DictType(value=value):
            return dict[str, _annotation(value, classes)]  # type: ignore[misc]
        case OptionalType(inner=inner):
            return _annotation(inner, classes) | None
        case EnumType(name=name) | RecordType(name=name):
            return classes[name]


def _record_class(
    record: RecordType, classes: Mapping[str, type], engine: cattrs.Converter
) -> type:
    attributes: dict[str, Any] = {}
    for field in record.fields:
        _check_field_name(record, field, attributes)
        attributes[field.name] = _attribute(record, field, _annotation(field.type, classes), engine)
    return attrs.make_class(
        record.name,
        attributes,
        class_body={"__doc__": record.description or f"The {record.name} contract."},
        frozen=True,
        kw_only=True,
        slots=True,
    )


def _check_field_name(record: RecordType, field: FieldDef, seen: Mapping[str, object]) -> None:
    name = field.name
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(
            f"{record.name}.{name}: a field name must be a Python identifier that is not a "
            f"keyword and does not start with '_' (got {name!r}); rename the field"
        )
    if name in seen:
        raise ValueError(f"{record.name}.{name}: field declared twice; remove one")


def _attribute(
    record: RecordType, field: FieldDef, annotation: Any, engine: cattrs.Converter
) -> Any:
    if not field.has_default:
        if isinstance(field.type, OptionalType):
            return attrs.field(type=annotation, default=None)
        return attrs.field(type=annotation)
    path = f"{record.name}.{field.name}"
    problems = check_value(field.default, field.type, path, field.constraints)
    if problems:
        raise ContractError(record.name, problems)
    value = engine.structure(field.default, annotation)
    if value is None or isinstance(value, str | int | float):  # immutable: safe to share
        return attrs.field(type=annotation, default=value)
    return attrs.field(type=annotation, factory=functools.partial(copy.deepcopy, value))


def _enum_class(enum_type: EnumType) -> type[enum.StrEnum]:
    members = list(zip(_member_names(enum_type.values), enum_type.values, strict=True))
    enum_class = enum.StrEnum(enum_type.name, members, module=__name__)  # type: ignore[misc]
    enum_class.__doc__ = enum_type.description or f"The {enum_type.name} enum."
    return enum_class


def _member_names(values: Iterable[str]) -> list[str]:
    """Member names equal the values, except where ``enum`` reserves the name."""
    values = list(values)
    taken = set(values)
    names: list[str] = []
    for index, value in enumerate(values):
        name = value
        if not value or value.startswith("_") or value == "mro":
            name = f"member_{index}"
            while name in taken:
                name += "_"
            taken.add(name)
        names.append(name)
    return names


def _checked_provided(named_type: NamedType, cls: type) -> type:
    if isinstance(named_type, EnumType):
        found = tuple(str(m.value) for m in cls) if issubclass(cls, enum.Enum) else None
        expected = named_type.values
    else:
        found = tuple(a.name for a in attrs.fields(cls)) if attrs.has(cls) else None
        expected = named_type.field_names()
    if found != expected:
        raise ValueError(
            f"class {cls.__qualname__} does not match contract {named_type.name!r}: expected "
            f"{expected}, found {found}; regenerate the code from the spec"
        )
    return cls
