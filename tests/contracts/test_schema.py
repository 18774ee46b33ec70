"""JSON Schema export: its shape, and agreement with ``check_value`` on any data."""

from __future__ import annotations

import json

import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fsm.contracts import build_classes, json_schema, make_converter
from fsm.datatypes import (
    FLOAT,
    INT,
    STR,
    Constraints,
    DataType,
    DictType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
)
from fsm.testing import values
from fsm.values import check_value
from tests.strategies import constraints_for, json_values, mutated, record_types

from .examples import BRIEF, CONTEXT, REVIEW

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_accepts(schema: dict[str, object], data: object) -> bool:
    return bool(jsonschema.Draft202012Validator(schema).is_valid(data))


def test_record_schema_in_full() -> None:
    """A record is a closed object with typed, constrained, described properties."""
    assert json_schema(REVIEW) == {
        "$schema": DIALECT,
        "title": "Review",
        "type": "object",
        "properties": {
            "score": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "Overall quality from 0 to 1.",
            },
            "issues": {"type": "array", "items": {"type": "string"}},
            "notes": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["score", "issues", "notes"],
        "additionalProperties": False,
    }


def test_nested_types_are_referenced_from_defs() -> None:
    """Named records and enums appear once under ``$defs``; fields point at them."""
    schema = json_schema(CONTEXT)
    assert sorted(schema["$defs"]) == ["Audience", "Brief", "Decision", "Draft", "Review"]
    assert schema["properties"]["brief"] == {"$ref": "#/$defs/Brief"}
    assert schema["properties"]["draft"] == {"anyOf": [{"$ref": "#/$defs/Draft"}, {"type": "null"}]}
    assert schema["$defs"]["Audience"] == {
        "title": "Audience",
        "type": "string",
        "enum": ["general", "technical", "executive"],
    }
    assert schema["required"] == ["brief", "log"]


def test_defaults_and_optional_fields_are_not_required() -> None:
    """Fields with a default carry it and are optional in the schema."""
    schema = json_schema(BRIEF)
    assert schema["required"] == ["topic"]
    assert schema["properties"]["audience"] == {"$ref": "#/$defs/Audience", "default": "general"}
    assert schema["properties"]["max_words"]["default"] == 800


def test_require_all_lists_every_field() -> None:
    """Strict structured-output mode requires every field; optional ones still take null."""
    schema = json_schema(CONTEXT, require_all=True)
    assert schema["required"] == ["brief", "draft", "review", "decision", "log"]
    assert schema["$defs"]["Brief"]["required"] == ["topic", "audience", "max_words"]
    assert schema_accepts(schema, {"brief": {"topic": "agents"}, "log": []}) is False
    complete = {"topic": "agents", "audience": "general", "max_words": 800}
    context: dict[str, object] = {
        "brief": complete,
        "draft": None,
        "review": None,
        "decision": None,
        "log": [],
    }
    assert schema_accepts(schema, context)


def test_constraints_map_to_keywords_of_their_type() -> None:
    """Bounds become minimum/minLength/minItems/minProperties; patterns are anchored."""
    record = RecordType(
        "Limits",
        (
            FieldDef("n", INT, constraints=Constraints(minimum=1, maximum=2.5)),
            FieldDef("s", STR, constraints=Constraints(min_len=1, max_len=3, pattern="a|b")),
            FieldDef("l", ListType(INT), constraints=Constraints(min_len=2)),
            FieldDef("d", OptionalType(DictType(STR)), constraints=Constraints(max_len=4)),
        ),
    )
    properties = json_schema(record)["properties"]
    assert properties["n"] == {"type": "integer", "minimum": 1, "maximum": 2.5}
    assert properties["s"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 3,
        "pattern": "^(?:a|b)$",
    }
    assert properties["l"] == {"type": "array", "items": {"type": "integer"}, "minItems": 2}
    assert properties["d"] == {
        "anyOf": [
            {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 4},
            {"type": "null"},
        ]
    }


def test_non_record_roots() -> None:
    """Any type exports: a list of records keeps its records in ``$defs``."""
    schema = json_schema(ListType(REVIEW), Constraints(max_len=2))
    assert schema["type"] == "array"
    assert schema["maxItems"] == 2
    assert schema["items"] == {"$ref": "#/$defs/Review"}
    assert list(schema["$defs"]) == ["Review"]


def test_schema_is_valid_and_json_serialisable() -> None:
    """The export is a valid 2020-12 schema that survives ``json.dumps``."""
    schema = json_schema(CONTEXT)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert json.loads(json.dumps(schema)) == schema


@st.composite
def typed_data(draw: st.DrawFn) -> tuple[DataType, Constraints, object]:
    """A random type and data for it: valid, one change away from valid, or arbitrary."""
    data_type: DataType = draw(record_types())
    if draw(st.integers(0, 4)) == 0:
        wrapped: list[DataType] = [ListType(data_type), OptionalType(data_type)]
        data_type = draw(st.sampled_from(wrapped))
    constraints = draw(constraints_for(data_type))
    valid = draw(values(data_type, constraints))
    data = draw(st.sampled_from(["valid", "mutated", "arbitrary"]))
    if data == "valid":
        return data_type, constraints, valid
    return data_type, constraints, draw(mutated(valid) if data == "mutated" else json_values)


def beyond_common_ground(data: object) -> bool:
    """Data on which JSON Schema and contracts knowingly differ (see ``fsm.contracts.schema``):
    integral floats (an integer to JSON Schema) and strings ending in a newline (Python's ``$``
    matches before it)."""
    if isinstance(data, dict):
        return any(beyond_common_ground(v) for v in data.values())
    if isinstance(data, list):
        return any(beyond_common_ground(v) for v in data)
    if isinstance(data, float):
        return data.is_integer()
    return isinstance(data, str) and data.endswith("\n")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed_data())
def test_schema_agrees_with_check_value(case: tuple[DataType, Constraints, object]) -> None:
    """The schema accepts exactly the data ``check_value`` accepts (on their common ground)."""
    data_type, constraints, data = case
    assume(not beyond_common_ground(data))
    valid = not check_value(data, data_type, "", constraints)
    assert schema_accepts(json_schema(data_type, constraints), data) == valid


def around_limits(data_type: DataType, constraints: Constraints) -> list[object]:
    """Values on and just beyond each bound of ``constraints`` for ``data_type``."""
    if data_type in (INT, FLOAT):
        step = 1 if data_type == INT else 1e-6
        bounds = [b for b in (constraints.minimum, constraints.maximum) if b is not None]
        numbers = [b + d for b in bounds for d in (-step, 0, step)]
        return [int(n) if data_type == INT else n for n in numbers]
    sizes = [n for n in (constraints.min_len, constraints.max_len) if n is not None]
    lengths = [n + d for n in sizes for d in (-1, 0, 1) if n + d >= 0]
    if data_type == STR:
        return ["a" * n for n in lengths]
    if isinstance(data_type, ListType):
        return [[0] * n for n in lengths]
    return [{str(i): "" for i in range(n)} for n in lengths]


LIMITS = [
    (INT, Constraints(minimum=0, maximum=10)),
    (FLOAT, Constraints(minimum=-1.5, maximum=2.5)),  # no integral floats: see below
    (STR, Constraints(min_len=1, max_len=3)),
    (ListType(INT), Constraints(min_len=1, max_len=2)),
    (DictType(STR), Constraints(min_len=1, max_len=2)),
]


@pytest.mark.parametrize(("data_type", "constraints"), LIMITS)
def test_schema_agrees_at_the_limits(data_type: DataType, constraints: Constraints) -> None:
    """On, inside and just beyond each bound, the schema and ``check_value`` agree."""
    candidates = around_limits(data_type, constraints)
    verdicts = {repr(c): not check_value(c, data_type, "", constraints) for c in candidates}
    assert set(verdicts.values()) == {True, False}
    schema = json_schema(data_type, constraints)
    assert {repr(c): schema_accepts(schema, c) for c in candidates} == verdicts


KINDS: list[DataType] = [INT, FLOAT, STR, ListType(INT), DictType(STR)]


@st.composite
def near_valid(draw: st.DrawFn) -> tuple[DataType, Constraints, object]:
    """A constrained scalar or collection, and a valid value of it changed a little."""
    data_type = draw(st.sampled_from(KINDS))
    constraints = draw(constraints_for(data_type))
    return data_type, constraints, draw(mutated(draw(values(data_type, constraints))))


@settings(max_examples=300, deadline=None)
@given(near_valid())
def test_schema_agrees_near_valid_values(case: tuple[DataType, Constraints, object]) -> None:
    """Nudged numbers, padded strings and resized collections are judged alike."""
    data_type, constraints, data = case
    assume(not beyond_common_ground(data))
    valid = not check_value(data, data_type, "", constraints)
    assert schema_accepts(json_schema(data_type, constraints), data) == valid


@settings(max_examples=50, deadline=None)
@given(st.data(), record_types())
def test_complete_data_meets_the_strict_schema(data: st.DataObject, record: RecordType) -> None:
    """What the converter unstructures (every field spelt out) passes ``require_all``."""
    converter = make_converter(build_classes([record]))
    value = data.draw(values(record))
    complete = converter.unstructure(converter.structure(value, record, ""))
    assert schema_accepts(json_schema(record, require_all=True), complete)


@pytest.mark.parametrize("pattern", ["[a-z]+", "x|y"])
def test_anchored_pattern_rejects_partial_matches(pattern: str) -> None:
    """A pattern must match the whole string, as ``check_value`` demands."""
    schema = json_schema(STR, Constraints(pattern=pattern))
    assert schema_accepts(schema, "x")
    assert not schema_accepts(schema, "x1")
    assert not schema_accepts(schema, "1x")


def test_a_patterns_leading_inline_flags_stay_in_front_of_the_anchors() -> None:
    """``(?s)a.b`` was written ``^(?:(?s)a.b)$``, which Python's ``re`` (and so the
    ``jsonschema`` package) refuses: global flags must come first."""
    record = RecordType(
        "Flagged",
        (FieldDef("s", STR, constraints=Constraints(pattern="(?i)(?s)a.b")),),
    )
    schema = json_schema(record)
    assert schema["properties"]["s"]["pattern"] == "(?i)(?s)^(?:a.b)$"
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid({"s": "A\nB"})
    assert not validator.is_valid({"s": "xa\nb"})
