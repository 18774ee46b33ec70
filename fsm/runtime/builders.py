"""Generated record builders: check a JSON record and build its instance and its JSON in one go.

Every step validates an agent's input record and its output, and needs both the instance (for
the agent, the guards) and canonical JSON (for the context and the snapshot). The general path
does that in three walks: the compiled check, cattrs ``structure``, cattrs ``unstructure``. For
records made of scalars, enums and lists of scalars (most contracts), one generated function
does all three with inline type tests, as the guard compiler does for guards.

A builder returns ``None`` for anything it does not accept outright — a wrong type, an int in
a float field, a tuple for a list, a value out of bounds — and the caller then takes the
general path, which accepts or reports exactly as before. So a builder may only ever be
stricter than the reference, never looser, and what it builds equals what the general path
builds (``tests/runtime/test_builders.py`` checks both on generated types and values).

Generated source is safe whatever a spec contains: field names are checked to be Python
identifiers that are not keywords (the contract classes require the same) and appear as
``repr`` literals or keyword names; every other spec value (bounds, patterns, enum members,
defaults) is passed in the namespace, never written into the source.
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from fsm.datatypes import (
    Constraints,
    DataType,
    EnumType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
)
from fsm.pattern_engine import compile_pattern
from fsm.values import INT_BOUND, is_text

Built = tuple[object, dict[str, object]]
Builder = Callable[[object], Built | None]
"""JSON record → (instance, canonical JSON), or None: take the general path."""
InstanceBuilder = Callable[[object], object | None]
"""JSON record → instance, or None: take the general path."""

_LIST_ITEMS = ("str", "int", "bool")  # item types whose JSON and instance values are the same
_ITEM_TESTS = {"str": " and (x.isascii() or TEXT(x))", "int": " and -IB < x < IB"}
"""What a list item of these types must pass beyond its type (``check_value``'s rules)."""


def compile_builder(record: RecordType, python_type: type) -> Builder | None:
    """The builder for ``record`` (whose class is ``python_type``), or None when one of its
    fields has a type builders do not handle (records, dicts, lists of floats or enums, …)."""
    built: Builder | None = _compile(record, python_type, with_json=True)
    return built


def compile_instance_builder(record: RecordType, python_type: type) -> InstanceBuilder | None:
    """``compile_builder`` for records whose JSON is not needed (an agent's input record):
    the same checks, returning only the instance (or None)."""
    built: InstanceBuilder | None = _compile(record, python_type, with_json=False)
    return built


def compile_context_reader(
    record: RecordType, python_type: type, keys: Mapping[str, str]
) -> InstanceBuilder | None:
    """An agent's input record read straight from the context: field ``name`` takes the
    context's ``keys[name]`` (None when the context lacks it), with the checks of
    ``compile_instance_builder``. The same as building ``{name: context.get(keys[name])}``,
    without that dict: an input record is built on every step."""
    if set(keys) != {field.name for field in record.fields}:
        return None
    built: InstanceBuilder | None = _compile(record, python_type, with_json=False, keys=keys)
    return built


def _compile(
    record: RecordType,
    python_type: type,
    *,
    with_json: bool,
    keys: Mapping[str, str] | None = None,
) -> Any:
    defaults = {field.name: field for field in attrs.fields(python_type)}
    namespace: dict[str, Any] = {
        "MISSING": _MISSING,
        "INF": math.inf,
        "CLS": python_type,
        "KEYS": frozenset(field.name for field in record.fields),
        "TEXT": is_text,
        "IB": INT_BOUND,
    }
    lines = ["def build(value):"]
    if keys is None:  # a record of its own, not one read from the context
        lines.append("    if type(value) is not dict or not KEYS >= value.keys():")
        lines.append("        return None")
    target = _Target(namespace, python_type, with_json)
    for index, field in enumerate(record.fields):
        if not _safe_name(field.name):
            return None
        if keys is not None:
            body = _read_field_lines(index, field, keys[field.name], target)
        else:
            body = _field_lines(index, field, defaults[field.name], target)
        if body is None:
            return None
        lines.extend(body)
    lines.extend(_construction(python_type, [field.name for field in record.fields], namespace))
    if with_json:
        items = ", ".join(f"{field.name!r}: j{i}" for i, field in enumerate(record.fields))
        lines.append(f"    return record, {{{items}}}")
    else:
        lines.append("    return record")
    code = compile("\n".join(lines) + "\n", f"<builder {record.name}>", "exec")
    exec(code, namespace)  # noqa: S102 -- source built above from checked names only
    return namespace["build"]


def _construction(python_type: type, names: list[str], namespace: dict[str, Any]) -> list[str]:
    """Lines that set ``record`` to the instance of ``v0``, ``v1``, ….

    A plain contract class (slotted, no validators, converters or post-init hook: what
    ``build_classes`` makes) is filled slot by slot through its descriptors, which costs half
    of its frozen ``__init__``; the values were checked above. Any other class is called."""
    plain = (
        "__slots__" in python_type.__dict__
        and not hasattr(python_type, "__attrs_post_init__")
        and all(
            field.validator is None and field.converter is None and field.init
            for field in attrs.fields(python_type)
        )
        and [field.name for field in attrs.fields(python_type)] == names
    )
    if not plain:
        arguments = ", ".join(f"{name}=v{index}" for index, name in enumerate(names))
        return [f"    record = CLS({arguments})"]
    namespace["NEW"] = object.__new__
    lines = ["    record = NEW(CLS)"]
    for index, name in enumerate(names):
        namespace[f"SET{index}"] = python_type.__dict__[name].__set__
        lines.append(f"    SET{index}(record, v{index})")
    return lines


class _Missing:
    """Marks an absent key (``None`` is a value an optional field may hold)."""


_MISSING = _Missing()


def _safe_name(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name) and not name.startswith("_")


@attrs.frozen
class _Target:
    """What the builder being generated builds: the contract class, its namespace, and
    whether it returns the JSON too."""

    namespace: dict[str, Any]
    python_type: type
    with_json: bool


def _field_lines(
    index: int, field: FieldDef, attribute: attrs.Attribute[Any], target: _Target
) -> list[str] | None:
    """Lines that set ``v{index}`` (the instance value) and, when the builder returns JSON,
    ``j{index}``; or that return None from the builder. None here: the type is not handled."""
    namespace, python_type = target.namespace, target.python_type
    v, j = f"v{index}", f"j{index}"
    data_type = field.type
    optional = isinstance(data_type, OptionalType)
    inner = data_type.inner if isinstance(data_type, OptionalType) else data_type
    enum_class = _enum_class(python_type, field) if isinstance(inner, EnumType) else None
    test = _type_test(v, f"{index}", inner, field.constraints, _Names(namespace, enum_class))
    if test is None:
        return None
    lines = [f"    {v} = value.get({field.name!r}, MISSING)", f"    if {v} is MISSING:"]
    json_lines: list[str] = []  # the JSON of a default, placed right after its instance value
    default: Any = attribute.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        if default.takes_self:  # never made by build_classes; stay on the general path
            return None
        namespace[f"F{index}"] = default.factory
        lines.append(f"        {v} = F{index}()")
        json_lines.append(f"        {j} = {_json_of_default(v, inner)}")
    elif default is not attrs.NOTHING:
        namespace[f"D{index}"] = default
        namespace[f"JD{index}"] = _json_default(default, inner)
        lines.append(f"        {v} = D{index}")
        json_lines.append(f"        {j} = JD{index}")
    else:
        lines.append("        return None")
    if target.with_json:
        lines.extend(json_lines)
    lines.append("    else:")
    lines.extend(_check_lines(index, optional, test, target.with_json, "        "))
    return lines


def _read_field_lines(index: int, field: FieldDef, key: str, target: _Target) -> list[str] | None:
    """``_field_lines`` for a field read from the context at ``key``: always present (None
    when the context lacks it, as ``{name: context.get(key)}`` would give), so no default."""
    v = f"v{index}"
    data_type = field.type
    optional = isinstance(data_type, OptionalType)
    inner = data_type.inner if isinstance(data_type, OptionalType) else data_type
    enum_class = _enum_class(target.python_type, field) if isinstance(inner, EnumType) else None
    names = _Names(target.namespace, enum_class)
    test = _type_test(v, f"{index}", inner, field.constraints, names)
    if test is None:
        return None
    read = [f"    {v} = value.get({key!r})"]
    return read + _check_lines(index, optional, test, target.with_json, "    ")


def _check_lines(
    index: int, optional: bool, test: tuple[str, str, str], with_json: bool, indent: str
) -> list[str]:
    """Lines that return None unless ``v{index}`` passes ``test``, then convert it (and set
    ``j{index}``, its JSON, when the builder returns JSON)."""
    v, j = f"v{index}", f"j{index}"
    condition, instance, as_json = test
    guard = f"{v} is not None and ({condition})" if optional else condition
    lines = [f"{indent}if {guard}:", f"{indent}    return None"]
    if optional:
        if with_json:
            lines.append(f"{indent}{j} = {as_json} if {v} is not None else None")
        lines.append(f"{indent}{v} = {instance} if {v} is not None else None")
    else:
        if with_json:
            lines.append(f"{indent}{j} = {as_json}")
        lines.append(f"{indent}{v} = {instance}")
    return lines


@attrs.frozen
class _Names:
    """Where a field's constants go (the builder's namespace), and its enum class if any."""

    namespace: dict[str, Any]
    enum_class: Any


def _type_test(
    v: str, key: str, data_type: DataType, constraints: Constraints, names: _Names
) -> tuple[str, str, str] | None:
    """(condition that rejects ``v``, instance expression, JSON expression) for a field type."""
    namespace = names.namespace
    match data_type:
        case ScalarType(name="str"):
            rejects = [f"type({v}) is not str", f"not ({v}.isascii() or TEXT({v}))"]
            rejects.extend(_length_rejects(f"len({v})", key, constraints, namespace))
            if constraints.pattern is not None:
                namespace[f"P{key}"] = compile_pattern(constraints.pattern)
                rejects.append(f"P{key}.fullmatch({v}) is None")
            return " or ".join(rejects), v, v
        case ScalarType(name="int"):
            rejects = [f"type({v}) is not int", f"not -IB < {v} < IB"]
            rejects.extend(_bound_rejects(v, key, constraints, namespace))
            return " or ".join(rejects), v, v
        case ScalarType(name="float"):
            rejects = [f"type({v}) is not float", f"not -INF < {v} < INF"]
            rejects.extend(_bound_rejects(v, key, constraints, namespace))
            return " or ".join(rejects), v, v
        case ScalarType(name="bool"):
            return f"type({v}) is not bool", v, v
        case EnumType() if names.enum_class is not None:
            namespace[f"M{key}"] = {member.value: member for member in names.enum_class}
            return f"type({v}) is not str or {v} not in M{key}", f"M{key}[{v}]", v
        case ListType(item=ScalarType(name=item)) if item in _LIST_ITEMS:
            rejects = [f"type({v}) is not list"]
            rejects.extend(_length_rejects(f"len({v})", key, constraints, namespace))
            items = f"type(x) is {item}" + _ITEM_TESTS.get(item, "")
            rejects.append(f"not all({items} for x in {v})")
            return " or ".join(rejects), f"list({v})", f"list({v})"
    return None


def _bound_rejects(
    v: str, key: str, constraints: Constraints, namespace: dict[str, Any]
) -> list[str]:
    return _range_rejects(v, constraints.minimum, constraints.maximum, f"N{key}", namespace)


def _length_rejects(
    length: str, key: str, constraints: Constraints, namespace: dict[str, Any]
) -> list[str]:
    return _range_rejects(length, constraints.min_len, constraints.max_len, f"L{key}", namespace)


def _range_rejects(
    value: str, low: float | None, high: float | None, name: str, namespace: dict[str, Any]
) -> list[str]:
    """Conditions rejecting ``value`` outside [low, high]; the bounds go in the namespace."""
    rejects = []
    if low is not None:
        namespace[f"{name}_LOW"] = low
        rejects.append(f"{value} < {name}_LOW")
    if high is not None:
        namespace[f"{name}_HIGH"] = high
        rejects.append(f"{value} > {name}_HIGH")
    return rejects


def _enum_class(python_type: type, field: FieldDef) -> Any:
    """The enum class of a contract class's field (``E`` or ``E | None``)."""
    annotation = attrs.fields_dict(python_type)[field.name].type
    for candidate in (annotation, *getattr(annotation, "__args__", ())):
        if isinstance(candidate, type) and hasattr(candidate, "__members__"):
            return candidate
    return None


def _json_default(default: object, data_type: DataType) -> object:
    """The JSON of an immutable default (a value the class shares between instances)."""
    if default is None:
        return None
    if isinstance(data_type, EnumType):
        return getattr(default, "value", default)
    return default


def _json_of_default(v: str, data_type: DataType) -> str:
    """JSON expression for a default made by a factory (a fresh list)."""
    if isinstance(data_type, ListType):
        return f"list({v}) if {v} is not None else None"
    return v
