"""The type language shared by contracts, the context, guards, strategies and code generation.

A spec's type expressions (``str``, ``list[Issue]``, ``Review?``) are resolved once into these
frozen values; every later stage reads them and never re-parses type text. Contract references
are resolved into the referenced ``RecordType`` itself, so a type is a self-contained tree
(recursive contracts are rejected by the spec checker).
"""

from __future__ import annotations

from typing import Literal, TypeAlias

import attrs

ScalarName = Literal["str", "int", "float", "bool"]


@attrs.frozen
class ScalarType:
    name: ScalarName


@attrs.frozen
class ListType:
    item: DataType


@attrs.frozen
class DictType:
    """``dict[str, T]``: keys are always strings, so values stay JSON-ready."""

    value: DataType


@attrs.frozen
class OptionalType:
    """``T?``: the value may be ``None``; guards must narrow it before use."""

    inner: DataType


@attrs.frozen
class EnumType:
    name: str
    values: tuple[str, ...]
    description: str = ""


class _NoDefault:
    """Marks a field without a default (``None`` is a legitimate default)."""

    _instance: _NoDefault | None = None

    def __new__(cls) -> _NoDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_DEFAULT"

    def __bool__(self) -> bool:
        return False


NO_DEFAULT = _NoDefault()


@attrs.frozen
class Constraints:
    """Value constraints on a field. ``minimum``/``maximum`` bound numbers, the ``*_len`` bounds
    apply to strings, lists and dicts, and ``pattern`` is a regex a string must fully match."""

    minimum: float | None = None
    maximum: float | None = None
    min_len: int | None = None
    max_len: int | None = None
    pattern: str | None = None

    def is_empty(self) -> bool:
        return self == Constraints()


@attrs.frozen
class FieldDef:
    """A field of a record. ``default`` holds JSON-ready data, or ``NO_DEFAULT``."""

    name: str
    type: DataType
    default: object = NO_DEFAULT
    constraints: Constraints = Constraints()
    description: str = ""

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


@attrs.frozen
class RecordType:
    """A named record: a contract, an agent's input record, or the context itself."""

    name: str
    fields: tuple[FieldDef, ...]
    description: str = ""

    def field(self, name: str) -> FieldDef | None:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        return None

    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)


DataType: TypeAlias = ScalarType | ListType | DictType | OptionalType | EnumType | RecordType

STR = ScalarType("str")
INT = ScalarType("int")
FLOAT = ScalarType("float")
BOOL = ScalarType("bool")
SCALARS: dict[str, ScalarType] = {t.name: t for t in (STR, INT, FLOAT, BOOL)}


def render_type(data_type: DataType) -> str:
    """The type as a spec author writes it: ``list[Issue]``, ``Review?``."""
    match data_type:
        case ScalarType(name=name):
            return name
        case ListType(item=item):
            return f"list[{render_type(item)}]"
        case DictType(value=value):
            return f"dict[str, {render_type(value)}]"
        case OptionalType(inner=inner):
            return f"{render_type(inner)}?"
        case EnumType(name=name) | RecordType(name=name):
            return name


def is_optional(data_type: DataType) -> bool:
    return isinstance(data_type, OptionalType)


def strip_optional(data_type: DataType) -> DataType:
    return data_type.inner if isinstance(data_type, OptionalType) else data_type


def is_numeric(data_type: DataType) -> bool:
    return data_type in (INT, FLOAT)


def named_types(data_type: DataType) -> list[RecordType | EnumType]:
    """Every record and enum reachable from a type, dependencies first, each once."""
    found: dict[str, RecordType | EnumType] = {}

    def visit(current: DataType) -> None:
        match current:
            case ListType(item=inner) | DictType(value=inner) | OptionalType(inner=inner):
                visit(inner)
            case EnumType(name=name):
                found.setdefault(name, current)
            case RecordType(name=name, fields=fields):
                if name in found:
                    return
                for field in fields:
                    visit(field.type)
                found.setdefault(name, current)
            case ScalarType():
                pass

    visit(data_type)
    return list(found.values())
