"""Type-checking guards: names, types, enum literals, None-narrowing, and what a guard proves."""

from __future__ import annotations

import attrs
import pytest

from fsm.diagnostics import Diagnostic
from fsm.errors import GuardError, SpecError
from fsm.guards import CheckedGuard, GuardEnv, check_guard, parse_guard
from fsm.spec.validate import checked_from_text

from .env import COLUMN, ENV, SPAN


def check(text: str, env: GuardEnv = ENV) -> CheckedGuard:
    return check_guard(parse_guard(text, SPAN), env, text=text)


def problems(text: str, env: GuardEnv = ENV) -> list[Diagnostic]:
    with pytest.raises(GuardError) as caught:
        check(text, env)
    return caught.value.diagnostics


def only(text: str, env: GuardEnv = ENV) -> Diagnostic:
    found = problems(text, env)
    assert len(found) == 1, found
    return found[0]


# -- names -------------------------------------------------------------------------------------


def test_unknown_field_suggests_the_closest_name() -> None:
    """`reviw` → unknown name, did you mean 'review', caret on the name."""
    diagnostic = only("reviw is not None")
    assert diagnostic.code == "guard-unknown-name"
    assert diagnostic.message == "unknown name 'reviw' in guard"
    assert diagnostic.hint == "did you mean 'review'?"
    assert (diagnostic.span.column, diagnostic.span.end_column) == (COLUMN, COLUMN + 5)


def test_unknown_record_field_points_at_the_field() -> None:
    """`brief.topik` names the record and suggests `topic`."""
    diagnostic = only("brief.topik == 'x'")
    assert diagnostic.code == "guard-unknown-name"
    assert diagnostic.message == "unknown field 'topik' of Brief in guard"
    assert diagnostic.hint == "did you mean 'topic'?"
    assert diagnostic.span.column == COLUMN + 6


def test_unknown_state_in_visits() -> None:
    """`visits.draftin` suggests the declared state `drafting`."""
    diagnostic = only("visits.draftin < 3")
    assert diagnostic.code == "guard-unknown-name"
    assert diagnostic.hint == "did you mean 'drafting'?"


def test_bare_visits_is_an_error() -> None:
    """`visits` alone is not a value; the hint lists the states."""
    diagnostic = only("visits > 1")
    assert diagnostic.code == "guard-type"
    assert diagnostic.hint == "states: drafting, reviewing, done"


def test_misspelt_field_of_an_unnarrowed_optional_reports_both_problems() -> None:
    """`review.scor` reports the missing narrowing and the unknown field at once."""
    codes = [d.code for d in problems("review.scor > 1")]
    assert codes == ["guard-optional", "guard-unknown-name"]


def test_fields_of_non_records_are_errors() -> None:
    """`name.size` is not a field; `name.lower` says to call it."""
    assert only("name.size > 1").code == "guard-type"
    assert only("name.lower == 'a'").hint == "call it: name.lower()"


# -- optionals and narrowing -------------------------------------------------------------------


def test_optional_read_error_message_and_position() -> None:
    """The design's example: reading an optional explains how to narrow it."""
    diagnostic = only("review.score >= 0.8")
    assert diagnostic.code == "guard-optional"
    assert diagnostic.message == (
        "`review` may be None here; narrow it first: review is not None and review.score >= 0.8"
    )
    assert (diagnostic.span.column, diagnostic.span.end_column) == (COLUMN, COLUMN + 6)


def test_narrowing_by_and() -> None:
    """`x is not None and x > 3` is accepted and proves x when true."""
    checked = check("maybe_n is not None and maybe_n > 3")
    assert checked.not_none_if_true == frozenset({"maybe_n"})
    assert checked.not_none_if_false == frozenset()


def test_narrowing_by_or() -> None:
    """`x is None or x > 3` narrows x for the right operand and proves x when false."""
    checked = check("review is None or review.score < 0.5")
    assert checked.not_none_if_true == frozenset()
    assert checked.not_none_if_false == frozenset({"review"})


def test_narrowing_by_not() -> None:
    """`not (x is None) and x.score > 0` narrows through `not`."""
    checked = check("not (review is None) and review.score > 0")
    assert checked.not_none_if_true == frozenset({"review"})


def test_not_of_a_conjunction_swaps_the_facts() -> None:
    """`not (x is not None and y)` proves x when it is *false*."""
    checked = check("not (review is not None and review.score > 0.5)")
    assert checked.not_none_if_false == frozenset({"review"})
    assert checked.not_none_if_true == frozenset()


def test_narrowing_does_not_cross_the_wrong_connective() -> None:
    """`x is not None or x > 3` reads x exactly when it is None: an error."""
    assert only("maybe_n is not None or maybe_n > 3").code == "guard-optional"
    assert only("maybe_n is None and maybe_n > 3").code == "guard-optional"


def test_narrowing_does_not_flow_right_to_left() -> None:
    """`x > 3 and x is not None` reads x before testing it."""
    assert only("maybe_n > 3 and maybe_n is not None").code == "guard-optional"


def test_nested_optional_paths_narrow_separately() -> None:
    """`review.notes` needs its own test after `review` is known."""
    check("review is not None and review.notes is not None and len(review.notes) > 2")
    diagnostic = only("review is not None and len(review.notes) > 2")
    assert diagnostic.message.startswith("`review.notes` may be None here")
    assert diagnostic.span.column == COLUMN + 27


def test_env_not_none_narrows_top_level_fields() -> None:
    """Fields the flow analysis proved non-None need no test in the guard."""
    env = attrs.evolve(ENV, not_none=frozenset({"review"}))
    checked = check("review.score >= 0.8", env)
    assert checked.reads == frozenset({("review", "score")})
    assert checked.not_none_if_true == frozenset()


def test_redundant_test_of_a_narrowed_optional_is_allowed() -> None:
    """`review is not None` where the flow already knows it is harmless, not an error."""
    env = attrs.evolve(ENV, not_none=frozenset({"review"}))
    assert check("review is not None and review.score > 0.1", env).not_none_if_true == {"review"}


def test_subscripts_are_optional_and_narrow_by_path() -> None:
    """`d['k']` may be missing: it must be tested, and the test narrows that very key."""
    assert only("scores['clarity'] > 0.5").code == "guard-optional"
    check("scores['clarity'] is not None and scores['clarity'] > 0.5")
    assert only("scores['a'] is not None and scores['b'] > 0.5").code == "guard-optional"
    check("nums[count] is not None and nums[count] > 1")


def test_subscript_error_explains_missing_keys() -> None:
    """The message says why a subscript may be None."""
    diagnostic = only("nums[0] > 1")
    assert diagnostic.message.startswith(
        "`nums[0]` may be None here (a missing index or key reads as None)"
    )


def test_optional_bool_must_be_narrowed_even_as_a_whole_guard() -> None:
    """`maybe_flag` alone is an optional read; after narrowing it is a fine condition."""
    assert only("maybe_flag").code == "guard-optional"
    check("maybe_flag is not None and maybe_flag")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("None is None", "`None is None` tests the literal None, so it is always true"),
        ("None is not None", "`None is not None` tests the literal None, so it is always false"),
        ("visits is None", "`visits` is read per state, e.g. visits.drafting"),
    ],
)
def test_is_none_on_the_none_literal_or_bare_visits_says_what_is_wrong(
    text: str, message: str
) -> None:
    """`None is None` is always true (not "never None, always false"); bare `visits` is not a
    value at all."""
    diagnostic = only(text)
    assert (diagnostic.code, diagnostic.message) == ("guard-type", message)


def test_a_choice_of_the_wrong_type_after_in_is_pointed_at() -> None:
    """In `count in [1, 2, 'three']` the error is the third choice, so it points there."""
    diagnostic = only("count in [1, 2, 'three']")
    assert diagnostic.message == "cannot compare int with str"
    assert diagnostic.span.column == COLUMN + 16


def test_is_none_on_a_non_optional_is_an_error() -> None:
    """`count is None` is always false and says so."""
    diagnostic = only("count is None")
    assert diagnostic.code == "guard-type"
    assert diagnostic.message == "`count` is int, never None, so this test is always false"
    assert "always true" in only("brief is not None").message


# -- types -------------------------------------------------------------------------------------


def test_truthiness_is_refused_with_a_suggestion() -> None:
    """`review` as a guard suggests `review is not None`; a list suggests len()."""
    diagnostic = only("review")
    assert diagnostic.code == "guard-type"
    assert "guards do not test truthiness" in diagnostic.message
    assert diagnostic.hint == "write `review is not None`"
    assert only("flag and tags").hint == "write `len(tags) > 0`"
    assert only("not count").hint == "write `count != 0`"


def test_enum_compares_with_its_values_only() -> None:
    """An enum literal must be one of the enum's values, with a did-you-mean."""
    check("level == 'mid' and brief.audience != 'high' and 'low' == level")
    diagnostic = only("level == 'midd'")
    assert diagnostic.code == "guard-type"
    assert diagnostic.message == "'midd' is not a value of enum Level"
    assert diagnostic.hint == "did you mean 'mid'?"
    assert diagnostic.span.column == COLUMN + 9


def test_enum_choices_after_in_are_validated_each() -> None:
    """Each literal in `level in [...]` must be a value of the enum."""
    check("level in ['low', 'high'] and 'low' in levels")
    found = problems("level in ['low', 'hgh', 'mdi']")
    assert [d.hint for d in found] == ["did you mean 'high'?", "did you mean 'mid'?"]
    assert only("'lo' in levels").hint == "did you mean 'low'?"


def test_enum_against_a_str_field_or_other_enum_is_an_error() -> None:
    """Enums compare with literals or the same enum, never with arbitrary strings."""
    assert only("level == name").code == "guard-type"
    check("level == brief.audience")


def test_incompatible_comparisons() -> None:
    """int vs str, None via ==, and ordering of bools are type errors."""
    assert only("count == 'a'").message == "cannot compare int with str"
    none = only("maybe_n == None")
    assert "is None" in none.message
    assert none.hint == "write `maybe_n is None`"
    assert only("None != maybe_n").hint == "write `maybe_n is not None`"
    assert only("flag < flag").code == "guard-type"
    assert only("level < 'mid'").code == "guard-type"
    check("count == ratio and name < 'm' and flag == True")


def test_membership_rules() -> None:
    """Element in list, key in dict, substring in str; anything else is an error."""
    check("'a' in tags and 'clarity' in scores and 'ft' in name and count not in nums")
    assert only("1 in tags").code == "guard-type"
    assert only("count in scores").code == "guard-type"
    assert only("'a' in count").code == "guard-type"


def test_and_or_need_bool_operands() -> None:
    """`count and flag` is refused: no truthiness."""
    diagnostic = only("count and flag")
    assert diagnostic.message.startswith("each operand of `and` must be a bool condition")


def test_arithmetic_types() -> None:
    """Numbers only (never bool or str); `/` gives float; int-only ops stay int."""
    check("count + 1 > 2 and ratio * 2 - count / 4 < 10 and -count % 3 == 1")
    assert only("flag + 1 > 0").code == "guard-type"
    assert only("name + 'a' == 'b'").message == "`+` needs int or float; found str and str"
    assert only("abs(name) > 1").message == "abs() needs int or float; `name` is str"


def test_divisors_must_be_non_zero_literals() -> None:
    """`x / 0` and `x / y` are refused so that a guard can never raise."""
    zero = only("count / 0 > 1")
    assert zero.code == "guard-type"
    assert "non-zero number literal; found zero" in zero.message
    assert zero.span.column == COLUMN + 8
    computed = only("count // count > 1")
    assert "found a computed value" in computed.message
    check("count // -2 > 1 and ratio % 0.5 < 0.1")


def test_functions() -> None:
    """len on str/list/dict, abs on numbers, min/max with two or more numbers."""
    check("len(name) + len(tags) + len(scores) > abs(-ratio) and min(count, 2.5) < max(1, 2, 3)")
    assert only("len(count) > 1").code == "guard-type"
    assert "takes two or more" in only("min(count) > 1").message
    assert "exactly one argument" in only("len(tags, tags) > 1").message
    assert only("abs(name) > 1").code == "guard-type"


def test_string_methods() -> None:
    """Methods apply to str only, with the right arity and str arguments."""
    check("name.lower().strip().startswith('d') and name.isalpha() and not name.isdigit()")
    assert only("tags.lower() == 'a'").code == "guard-type"
    assert only("name.lower('x') == 'a'").code == "guard-type"
    assert only("name.startswith(1)").code == "guard-type"
    assert only("level.upper() == 'MID'").code == "guard-type"


def test_indexing_types() -> None:
    """Lists take int indices, dicts str keys; other values cannot be indexed."""
    assert only("tags['a'] is None").code == "guard-type"
    assert only("scores[0] is None").code == "guard-type"
    assert only("name[0] is None").code == "guard-type"


def test_whole_guard_must_be_bool() -> None:
    """`count + 1` is a number, not a condition."""
    diagnostic = only("count + 1")
    assert diagnostic.message.startswith("a guard must be a bool condition")


def test_all_problems_are_collected_in_source_order() -> None:
    """Several independent problems come back together, sorted by position."""
    found = problems("reviw is None and count == 'a' and visits.nope > 1")
    assert [d.code for d in found] == ["guard-unknown-name", "guard-type", "guard-unknown-name"]
    columns = [d.span.column for d in found]
    assert columns == sorted(columns)


# -- what a checked guard exposes --------------------------------------------------------------


def test_reads_lists_the_paths_read_including_builtins() -> None:
    """Paths read are attribute chains; subscripts read their container."""
    checked = check(
        "review is not None and review.score > 0.5 and steps < 10 and visits.drafting < 3 "
        "and scores['x'] is None and brief.audience == 'low'"
    )
    assert checked.reads == frozenset(
        {
            ("review",),
            ("review", "score"),
            ("steps",),
            ("visits", "drafting"),
            ("scores",),
            ("brief", "audience"),
        }
    )


def test_literals_pair_each_compared_path_with_its_literal() -> None:
    """(path, literal) pairs feed boundary values to the routing property tests."""
    checked = check("0 < ratio <= 1 and visits.drafting < 3 and level in ['low', 'mid']")
    assert checked.literals == (
        (("ratio",), 0),
        (("ratio",), 1),
        (("visits", "drafting"), 3),
        (("level",), "low"),
        (("level",), "mid"),
    )


def test_literals_are_deduplicated_but_keep_distinct_types() -> None:
    """The same (path, literal) twice is listed once; 1 and 1.0 stay distinct."""
    checked = check("count > 1 and count < 1 and ratio > 1 and ratio < 1.0")
    assert checked.literals == (
        (("count",), 1),
        (("ratio",), 1),
        (("ratio",), 1.0),
    )


def test_checked_guard_keeps_the_source_text_and_marks_subscript_kinds() -> None:
    """`text` is what the user wrote; subscripts know whether they index a list or a dict."""
    checked = check("nums[0] is None and scores['a'] is None")
    assert checked.text == "nums[0] is None and scores['a'] is None"
    assert 'kind="list"' not in repr(checked.expr)
    assert "kind='list'" in repr(checked.expr)
    assert "kind='dict'" in repr(checked.expr)


def test_a_narrowing_hint_pastes_back_into_a_double_quoted_guard() -> None:
    """The suggested guard is written the way guards are (strings in single quotes), so it
    replaces the refused one in `when: "..."` as is, and the spec then validates."""
    spec = """
workflow: t
contracts:
  Review: {tags: "list[str?]"}
context:
  review: Review?
agents:
  w: {input: {}, output: Review}
states:
  s: {agent: w, writes: {review: .}}
  done: {final: true}
initial: s
transitions:
  s:
    - {to: done, when: "GUARD"}
    - {to: done}
"""
    refused = "review is not None and review.tags[0] == 'x'"  # the narrowing covers review
    with pytest.raises(SpecError) as caught:
        checked_from_text(spec.replace("GUARD", refused))
    (diagnostic,) = caught.value.diagnostics
    hint = diagnostic.message.split("narrow it first: ", 1)[1]
    assert hint == "review.tags[0] is not None and review.tags[0] == 'x'"
    checked_from_text(spec.replace("GUARD", hint))  # valid YAML, valid guard
