"""Generated record builders never accept what the reference refuses, and build what it builds."""

from __future__ import annotations

import enum
import json
import math

import attrs
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from fsm.contracts import build_classes, make_converter
from fsm.datatypes import (
    NO_DEFAULT,
    SCALARS,
    Constraints,
    DataType,
    DictType,
    EnumType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
)
from fsm.runtime.builders import (
    compile_builder,
    compile_context_reader,
    compile_instance_builder,
)
from fsm.testing import values
from fsm.values import check_value
from tests.strategies import constraints_for, json_values, mutated

COLOR = EnumType("Color", ("red", "green"))
scalars: st.SearchStrategy[DataType] = st.sampled_from([*SCALARS.values(), COLOR])
field_types: st.SearchStrategy[DataType] = st.one_of(
    scalars,
    scalars.map(OptionalType),
    scalars.map(ListType),
    scalars.map(lambda item: OptionalType(ListType(item))),
    st.just(DictType(SCALARS["int"])),  # not handled: the builder must step aside
)


@st.composite
def scalar_fields(draw: st.DrawFn, name: str) -> FieldDef:
    """A field of a type builders handle (or a dict, which they must leave alone); a
    quarter of them with a valid default."""
    data_type = draw(field_types)
    limits = draw(constraints_for(data_type))
    default = NO_DEFAULT
    if draw(st.integers(0, 3)) == 0:
        default = draw(values(data_type, limits))
    return FieldDef(name, data_type, default, limits)


scalar_records = (
    st.lists(st.sampled_from(("a", "b", "c")), max_size=3, unique=True)
    .flatmap(lambda names: st.tuples(*(scalar_fields(name) for name in names)))
    .map(lambda fields: RecordType("R", fields))
)
# 4,301 digits, past what JSON can carry (made by ``map``: hypothesis cannot repr the value)
too_long_ints = st.sampled_from((1, -1)).map(lambda sign: sign * 10**4300)
leaf_values = (
    json_values
    | st.sampled_from(
        ("red", "xa", "ab", "x\ud83d", -3, 2.5, 7, math.nan, math.inf, True, 10**400, ("a",))
    )
    | too_long_ints
)


def _same_json(left: object, right: object) -> bool:
    """Equal with the same types and key order (``1 == 1.0`` is not enough for JSON)."""
    return json.dumps(left) == json.dumps(right)


@settings(max_examples=500, deadline=None)
@given(scalar_records, st.data())
def test_a_builder_builds_what_the_general_path_builds(
    record: RecordType, data: st.DataObject
) -> None:
    """Accepted: the same instance and the same JSON as check + structure + unstructure.
    Refused by the reference: the builder refuses too. Values are valid ones, valid ones
    with one part changed, and arbitrary data."""
    valid = values(record)
    value = data.draw(st.one_of(valid, valid.flatmap(mutated), leaf_values))
    record_fields = record.fields
    classes = build_classes([record])
    python_type = classes.python_type(record)
    builder = compile_builder(record, python_type)
    if builder is None:
        return
    built = builder(value)
    instance_builder = compile_instance_builder(record, python_type)
    assert instance_builder is not None
    instance_only = instance_builder(value)
    assert (instance_only is None) is (built is None)  # the same checks, with or without JSON
    if built is not None:
        assert instance_only == built[0]
    if check_value(value, record, "R"):
        event("refused by the reference")
        assert built is None
        return
    event("built" if built is not None else "left to the general path")
    converter = make_converter(classes)
    instance = converter.structure(value, record, "R")
    expected_json = converter.unstructure(instance)
    if built is not None:
        assert built[0] == instance
        assert _same_json(built[1], expected_json)
        for name in (field.name for field in record_fields):  # enum members, not strings
            assert type(getattr(built[0], name)) is type(getattr(instance, name))


@settings(max_examples=300, deadline=None)
@given(scalar_records, st.data())
def test_a_context_reader_builds_what_the_instance_builder_builds_from_the_read_inputs(
    record: RecordType, data: st.DataObject
) -> None:
    """Reading each field from its context key (None when absent) in one function is the
    instance builder applied to ``{name: context.get(key)}``: same instance, or both refuse."""
    python_type = build_classes([record]).python_type(record)
    keys = {field.name: f"ctx_{field.name}" for field in record.fields}
    reader = compile_context_reader(record, python_type, keys)
    instance_builder = compile_instance_builder(record, python_type)
    assert (reader is None) is (instance_builder is None)
    if reader is None or instance_builder is None:
        return
    valid = values(record)
    value = data.draw(st.one_of(valid, valid.flatmap(mutated)))
    if not isinstance(value, dict):
        return
    context = {keys.get(name, name): item for name, item in value.items()}
    context["unrelated"] = data.draw(json_values)
    expected = instance_builder({name: context.get(key) for name, key in keys.items()})
    built = reader(context)
    event("built" if built is not None else "left to the general path")
    assert built == expected
    if built is not None and expected is not None:
        for name, key in keys.items():  # fresh lists, never the context's own
            assert type(getattr(built, name)) is type(getattr(expected, name))
            if isinstance(context.get(key), list):
                assert getattr(built, name) is not context[key]


def test_a_context_reader_needs_a_key_for_each_field_and_no_other() -> None:
    record = RecordType("Pair", (FieldDef("a", SCALARS["int"]), FieldDef("b", SCALARS["str"])))
    python_type = _classes(record)
    assert compile_context_reader(record, python_type, {"a": "x"}) is None
    assert compile_context_reader(record, python_type, {"a": "x", "b": "y", "c": "z"}) is None
    reader = compile_context_reader(record, python_type, {"a": "x", "b": "y"})
    assert reader is not None
    assert reader({"x": 1, "y": "t", "z": 0}) == python_type(a=1, b="t")
    assert reader({"x": 1}) is None  # b reads as None: the general path reports it


def _classes(record: RecordType) -> type:
    return build_classes([record]).python_type(record)  # type: ignore[no-any-return]


def test_a_scalar_contract_is_built_by_its_builder() -> None:
    """The common case takes the fast path: types, bounds, enum members, defaults."""
    record = RecordType(
        "Draft",
        (
            FieldDef("title", SCALARS["str"], constraints=Constraints(min_len=1)),
            FieldDef("revision", SCALARS["int"], constraints=Constraints(minimum=1)),
            FieldDef("score", OptionalType(SCALARS["float"])),
            FieldDef("color", COLOR, default="green"),
            FieldDef("tags", ListType(SCALARS["str"]), default=[]),
        ),
    )
    python_type = _classes(record)
    builder = compile_builder(record, python_type)
    assert builder is not None
    built = builder({"title": "t", "revision": 2, "score": 0.5})
    assert built is not None
    instance, data = built
    assert isinstance(instance.color, enum.Enum)
    assert data == {"title": "t", "revision": 2, "score": 0.5, "color": "green", "tags": []}
    assert data["tags"] is not instance.tags  # the JSON never shares a list with the instance
    again = builder({"title": "t", "revision": 2})
    assert again is not None
    assert again[0].tags is not instance.tags  # a factory default is fresh per instance
    for refused in (
        {"title": "", "revision": 2},  # too short
        {"title": "t", "revision": 0},  # below the minimum
        {"title": "t", "revision": 2, "score": 1},  # an int in a float field: general path
        {"title": "t", "revision": 2, "score": math.inf},
        {"title": "t", "revision": True},
        {"title": "t", "revision": 2, "color": "blue"},
        {"title": "t", "revision": 2, "extra": 1},
        {"revision": 2},
        ["title"],
    ):
        assert builder(refused) is None, refused


@pytest.mark.parametrize(
    "field_type",
    [DictType(SCALARS["int"]), ListType(SCALARS["float"]), RecordType("Inner", ())],
)
def test_types_a_builder_does_not_handle_get_no_builder(field_type: DataType) -> None:
    """Such records stay on the general path entirely."""
    record = RecordType("R", (FieldDef("a", field_type),))
    assert compile_builder(record, _classes(record)) is None


def test_a_built_instance_is_the_frozen_instance_its_class_would_make() -> None:
    """Built slot by slot, the instance still compares, hashes and refuses changes as usual."""
    record = RecordType("Pair", (FieldDef("a", SCALARS["int"]), FieldDef("b", SCALARS["str"])))
    python_type = _classes(record)
    builder = compile_instance_builder(record, python_type)
    assert builder is not None
    built = builder({"a": 1, "b": "x"})
    expected = python_type(a=1, b="x")
    assert type(built) is python_type
    assert (built, hash(built), repr(built)) == (expected, hash(expected), repr(expected))
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.a = 2  # type: ignore[union-attr]


def test_a_class_with_its_own_checks_is_built_through_its_init() -> None:
    """A class whose ``__init__`` does more than set slots (a validator here) is called."""
    record = RecordType("Pair", (FieldDef("a", SCALARS["int"]), FieldDef("b", SCALARS["str"])))
    seen: list[int] = []

    @attrs.frozen
    class Checked:
        a: int = attrs.field(validator=lambda _self, _attribute, value: seen.append(value))
        b: str

    builder = compile_instance_builder(record, Checked)
    assert builder is not None
    assert builder({"a": 5, "b": "x"}) == Checked(a=5, b="x")
    assert seen == [5, 5]
