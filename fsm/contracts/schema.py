"""JSON Schema (draft 2020-12) for contract types, e.g. to ask an LLM for structured output.

The schema accepts what ``fsm.values.check_value`` accepts. Records are closed objects
(``additionalProperties: false``) listing as ``required`` the fields that have no default and
are not optional; every named record or enum the type uses lives once under ``$defs`` and is
referenced with ``$ref``; the root record is written inline, as LLM APIs expect.

Known differences, inherent to JSON Schema: it counts ``1.0`` as an integer (JSON does not
tell ``1.0`` from ``1``; ``check_value`` rejects the float), and patterns are written
``^(?:p)$`` for ECMA-262 engines, where ``$`` only matches at the very end (Python's ``re``,
which the ``jsonschema`` package uses, also lets ``$`` match before a final newline). A
pattern's leading inline flags (``(?i)``) stay in front, where Python's ``re`` requires them;
ECMA-262 has no inline flags, so such a pattern only works with Python-based validators.
"""

from __future__ import annotations

import re
from typing import Any

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
    named_types,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Schema = dict[str, Any]

_SCALAR_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}


def json_schema(
    data_type: DataType,
    constraints: Constraints | None = None,
    *,
    require_all: bool = False,
) -> Schema:
    """The JSON Schema of ``data_type`` (with ``constraints`` on the root value).

    ``require_all`` lists every field as required, as strict structured-output modes demand
    (optional fields still accept ``null``); the schema then accepts a subset of valid data."""
    schema: Schema = {"$schema": JSON_SCHEMA_DIALECT}
    root_name = data_type.name if isinstance(data_type, RecordType | EnumType) else None
    if isinstance(data_type, RecordType | EnumType):
        schema |= _named_schema(data_type, require_all)
    else:
        schema |= _constrained(data_type, constraints or Constraints())
    defs = {
        named.name: _named_schema(named, require_all)
        for named in named_types(data_type)
        if named.name != root_name
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _named_schema(named: RecordType | EnumType, require_all: bool) -> Schema:
    schema: Schema = {"title": named.name}
    if named.description:
        schema["description"] = named.description
    if isinstance(named, EnumType):
        return schema | {"type": "string", "enum": list(named.values)}
    schema |= {
        "type": "object",
        "properties": {field.name: _field_schema(field) for field in named.fields},
        "required": [field.name for field in named.fields if require_all or _required(field)],
        "additionalProperties": False,
    }
    return schema


def _required(field: FieldDef) -> bool:
    return not field.has_default and not isinstance(field.type, OptionalType)


def _field_schema(field: FieldDef) -> Schema:
    schema = _constrained(field.type, field.constraints)
    if field.description:
        schema["description"] = field.description
    if field.has_default:
        schema["default"] = field.default
    return schema


def _constrained(data_type: DataType, constraints: Constraints) -> Schema:
    """The schema of a value of ``data_type`` with the constraints that apply to that type."""
    match data_type:
        case OptionalType(inner=inner):
            return {"anyOf": [_constrained(inner, constraints), {"type": "null"}]}
        case ScalarType(name=name):
            schema: Schema = {"type": _SCALAR_TYPES[name]}
            if name in ("int", "float"):
                schema |= _bounds(constraints.minimum, constraints.maximum, "minimum", "maximum")
            elif name == "str":
                schema |= _bounds(
                    constraints.min_len, constraints.max_len, "minLength", "maxLength"
                )
                if constraints.pattern is not None:
                    schema["pattern"] = _anchored(constraints.pattern)
            return schema
        case ListType(item=item):
            schema = {"type": "array", "items": _constrained(item, Constraints())}
            return schema | _bounds(
                constraints.min_len, constraints.max_len, "minItems", "maxItems"
            )
        case DictType(value=value):
            schema = {"type": "object", "additionalProperties": _constrained(value, Constraints())}
            sizes = _bounds(
                constraints.min_len, constraints.max_len, "minProperties", "maxProperties"
            )
            return schema | sizes
        case EnumType(name=name) | RecordType(name=name):
            return {"$ref": f"#/$defs/{_pointer_escape(name)}"}


def _bounds(lower: float | None, upper: float | None, low_key: str, high_key: str) -> Schema:
    schema: Schema = {}
    if lower is not None:
        schema[low_key] = _number(lower)
    if upper is not None:
        schema[high_key] = _number(upper)
    return schema


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _pointer_escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


_LEADING_FLAGS = re.compile(r"(?:\(\?[aiLmsux]+\))+")


def _anchored(pattern: str) -> str:
    """``pattern`` as a whole-string match for ``"pattern"`` (which JSON Schema searches for),
    its leading inline flags kept first: inside ``(?:…)`` Python's ``re`` refuses them."""
    flags = _LEADING_FLAGS.match(pattern)
    lead = flags.group() if flags is not None else ""
    return f"{lead}^(?:{pattern[len(lead) :]})$"
