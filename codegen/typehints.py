"""Type hints, default values and validators of generated attrs fields, as source text.

Pure functions from ``fsm.datatypes`` values to Python source (or layout nodes for source that
may need wrapping). Everything that decides *what* a field looks like lives here, so templates
only print.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from codegen.naming import enum_member_names
from codegen.pysource import (
    Atom,
    Group,
    Node,
    Pair,
    Text,
    json_node,
    number_literal,
    string_literal,
)
from fsm.datatypes import (
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


def annotation(data_type: DataType) -> str:
    """``list[Issue]``, ``dict[str, float]``, ``Review | None``."""
    match data_type:
        case ScalarType(name=name):
            return name
        case ListType(item=item):
            return f"list[{annotation(item)}]"
        case DictType(value=value):
            return f"dict[str, {annotation(value)}]"
        case OptionalType(inner=inner):
            return f"{annotation(inner)} | None"
        case EnumType(name=name) | RecordType(name=name):
            return name


def referenced_types(data_type: DataType) -> set[str]:
    """The record and enum names an annotation of ``data_type`` mentions (not their fields')."""
    match data_type:
        case ListType(item=inner) | DictType(value=inner) | OptionalType(inner=inner):
            return referenced_types(inner)
        case EnumType(name=name) | RecordType(name=name):
            return {name}
        case ScalarType():
            return set()


def value_node(value: object, data_type: DataType) -> Node:
    """The expression building ``value`` (JSON-ready, already contract-valid) as ``data_type``:
    enum strings become members, record dicts become constructor calls."""
    match data_type:
        case OptionalType(inner=inner):
            return Atom("None") if value is None else value_node(value, inner)
        case ScalarType(name="float"):
            assert isinstance(value, int | float)
            return Atom(number_literal(value, as_float=True))
        case ScalarType(name="str"):
            assert isinstance(value, str)
            return Text(value)
        case ScalarType():
            return json_node(value)
        case EnumType(name=name, values=values):
            member = enum_member_names(data_type)[values.index(str(value))]
            return Atom(f"{name}.{member}")
        case ListType(item=item):
            assert isinstance(value, list | tuple)
            return Group("[", tuple(value_node(v, item) for v in value), "]")
        case DictType(value=item):
            assert isinstance(value, dict)
            return Group("{", tuple(_entry(k, v, item) for k, v in value.items()), "}")
        case RecordType(name=name, fields=fields):
            assert isinstance(value, dict)
            arguments = tuple(
                Pair(field.name, "=", value_node(value[field.name], field.type))
                for field in fields
                if field.name in value
            )
            return Group(f"{name}(", arguments, ")")


def _entry(key: object, value: object, item: DataType) -> Pair:
    return Pair(string_literal(str(key)), ": ", value_node(value, item))


def is_immutable(data_type: DataType) -> bool:
    """Whether a default of this type may be shared between instances."""
    match data_type:
        case OptionalType(inner=inner):
            return is_immutable(inner)
        case ScalarType() | EnumType():
            return True
        case _:
            return False


def field_arguments(field: FieldDef) -> tuple[Node, ...] | None:
    """The arguments of ``attrs.field(...)`` for ``field``, or None when a plain annotation (with
    at most a simple ``= default``) says everything."""
    validators = validator_nodes(field)
    default = default_argument(field)
    if not validators and (default is None or default.key == "default"):
        return None
    arguments: list[Node] = [default] if default is not None else []
    if validators:
        arguments.append(Pair("validator", "=", _one_or_tuple(validators)))
    return tuple(arguments)


def _one_or_tuple(nodes: list[Node]) -> Node:
    """One validator as itself, several as a tuple: mypy types each item of a tuple on its own,
    while a list of, say, ``min_len`` and ``matches_pattern`` joins to ``list[function]``, which
    ``attrs.field`` refuses under ``--strict``."""
    return nodes[0] if len(nodes) == 1 else Group("(", tuple(nodes), ")")


def simple_default(field: FieldDef) -> Node | None:
    """The ``= value`` of a field that needs no ``attrs.field`` call."""
    default = default_argument(field)
    if default is None or default.key != "default":
        return None
    return default.value


def default_argument(field: FieldDef) -> Pair | None:
    """``default=<value>`` or ``factory=...``; optional fields without default get ``None``."""
    if not field.has_default:
        if isinstance(field.type, OptionalType):
            return Pair("default", "=", Atom("None"))
        return None
    value = field.default
    if value is None or is_immutable(field.type):
        return Pair("default", "=", value_node(value, field.type))
    inner = field.type.inner if isinstance(field.type, OptionalType) else field.type
    if value == [] and isinstance(inner, ListType):
        return Pair("factory", "=", Atom("list"))
    if value == {} and isinstance(inner, DictType):
        return Pair("factory", "=", Atom("dict"))
    return Pair("factory", "=", _lambda(value_node(value, field.type)))


def _lambda(body: Node) -> Node:
    if isinstance(body, Group):
        return Group(f"lambda: {body.opener}", body.items, body.closer)
    assert isinstance(body, Atom)
    return Atom(f"lambda: {body.text}")


def validator_nodes(field: FieldDef) -> list[Node]:
    """attrs validators enforcing the field's constraints (``None`` passes on optional fields)."""
    inner = field.type.inner if isinstance(field.type, OptionalType) else field.type
    nodes = _constraint_validators(field.constraints, inner)
    if nodes and isinstance(field.type, OptionalType):
        return [Group("attrs.validators.optional(", (_one_or_tuple(nodes),), ")")]
    return nodes


def _constraint_validators(constraints: Constraints, data_type: DataType) -> list[Node]:
    """The validators of ``constraints``; a bound is a call's argument, so layout can split it
    onto its own line (as ruff format does) when it has a hundred digits."""
    nodes: list[Node] = []
    integer = data_type == ScalarType("int")
    if constraints.minimum is not None:
        bound = _bound(constraints.minimum, integer, math.ceil)
        nodes.append(Group("attrs.validators.ge(", (Atom(bound),), ")"))
    if constraints.maximum is not None:
        bound = _bound(constraints.maximum, integer, math.floor)
        nodes.append(Group("attrs.validators.le(", (Atom(bound),), ")"))
    if constraints.min_len is not None:
        nodes.append(Atom(f"attrs.validators.min_len({int(constraints.min_len)})"))
    if constraints.max_len is not None:
        nodes.append(Atom(f"attrs.validators.max_len({int(constraints.max_len)})"))
    if constraints.pattern is not None:
        nodes.append(Group("matches_pattern(", (Text(constraints.pattern),), ")"))
    return nodes


def _bound(value: float, integer: bool, rounding: Callable[[float], int]) -> str:
    """An int field's bound as an int (``x >= 0.5`` is ``x >= 1`` for ints), else a float."""
    if integer:
        return str(rounding(value))
    if isinstance(value, int) and float(value) != value:
        return number_literal(value)  # no float is this int: compare with the int itself
    return number_literal(value, as_float=True)
