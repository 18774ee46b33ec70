"""Parsing guards: the node tree for allowed text, positioned diagnostics for everything else."""

from __future__ import annotations

import pytest

from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import GuardError, SpecError
from fsm.guards import nodes as n
from fsm.guards import parse_guard
from fsm.spec.validate import checked_from_text

from .env import COLUMN, SPAN


def problems(text: str, span: SourceSpan = SPAN) -> list[Diagnostic]:
    with pytest.raises(GuardError) as caught:
        parse_guard(text, span)
    return caught.value.diagnostics


def only(text: str, span: SourceSpan = SPAN) -> Diagnostic:
    found = problems(text, span)
    assert len(found) == 1, found
    return found[0]


# -- what parses -------------------------------------------------------------------------------


def test_parses_the_design_example_into_our_nodes() -> None:
    """The flagship guard becomes an `and` of two comparisons over paths and literals."""
    expr = parse_guard("review.score >= 0.8 and visits.drafting < 3", SPAN)
    assert isinstance(expr, n.BoolOp)
    assert expr.op == "and"
    first, second = expr.values
    assert isinstance(first, n.Compare)
    assert n.path_of(first.left) == ("review", "score")
    assert first.ops == (">=",)
    assert first.comparators[0] == n.Literal(0.8, first.comparators[0].span)
    assert isinstance(second, n.Compare)
    assert n.path_of(second.left) == ("visits", "drafting")


def test_chained_comparison_keeps_all_operators() -> None:
    """`0 < x <= 1` is one Compare node with two operators, as in Python."""
    expr = parse_guard("0 < ratio <= 1", SPAN)
    assert isinstance(expr, n.Compare)
    assert expr.ops == ("<", "<=")
    assert len(expr.comparators) == 2


def test_negative_number_literals_are_folded() -> None:
    """`-2` is a single literal (so it can be a divisor or a choice after `in`)."""
    expr = parse_guard("count > -2", SPAN)
    assert isinstance(expr, n.Compare)
    literal = expr.comparators[0]
    assert isinstance(literal, n.Literal)
    assert literal.value == -2
    assert (literal.span.column, literal.span.end_column) == (COLUMN + 8, COLUMN + 10)


def test_is_none_becomes_its_own_node() -> None:
    """`x is not None` is an IsNone node, the only form of `is` the language has."""
    expr = parse_guard("review is not None", SPAN)
    assert expr == n.IsNone(n.Name("review", expr.operand.span), True, expr.span)


def test_literal_lists_and_tuples_after_in() -> None:
    """Both `[...]` and `(...)` of literals are accepted as the right operand of `in`."""
    for text in ("level in ['low', 'mid']", "level not in ('low', 'mid')", "count in [1, -2]"):
        expr = parse_guard(text, SPAN)
        assert isinstance(expr, n.Compare)
        assert isinstance(expr.comparators[-1], n.LiteralList)


def test_method_and_function_calls() -> None:
    """Allowed calls become Call and MethodCall nodes naming the function."""
    expr = parse_guard("name.strip().startswith('a') and len(tags) > max(1, count)", SPAN)
    assert isinstance(expr, n.BoolOp)
    method = expr.values[0]
    assert isinstance(method, n.MethodCall)
    assert method.method == "startswith"
    assert isinstance(method.receiver, n.MethodCall)


def test_render_parses_back_to_the_same_tree() -> None:
    """The canonical rendering used in messages is itself a valid guard with the same shape."""
    text = "not (a.b - -1) * 2 >= c[0] % 3 and (d or e) and x in [1, 'y'] and s.lower() != 'q'"
    expr = parse_guard(text, SPAN)
    again = parse_guard(n.render(expr), SPAN)
    assert n.render(again) == n.render(expr)


def test_leading_spaces_shift_positions() -> None:
    """A guard written as `"  count > "` still reports columns in the YAML line."""
    diagnostic = only("  count >")
    assert diagnostic.code == "guard-syntax"
    assert diagnostic.span.column == COLUMN + 9


# -- syntax errors -----------------------------------------------------------------------------


def test_syntax_error_points_inside_the_yaml_string() -> None:
    """A syntax error's column is the guard's column plus the offset inside the guard."""
    diagnostic = only("count > 1 1")
    assert diagnostic.code == "guard-syntax"
    assert (diagnostic.span.line, diagnostic.span.column) == (14, COLUMN + 10)
    assert "invalid guard syntax" in diagnostic.message
    assert str(diagnostic.span) == f"specs/test.yaml:14:{COLUMN + 10}"


def test_syntax_error_after_non_ascii_text_counts_characters() -> None:
    """Columns count characters, not UTF-8 bytes, after text such as 'é'."""
    diagnostic = only("name == 'été' $ 1")
    assert diagnostic.span.column == COLUMN + 14


def test_multi_line_guard_hint_and_position() -> None:
    """A guard broken over lines without parentheses says how to fix it."""
    diagnostic = only("count > 1 and\nflag")
    assert diagnostic.code == "guard-syntax"
    assert diagnostic.span.line == 14
    assert diagnostic.hint is not None
    assert "parentheses" in diagnostic.hint


def test_errors_on_later_lines_use_their_own_line() -> None:
    """Inside parentheses a guard may span lines; errors on line 2 point at line 15."""
    diagnostic = only("(count > 1 and\n  review.__dict__)")
    assert (diagnostic.span.line, diagnostic.span.column) == (15, 10)


SPEC_WITH_GUARD = """\
workflow: w
context: {count: int, name: str}
states: {start: {}, done: {final: true}}
initial: start
transitions:
  start:
    - to: done
      when: GUARD
    - {to: done}
"""


@pytest.mark.parametrize(
    ("guard", "line", "column"),
    [
        ("|\n        (count > 1\n           and fooo)", 10, 16),  # block: indentation counts
        (">\n        count > 1\n        and fooo", 10, 13),  # folded onto one line by YAML
        ('"name == \\"x\\" and fooo"', 8, 32),  # escaped quotes before the name
        ("'name == ''x'' and fooo'", 8, 32),  # doubled quotes before the name
    ],
)
def test_guard_diagnostics_point_where_yaml_wrote_the_character(
    guard: str, line: int, column: int
) -> None:
    """Escapes, folding and block indentation change the text YAML hands over; a diagnostic
    still points at the file position of the token, not at an offset counted from the start."""
    with pytest.raises(SpecError) as caught:
        checked_from_text(SPEC_WITH_GUARD.replace("GUARD", guard), "s.yaml")
    [diagnostic] = caught.value.diagnostics
    assert diagnostic.message == "unknown name 'fooo' in guard"
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column)
    assert (diagnostic.span.end_line, diagnostic.span.end_column) == (line, column + 4)


def test_empty_guard_is_a_syntax_error() -> None:
    """An empty `when:` explains that a default transition needs no guard."""
    diagnostic = only("   ")
    assert diagnostic.code == "guard-syntax"
    assert diagnostic.message == "guard is empty"


def test_guard_error_is_a_spec_error_with_rendered_message() -> None:
    """GuardError is a SpecError whose text is the one-line diagnostic headline."""
    with pytest.raises(SpecError, match=r"specs/test.yaml:14:20: error: guards do not allow"):
        parse_guard("lambda: 0", SPAN)


# -- forbidden constructs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("count ** 2 > 1", 0, "`**` (powers)"),
        ("flag | flag", 0, "`|` (bitwise or)"),
        ("[x for x in tags]", 0, "list comprehensions"),
        ("count if flag else 0", 0, "conditional expressions"),
        ("(y := 1)", 1, "assignment expressions"),
        ("tags[0:1]", 5, "slices"),
        ("{1, 2}", 0, "set literals"),
        ("f'{name}' == 'a'", 0, "f-strings"),
    ],
)
def test_forbidden_constructs_are_named_and_positioned(
    text: str, offset: int, fragment: str
) -> None:
    """Each forbidden construct names itself and points at its own text."""
    diagnostic = only(text)
    assert diagnostic.code == "guard-forbidden"
    assert fragment in diagnostic.message
    assert diagnostic.span.column == COLUMN + offset
    assert diagnostic.hint


def test_dunder_attribute_points_at_the_attribute_name() -> None:
    """`review.__class__` is rejected with a caret under `__class__`, not under `review`."""
    diagnostic = only("review.__class__")
    assert diagnostic.code == "guard-forbidden"
    assert (diagnostic.span.column, diagnostic.span.end_column) == (COLUMN + 7, COLUMN + 16)


def test_unknown_function_lists_the_allowed_ones() -> None:
    """Calling anything but len/abs/min/max says which functions exist."""
    diagnostic = only("sorted(tags) == tags")
    assert diagnostic.message == "'sorted' cannot be called in a guard"
    assert diagnostic.hint is not None
    assert "len(), abs(), min(), max()" in diagnostic.hint


def test_unknown_method_suggests_a_close_one() -> None:
    """`.startwith()` (typo) suggests `.startswith()`."""
    diagnostic = only("name.startwith('a')")
    assert diagnostic.message == "'.startwith()' is not an allowed string method"
    assert diagnostic.hint == "did you mean 'startswith'?"


def test_is_only_tests_for_none() -> None:
    """`a is b` and chained `is` are rejected; `is` exists only as `is None`."""
    for text in ("count is 1", "review is None is None", "None is review"):
        assert only(text).code == "guard-forbidden"


def test_list_literal_outside_in_is_forbidden() -> None:
    """A list literal may not be compared with == or passed to a function."""
    assert only("tags == ['a']").code == "guard-forbidden"
    assert only("len([1, 2]) > 1").code == "guard-forbidden"


def test_choices_after_in_must_be_literals() -> None:
    """`x in [y]` with a non-literal choice points at that choice."""
    diagnostic = only("count in [1, nums]")
    assert diagnostic.message == "the choices after `in` must be literals"
    assert diagnostic.span.column == COLUMN + 13


def test_several_problems_are_reported_together() -> None:
    """All forbidden constructs in one guard are reported in one error."""
    found = problems("review.__class__ and count ** 2 and (lambda: 1)")
    assert [d.code for d in found] == ["guard-forbidden"] * 3


@pytest.mark.parametrize(
    ("text", "offset", "name"),
    [
        ("c\u043eunt > 1", 0, "c\u043eunt"),  # Cyrillic o in a context field
        ("review.sc\u043ere > 1", 7, "sc\u043ere"),  # ... in a record field
        ("visits.draft\u0456ng > 1", 7, "draft\u0456ng"),  # ... in a state name
        ("name.l\u043ewer() == 'x'", 5, "l\u043ewer"),  # ... in a string method
        ("l\u0435n(name) > 1", 0, "l\u0435n"),  # ... in a function
    ],
)
def test_a_look_alike_letter_in_a_name_is_named(text: str, offset: int, name: str) -> None:
    """Spec names are ASCII: a homoglyph gets the letter named, not "did you mean" the name
    it already looks exactly like."""
    diagnostic = only(text)
    assert diagnostic.code == "guard-unknown-name"
    assert diagnostic.message.startswith(f"'{name}' contains the non-ASCII character")
    assert "CYRILLIC" in diagnostic.message
    assert diagnostic.span.column == COLUMN + offset


def test_a_trailing_semicolon_is_named_as_such() -> None:
    """`count > 1;` is one expression with a stray ';', not "a statement (found expr)"."""
    diagnostic = only("count > 1 ;")
    assert diagnostic.code == "guard-syntax"
    assert diagnostic.message == "a guard is one expression; it ends with a ';'"
    assert diagnostic.span.column == COLUMN + 10
    assert diagnostic.hint == "remove the ';'"


def test_statements_are_forbidden_not_syntax_errors() -> None:
    """`import os`, `x = 1` and `a; b` explain that a guard is one expression."""
    assert "not a statement (found import)" in only("import os").message
    assert "not a statement (found assign)" in only("x = 1").message
    multiple = only("count; flag")
    assert "found 2 separated by ';'" in multiple.message
    assert multiple.span.column == COLUMN + 7


# -- limits ------------------------------------------------------------------------------------


def test_text_longer_than_the_limit() -> None:
    """More than 2,000 characters is rejected before parsing."""
    diagnostic = only("count > 1 and " * 150 + "flag")
    assert diagnostic.code == "guard-limit"
    assert "2,000" in diagnostic.message


def test_deep_parentheses_are_rejected_at_the_first_too_deep_bracket() -> None:
    """33 nested brackets exceed the depth limit of 32; the caret is on bracket 33."""
    diagnostic = only("(" * 33 + "flag" + ")" * 33)
    assert diagnostic.code == "guard-limit"
    assert diagnostic.span.column == COLUMN + 32


def test_brackets_inside_strings_do_not_count_towards_depth() -> None:
    """`'((((…'` is a string, not nesting."""
    expr = parse_guard("name == '" + "(" * 100 + "'", SPAN)
    assert isinstance(expr, n.Compare)
    assert n.path_of(expr.left) == ("name",)
    assert isinstance(expr.comparators[0], n.Literal)
    assert expr.comparators[0].value == "(" * 100


def test_deep_not_chain_is_rejected() -> None:
    """`not not … flag` deeper than 32 levels is a limit error, not a crash."""
    assert only("not " * 40 + "flag").code == "guard-limit"


def test_a_long_operator_chain_is_told_why_it_counts_as_deep() -> None:
    """`a + a + … + a` (40 terms) nests one level per `+` in Python's tree: the hint says so,
    as the guard has no bracket a reader would call nesting."""
    diagnostic = only("count + " * 40 + "count > 1")
    assert diagnostic.code == "guard-limit"
    assert diagnostic.message == "guard nests deeper than 32 levels"
    assert diagnostic.hint is not None
    assert "a + b + c + … nests one level per operator" in diagnostic.hint


def test_deep_nesting_within_the_limit_parses() -> None:
    """Thirty levels of parentheses are fine."""
    assert isinstance(parse_guard("(" * 30 + "flag" + ")" * 30, SPAN), n.Name)


def test_node_count_limit() -> None:
    """More than 200 expression nodes is rejected even when short and shallow."""
    diagnostic = only(" and ".join(["a"] * 201))
    assert diagnostic.code == "guard-limit"
    assert "200" in diagnostic.message


def test_integer_literal_bound() -> None:
    """2**53 is allowed, 2**53 + 1 is not (also when negative)."""
    parse_guard(f"count < {2**53}", SPAN)
    parse_guard(f"count > -{2**53}", SPAN)
    assert only(f"count < {2**53 + 1}").code == "guard-limit"
    assert only(f"count > -{2**53 + 1}").code == "guard-limit"


def test_float_literal_must_be_finite() -> None:
    """`1e999` would be infinity; it is rejected."""
    assert only("ratio < 1e999").code == "guard-limit"


def test_string_literal_bound() -> None:
    """String literals are at most 500 characters."""
    parse_guard("name == '" + "a" * 500 + "'", SPAN)
    diagnostic = only("name == '" + "a" * 501 + "'")
    assert diagnostic.code == "guard-limit"
    assert diagnostic.span.column == COLUMN + 8


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\u202e", "\u2028", "\ufeff"])
def test_control_characters_are_rejected_with_position(char: str) -> None:
    """NUL, other C0 controls, bidi overrides and separators are refused where they occur."""
    diagnostic = only(f"count > 1{char}")
    assert diagnostic.code == "guard-limit"
    assert diagnostic.span.column == COLUMN + 9
    assert f"U+{ord(char):04X}" in diagnostic.message


def test_escaped_control_character_in_a_string_literal_is_rejected() -> None:
    """`'\\x00'` written as an escape produces a NUL value: rejected too."""
    assert only("name == '\\x00'").code == "guard-limit"


def test_tabs_and_newlines_are_allowed() -> None:
    """Whitespace a YAML block scalar may contain is fine."""
    expr = parse_guard("(count > 1\tand\r\n flag)", SPAN)
    assert isinstance(expr, n.BoolOp)
    assert expr.op == "and"
    compare, flag = expr.values
    assert isinstance(compare, n.Compare)
    assert n.path_of(compare.left) == ("count",)
    assert n.path_of(flag) == ("flag",)
