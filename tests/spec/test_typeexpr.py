"""The type expression mini-language: its grammar, its resolution, and error columns."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.datatypes import (
    BOOL,
    FLOAT,
    INT,
    STR,
    DataType,
    DictType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    render_type,
)
from fsm.spec.typeexpr import (
    DictExpr,
    ListExpr,
    OptionalExpr,
    TypeExprError,
    TypeName,
    build_type,
    names_in,
    parse_type_expr,
    unknown_names,
)

ISSUE = RecordType("Issue", ())
LEVEL = EnumType("Level", ("low", "high"))
NAMED: dict[str, DataType] = {"Issue": ISSUE, "Level": LEVEL}


def error(text: str) -> TypeExprError:
    with pytest.raises(TypeExprError) as caught:
        parse_type_expr(text)
    return caught.value


# -- grammar -----------------------------------------------------------------------------------


def test_scalar_and_contract_names_parse_with_offsets() -> None:
    """A bare name is a TypeName spanning its characters."""
    assert parse_type_expr("str") == TypeName("str", 0, 3)
    assert parse_type_expr("  Issue ") == TypeName("Issue", 2, 7)


def test_nested_generics_and_optionals_parse_with_offsets() -> None:
    """`list[str?]?` is an optional list of optional strings, each node with its extent."""
    assert parse_type_expr("list[str?]?") == OptionalExpr(
        ListExpr(OptionalExpr(TypeName("str", 5, 8), 5, 9), 0, 10), 0, 11
    )


def test_dict_keeps_only_its_value_type() -> None:
    """`dict[str, T]` keys are always str, so the tree holds only T."""
    assert parse_type_expr("dict[str, list[Issue]]") == DictExpr(
        ListExpr(TypeName("Issue", 15, 20), 10, 21), 0, 22
    )


def test_whitespace_between_tokens_is_ignored() -> None:
    """Authors may space brackets and commas as they like."""
    spaced = parse_type_expr(" dict [ str ,list [ int ] ] ? ")
    assert build_type(spaced, NAMED) == OptionalType(DictType(ListType(INT)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("str", STR),
        ("int?", OptionalType(INT)),
        ("list[float]", ListType(FLOAT)),
        ("dict[str, bool?]", DictType(OptionalType(BOOL))),
        ("list[Issue]?", OptionalType(ListType(ISSUE))),
        ("Level", LEVEL),
    ],
)
def test_build_type_resolves_names(text: str, expected: DataType) -> None:
    """Scalars resolve to the shared scalar types, other names to the given contracts."""
    assert build_type(parse_type_expr(text), NAMED) == expected


def test_names_in_yields_the_named_leaf() -> None:
    """Dependencies between contracts are read from the name a type mentions (not dict keys)."""
    assert list(names_in(parse_type_expr("dict[str, list[Issue?]]?"))) == [
        TypeName("Issue", 15, 20)
    ]


# -- errors ------------------------------------------------------------------------------------


def test_unknown_name_points_at_the_name_with_a_suggestion() -> None:
    """`list[st]` → unknown type 'st' at offsets 5..7, did you mean 'str'?"""
    [found] = unknown_names(parse_type_expr("list[st]"), NAMED)
    assert (found.message, found.start, found.end) == ("unknown type 'st'", 5, 7)
    assert found.hint == "did you mean 'str'?"


def test_unknown_contract_name_suggests_a_declared_contract() -> None:
    """Suggestions include declared contract names."""
    [found] = unknown_names(parse_type_expr("dict[str, Isue]"), NAMED)
    assert (found.start, found.hint) == (10, "did you mean 'Issue'?")


def test_only_unknown_names_are_reported() -> None:
    """The unknown name is an error at its offset; declared contracts and scalars are not."""
    found = unknown_names(parse_type_expr("dict[str, list[Foo]]?"), ["Bar"])
    assert [(f.message, f.start) for f in found] == [("unknown type 'Foo'", 15)]
    assert unknown_names(parse_type_expr("list[Issue]"), NAMED) == []


@pytest.mark.parametrize(
    ("text", "message", "start", "end", "hint"),
    [
        (
            "dict[int, str]",
            "dict keys must be str",
            5,
            8,
            "write dict[str, T]; keys are always strings so values stay JSON-ready",
        ),
        ("dict[str?, int]", "dict keys must be str", 5, 9, None),
        ("str??", "'?' written twice", 4, 5, "one '?' makes a type optional"),
        ("list", "'list' needs its item type, e.g. list[T]", 0, 4, None),
        ("dict", "'dict' needs its item type, e.g. dict[str, T]", 0, 4, None),
        ("list[str", "expected ']' to close list[, found the end of the text", 8, 9, None),
        ("list[str, int]", "expected ']' to close list[, found ','", 8, 9, None),
        (
            "dict[str int]",
            "expected ',' between the key and value types of dict[str, T], found 'i'",
            9,
            10,
            None,
        ),
        ("Issue[str]", "type 'Issue' takes no type arguments", 5, 6, None),
        ("", "expected a type, found the end of the text", 0, 1, None),
        ("list[]", "expected a type name, found ']'", 5, 6, None),
        ("1abc", "expected a type name, found '1'", 0, 1, None),
        (
            "str | int",
            "unexpected '|' after the type",
            4,
            9,
            "union types are not supported; use 'T?' for an optional value",
        ),
        ("list[str]]", "unexpected ']' after the type", 9, 10, None),
        ("stré", "unexpected 'é' after the type", 3, 4, None),
    ],
)
def test_syntax_errors_name_the_offending_offset(
    text: str, message: str, start: int, end: int, hint: str | None
) -> None:
    """Every syntax error says what was expected and where inside the text it went wrong."""
    found = error(text)
    assert (found.message, found.start, found.end) == (message, start, end)
    if hint is not None:
        assert found.hint == hint


# -- round trip --------------------------------------------------------------------------------


def data_types() -> st.SearchStrategy[DataType]:
    leaves = st.sampled_from([STR, INT, FLOAT, BOOL, ISSUE, LEVEL])

    def extend(inner: st.SearchStrategy[DataType]) -> st.SearchStrategy[DataType]:
        optional = inner.filter(lambda t: not isinstance(t, OptionalType)).map(OptionalType)
        return inner.map(ListType) | inner.map(DictType) | optional

    return st.recursive(leaves, extend, max_leaves=6)


@settings(max_examples=200)
@given(data_types(), st.sampled_from(["", " ", "  "]))
def test_rendered_types_parse_back_to_the_same_type(data_type: DataType, space: str) -> None:
    """render_type and the parser agree: text → type → text is the identity, spaced or not."""
    text = render_type(data_type)
    spaced = text.replace("[", f"{space}[{space}").replace("]", f"{space}]").replace(",", " ,")
    assert build_type(parse_type_expr(text), NAMED) == data_type
    assert build_type(parse_type_expr(spaced + space), NAMED) == data_type
