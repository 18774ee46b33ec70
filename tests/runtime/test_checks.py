"""The compiled checks agree with ``check_value`` (the reference) on every type and plain value."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

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
from fsm.runtime.checks import compile_check
from fsm.values import check_value
from tests.strategies import json_values

constraints = st.builds(
    Constraints,
    minimum=st.none() | st.integers(-5, 5),
    maximum=st.none() | st.integers(0, 10),
    min_len=st.none() | st.integers(0, 2),
    max_len=st.none() | st.integers(1, 4),
    pattern=st.none() | st.sampled_from(("[a-c]*", "x.")),
)
leaves: st.SearchStrategy[DataType] = st.sampled_from(list(SCALARS.values())) | st.just(
    EnumType("Color", ("red", "green"))
)


def _extend(inner: st.SearchStrategy[DataType]) -> st.SearchStrategy[DataType]:
    fields = st.lists(
        st.builds(
            FieldDef,
            name=st.sampled_from(("a", "b", "c")),
            type=inner,
            default=st.sampled_from((NO_DEFAULT, None, 0)),
            constraints=constraints,
        ),
        max_size=3,
        unique_by=lambda field: field.name,
    )
    return (
        st.builds(ListType, inner)
        | st.builds(DictType, inner)
        | st.builds(OptionalType, inner)
        | st.builds(RecordType, name=st.just("R"), fields=fields.map(tuple))
    )


data_types = st.recursive(leaves, _extend, max_leaves=6)
# 4,301 digits, past what JSON can carry (made by ``map``: hypothesis cannot repr the value)
too_long_ints = st.sampled_from((1, -1)).map(lambda sign: sign * 10**4300)
values = st.recursive(
    json_values
    | st.sampled_from(("red", "xa", "ab", "a\ud800", -3, 2.5, float("nan"), True))
    | too_long_ints,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(("a", "b", "c", "d", "\udc00")), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None)
@given(data_types, constraints, values)
def test_compiled_check_equals_the_reference(
    data_type: DataType, limits: Constraints, value: object
) -> None:
    """Valid for the compiled check exactly when check_value finds no problem."""
    expected = not check_value(value, data_type, "v", limits)
    assert compile_check(data_type, limits)(value) is expected


def test_a_recursive_record_compiles_and_checks() -> None:
    """A record reachable from itself compiles once and checks nested values."""
    node = RecordType("Node", ())
    object.__setattr__(node, "fields", (FieldDef("next", OptionalType(node)),))  # tie the knot
    check = compile_check(node)
    assert check({"next": {"next": None}})
    assert not check({"next": {"next": 3}})


class _List(list[int]):
    pass


class _Dict(dict[str, int]):
    pass


def test_subclasses_of_lists_and_dicts_take_the_full_path() -> None:
    """The compiled check accepts only the builtin containers: cattrs reads an accepted value
    a second time, and a subclass's iteration may give it other items than were checked."""
    record = RecordType("R", (FieldDef("xs", ListType(SCALARS["int"])),))
    assert compile_check(record)({"xs": [1]})
    assert compile_check(record)({"xs": (1,)})
    assert not compile_check(record)({"xs": _List([1])})
    assert not compile_check(record)(_Dict(xs=1))
    assert not compile_check(DictType(SCALARS["int"]))(_Dict(a=1))
    assert not check_value({"xs": _List([1])}, record, "v")  # valid: the full path accepts it
