"""``fsm.testing.values``: contract-valid data for any type, with candidates mixed in on demand.

(These test ``fsm/testing/strategies.py``; they live here beside the contracts they exercise.)
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from fsm.datatypes import (
    FLOAT,
    INT,
    STR,
    Constraints,
    DictType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
)
from fsm.testing import EACH, values
from fsm.values import check_value
from tests.strategies import PATTERNS, constraints_for, record_types

from .examples import BRIEF, CONTEXT, REVIEW


def fields(value: object) -> dict[str, Any]:
    """A drawn record, typed as the dict it is."""
    assert isinstance(value, dict)
    return value


def floats_in(data: object) -> list[object]:
    if isinstance(data, dict):
        return [x for value in data.values() for x in floats_in(value)]
    if isinstance(data, list):
        return [x for value in data for x in floats_in(value)]
    return [data] if isinstance(data, float) else []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), record_types())
def test_values_of_random_contracts_are_valid(data: st.DataObject, record: RecordType) -> None:
    """Whatever the contract, every generated value passes ``check_value``."""
    value = data.draw(values(record))
    assert check_value(value, record, "") == []
    assert all(math.isfinite(x) for x in floats_in(value))  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.data(), st.sampled_from([INT, FLOAT, STR, ListType(STR), DictType(INT)]))
def test_values_respect_root_constraints(data: st.DataObject, data_type: Any) -> None:
    """Bounds, lengths and patterns given for the root value are honoured."""
    constraints = data.draw(constraints_for(data_type))
    value = data.draw(values(data_type, constraints))
    assert check_value(value, data_type, "", constraints) == []


@settings(max_examples=100)
@given(st.data(), st.sampled_from(PATTERNS))
def test_patterns_are_fully_matched(data: st.DataObject, pattern: str) -> None:
    """Strings with a pattern match it in full, also when lengths are bounded too."""
    constraints = Constraints(min_len=2, max_len=4, pattern=pattern)
    assert check_value(data.draw(values(STR, constraints)), STR, "", constraints) == []


def assert_drawn_values_are_valid(data_type: Any, constraints: Constraints) -> None:
    """Draws values of one type and constraints on their own: hypothesis fails the caller when
    every draw is filtered out (a strategy that cannot reach the constraints), which a shared
    ``st.data()`` test would skip as an invalid example."""

    @settings(max_examples=15, deadline=None)
    @given(values(data_type, constraints))
    def drawn_values_are_valid(value: object) -> None:
        assert check_value(value, data_type, "", constraints) == []

    drawn_values_are_valid()


SIZED_PATTERNS = (
    "[a-z]+",
    "T-[0-9]+",
    "^[0-9a-f]{2,}$",
    "(?i)[a-z]+x",
    r"\d{3,60}",
    "[^,]+",
    ".{3,}",
    r"[\w.-]+",
    "a*b*",
)


SIZED_BOUNDS = ((40, 40), (0, 10), (5, None), (50, 60), (300, 300))
SIZED_CASES = [
    (pattern, bounds)
    for pattern in SIZED_PATTERNS
    for bounds in SIZED_BOUNDS
    if not (pattern == r"\d{3,60}" and bounds[0] > 60)  # no match that long: validate refuses it
]


@pytest.mark.parametrize(("pattern", "bounds"), SIZED_CASES)
def test_patterns_with_far_lengths_are_drawn_at_those_lengths(
    pattern: str, bounds: tuple[int, int | None]
) -> None:
    """A pattern of characters and repeats of one is drawn at the asked length, however far
    from the short matches hypothesis makes (a hash: `[0-9a-f]+` of exactly 40). Each case
    on its own: hypothesis fails it when its draws are all filtered out."""
    low, high = bounds
    assert_drawn_values_are_valid(STR, Constraints(min_len=low, max_len=high, pattern=pattern))


def test_sized_patterns_reach_every_length_they_allow() -> None:
    """Not one length only: both ends of ``min_len``..``max_len`` are drawn."""
    constraints = Constraints(min_len=50, max_len=60, pattern="T-[0-9]+")
    for length in (50, 60):
        found = find(values(STR, constraints), lambda text, n=length: len(str(text)) == n)
        assert str(found).startswith("T-")


def test_optional_values_are_sometimes_none() -> None:
    """An optional type yields ``None`` as well as inner values."""
    assert find(values(OptionalType(INT)), lambda v: v is None) is None
    assert isinstance(find(values(OptionalType(INT)), lambda v: v is not None), int)


def test_fields_with_defaults_are_sometimes_omitted_or_given_the_default() -> None:
    """A defaulted field may be left out, or carry exactly its default."""
    assert "max_words" not in fields(find(values(BRIEF), lambda v: "max_words" not in fields(v)))
    given_default = find(values(BRIEF), lambda v: fields(v).get("max_words") == 800)
    assert fields(given_default)["max_words"] == 800


def test_optional_fields_without_default_may_be_omitted() -> None:
    """Context fields declared ``T?`` are sometimes absent from the data."""
    assert "draft" not in fields(find(values(CONTEXT), lambda v: "draft" not in fields(v)))


def test_floats_are_always_floats() -> None:
    """A float field never receives an int, even a whole one."""
    found = fields(find(values(REVIEW), lambda v: fields(v)["score"] in (0.0, 1.0)))
    assert type(found["score"]) is float


@given(data=st.data())
@settings(max_examples=30)
def test_float_bounds_no_float_holds_exactly(data: st.DataObject) -> None:
    """A float field bounded by ints no float holds (``2**53 + 1``) still gets values, each
    within the bounds (hypothesis refuses such ints as bounds of its own)."""
    low, high = 2**53 + 1, 2**53 + 7
    field = FieldDef("x", FLOAT, constraints=Constraints(minimum=low, maximum=high))
    drawn = data.draw(values(RecordType("Big", (field,))))
    assert check_value(drawn, RecordType("Big", (field,)), "big") == []
    if "x" in fields(drawn):
        assert low <= fields(drawn)["x"] <= high


@pytest.mark.parametrize(("low", "high"), [(0, -0.0), (-0.0, 0.0), (0.0, 0.0), (0, 5)])
def test_zero_bounds_of_either_sign_get_values(low: float, high: float) -> None:
    """`min: 0, max: -0.0` holds the zeros (bounds compare as numbers); hypothesis, comparing
    signs, refused 0.0..-0.0, so fsm check and the generated tests failed on such a field."""
    assert_drawn_values_are_valid(FLOAT, Constraints(minimum=low, maximum=high))


def test_extra_values_are_mixed_in_at_their_path() -> None:
    """A candidate for ``review.score`` shows up, so guard boundaries get hit."""
    strategy = values(CONTEXT, extra_values={("review", "score"): [0.8]})
    found = fields(find(strategy, lambda v: (fields(v).get("review") or {}).get("score") == 0.8))
    assert found["review"]["score"] == 0.8


def test_extra_values_reach_list_items_and_whole_values() -> None:
    """``EACH`` addresses list items; ``()`` addresses the value itself."""
    issues = values(ListType(STR), extra_values={(EACH,): ["needle"]})
    found = find(issues, lambda v: isinstance(v, list) and "needle" in v)
    assert isinstance(found, list)
    assert "needle" in found
    whole = values(INT, extra_values={(): [123456789]})
    assert find(whole, lambda v: v == 123456789) == 123456789


@settings(max_examples=200)
@given(values(REVIEW, extra_values={("score",): [1.5, -0.1, 0.5], ("issues",): [["x"], "y"]}))
def test_invalid_candidates_are_skipped(review: Any) -> None:
    """Candidates the contract forbids at their path (1.5 > max 1, a str for a list) never
    appear."""
    assert check_value(review, REVIEW, "") == []
    assert review["issues"] != "y"


def test_unknown_extra_value_paths_are_refused() -> None:
    """A misspelt path is an error, not a silently ignored hint."""
    with pytest.raises(ValueError, match=r"\('review', 'scor'\).*do not exist in Context"):
        values(CONTEXT, extra_values={("review", "scor"): [0.8]})


def test_impossible_int_bounds_are_refused() -> None:
    """No int lies between 0.2 and 0.8, and the error says so."""
    with pytest.raises(ValueError, match=r"no int lies within 0.2..0.8"):
        values(INT, Constraints(minimum=0.2, maximum=0.8))


@given(values(INT, Constraints(minimum=0.5, maximum=2.5)))
def test_fractional_int_bounds_round_inwards(number: object) -> None:
    """Bounds 0.5..2.5 allow exactly the ints 1 and 2."""
    assert number in (1, 2)
    assert type(number) is int


def test_nested_record_defaults_are_fresh_copies() -> None:
    """Mutating one drawn default never changes the next one drawn."""
    record = RecordType("Holder", (FieldDef("tags", ListType(STR), default=["a"]),))
    first = fields(find(values(record), lambda v: fields(v).get("tags") == ["a"]))
    first["tags"].append("b")
    assert find(values(record), lambda v: fields(v).get("tags") == ["a"]) == {"tags": ["a"]}


@pytest.mark.parametrize(
    ("pattern", "bounds"),
    [(r"\d+", (0, None)), (r"\w+\s\w", (0, None)), (r"[\d\s]{2,5}", (0, None)), (r"\w+", (40, 40))],
)
def test_drawn_pattern_values_match_under_re2_classes(
    pattern: str, bounds: tuple[int, int | None]
) -> None:
    """``\\d \\w \\s`` are ASCII in RE2, which checks values at run time: fsm check draws
    only what the runtime accepts (hypothesis drew Arabic-Indic digits for ``\\d``, which
    RE2 refuses)."""
    low, high = bounds
    constraints = Constraints(min_len=low or None, max_len=high, pattern=pattern)

    @settings(max_examples=60, deadline=None)
    @given(values(STR, constraints))
    def drawn(value: object) -> None:
        assert isinstance(value, str)
        assert value.isascii()
        assert check_value(value, STR, "", constraints) == []

    drawn()
