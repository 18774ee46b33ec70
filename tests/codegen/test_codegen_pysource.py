"""Source emission for spec texts: literals denote exactly the text, docstrings cannot break."""

from __future__ import annotations

import ast
import time

from hypothesis import example, given, settings
from hypothesis import strategies as st

from codegen.pysource import (
    LINE_LENGTH,
    Atom,
    Group,
    Pair,
    Text,
    annotation_layout,
    assignment,
    comment_text,
    display_width,
    docstring,
    exempt_overlong,
    fitted_string_literal,
    from_import,
    import_order,
    json_node,
    layout,
    literal_width,
    module_key,
    natural_compare,
    string_literal,
    text_pieces,
)

HOSTILE = st.lists(
    st.text(st.characters(codec="utf-8"), max_size=8)
    | st.sampled_from(['"', "'", "\\", "\n", '"""', "\r", "\u2028", "\u202e", "\x00", " "])
    # wide, fullwidth and zero-width characters
    | st.sampled_from(["中文", "\uff57\uff49\uff44\uff45", "e\u0301", "한국어 ", "😀"]),
    max_size=40,
).map("".join)


@settings(max_examples=300)
@given(HOSTILE)
def test_string_literal_round_trips(text: str) -> None:
    """A string literal evaluates to exactly the text it was made from, whatever the text."""
    literal = string_literal(text)
    assert ast.literal_eval(literal) == text
    assert "\n" not in literal


@settings(max_examples=200)
@given(HOSTILE)
def test_text_pieces_concatenate_to_the_text(text: str) -> None:
    """Cutting a long text into quoted pieces loses and adds nothing, and pieces fit the width."""
    pieces = text_pieces(text, 60)
    assert "".join(pieces) == text
    assert all(display_width(string_literal(p)) <= 60 for p in pieces if len(p) > 1)


@settings(max_examples=300)
@given(HOSTILE)
def test_literal_width_is_the_width_of_the_literal(text: str) -> None:
    """The width text_pieces keeps track of is the display width of the literal it prints."""
    assert literal_width(text) == display_width(string_literal(text))


def test_display_width_counts_columns_like_ruff() -> None:
    """Wide and fullwidth characters take two columns, combining marks none (ruff's E501)."""
    assert display_width("abc") == 3
    assert display_width("中文ab") == 6
    assert display_width("\uff57\uff49\uff44\uff45") == 8
    assert display_width("e\u0301") == 1
    assert display_width("naïve") == 5


def test_text_pieces_takes_linear_time() -> None:
    """A long unbroken default is cut in one pass: 100,000 characters in well under a second
    (re-quoting the rest of the text for every piece took minutes)."""
    text = "A" * 100_000
    started = time.perf_counter()
    pieces = text_pieces(text, 88)
    assert time.perf_counter() - started < 4
    assert "".join(pieces) == text
    assert {len(piece) for piece in pieces[:-1]} == {86}


@settings(max_examples=200)
@given(st.lists(HOSTILE | st.just("/"), max_size=12).map("".join), st.integers(0, 90))
@example("../" * 40 + "specs/content_pipeline.yaml", len("SPEC_PATH: Final = "))
# escapes of the whole text (after "\n", the fullwidth letters are reported) apply to pieces
@example("00\n中文\uff57\uff49\uff44\uff45\x1f00000\x1f" + "\u2028" * 7 + "////" + "0" * 40, 0)
def test_fitted_string_literal_denotes_the_text_within_the_line_length(
    text: str, prefix_width: int
) -> None:
    """Short texts stay one literal; long ones become parenthesised pieces that fit the line."""
    literal = fitted_string_literal(text, prefix_width)
    assert ast.literal_eval(literal) == text
    lines = literal.splitlines()
    if len(lines) == 1:
        assert prefix_width + display_width(literal) <= LINE_LENGTH
    else:
        assert lines[0] == "("
        assert lines[-1] == ")"
        assert all(display_width(line) <= LINE_LENGTH for line in lines)


@settings(max_examples=300)
@given(HOSTILE)
@example("well-known-" * 20)  # wrapping must not break words at hyphens
def test_docstring_is_one_string_statement(text: str) -> None:
    """A docstring made from any text parses as a single string constant with the same words."""
    source = f"def f():\n    {docstring(text, '    ')}\n"
    tree = ast.parse(source)
    body = tree.body[0].body  # type: ignore[attr-defined]
    assert len(body) == 1
    value = body[0].value.value
    assert isinstance(value, str)
    if text.split():
        assert value.split() == " ".join(text.split()).split()


def test_docstring_lines_fit_in_display_columns() -> None:
    """Wrapping counts a wide character as two columns, so CJK prose keeps to the line length;
    a word longer than a line keeps a line of its own."""
    text = " ".join(["这是一个用于测试的中文描述"] * 12 + ["很长" * 60])
    lines = docstring(text, "    ").splitlines()
    assert len(lines) > 2
    assert all(4 + display_width(line) <= LINE_LENGTH for line in lines[:-2])
    assert lines[-2] == "    " + "很长" * 60


@given(HOSTILE)
def test_comment_text_stays_on_one_line(text: str) -> None:
    """Escaped comment text has no character that could end the comment's line."""
    escaped = comment_text(text)
    assert len(f"# {escaped}".splitlines()) <= 1


def test_layout_breaks_long_displays_one_item_per_line() -> None:
    """A display that does not fit goes one item per line with a trailing comma (ruff style)."""
    data = {"key": ["x" * 40, "y" * 40, {"nested": "z " * 60}]}
    text = layout(json_node(data), "", 0)
    assert ast.literal_eval(text) == data
    assert all(len(line) <= LINE_LENGTH for line in text.splitlines())
    assert text.splitlines()[1] == '    "key": ['
    assert layout(json_node({"a": 1}), "", 0) == '{"a": 1}'


def test_layout_of_a_call_with_keyword_arguments() -> None:
    """Keyword arguments print as name=value, long string values in parentheses."""
    call = Group("f(", (Pair("a", "=", Text("word " * 30)),), ")")
    text = layout(call, "", 0)
    assert text.startswith("f(\n    a=(\n")
    assert ast.literal_eval(text[2:-1].strip().removeprefix("a=").rstrip(",")) == "word " * 30


def test_import_order_matches_isort() -> None:
    """Constants, then classes, then functions, each case-insensitively (ruff's I001 order)."""
    names = ["default_agents", "Brief", "JSON_SCHEMAS", "audience", "AgentCall", "ZOO"]
    assert import_order(names) == (
        "JSON_SCHEMAS",
        "ZOO",
        "AgentCall",
        "Brief",
        "audience",
        "default_agents",
    )


def test_import_order_is_natural_like_ruffs_isort() -> None:
    """Digit runs compare as numbers, as ruff's isort (the natord crate) compares them."""
    names = ["Item10", "Item9", "ITEM_10", "ITEM_9", "step10", "step9", "Step2"]
    assert import_order(names) == (
        "ITEM_9",
        "ITEM_10",
        "Item9",
        "Item10",
        "Step2",
        "step9",
        "step10",
    )
    modules = ["step10", "step9", "Step10", "step_1", "a01", "a1", "a001"]
    assert sorted(modules, key=module_key) == [
        "a001",
        "a01",
        "a1",
        "step9",
        "Step10",
        "step10",
        "step_1",
    ]


def test_natural_compare() -> None:
    """Runs of digits compare by value, runs starting with 0 digit by digit (like fractions)."""
    assert natural_compare("a9", "a10") == -1
    assert natural_compare("a10", "a9") == 1
    assert natural_compare("a010", "a09") == -1  # 0.10 < 0.9
    assert natural_compare("a1b", "a1") == 1
    assert natural_compare("x2y10", "x2y9") == 1
    assert natural_compare("same", "same") == 0


def test_a_long_string_that_fits_on_its_own_line_stays_one_literal() -> None:
    """A string too long for its line but not for the next one is one literal in parentheses,
    even with line breaks inside (ruff format would join pieces, or wrap a bare literal)."""
    text = "Free text written by the customer, in words.\nKeep it short, please.\n"
    pair = Pair('"description"', ": ", Text(text))
    assert layout(pair, " " * 16, 16, 1) == (
        f'"description": (\n{" " * 20}{string_literal(text)}\n{" " * 16})'
    )
    assert layout(Text("x" * 90), "    ", 20) == f'(\n        "{"x" * 90}"\n    )'


def test_assignment_parenthesizes_a_value_whose_opening_line_does_not_fit() -> None:
    """A call after a long ``name: type =`` goes in parentheses on the next lines, as ruff
    format puts it; after a short one it splits at its own brackets."""
    call = Group("attrs.field(", (Pair("factory", "=", Atom("list")),), ")")
    assert assignment(call, "    ", 95) == "(\n        attrs.field(factory=list)\n    )"
    assert assignment(call, "    ", 20) == "attrs.field(factory=list)"
    long_call = Group("attrs.field(", (Pair("default", "=", Atom("x" * 80)),), ")")
    assert assignment(long_call, "    ", 20) == f"attrs.field(\n        default={'x' * 80},\n    )"
    assert assignment(Atom("Mood.X"), "    ", 95) == "(\n        Mood.X\n    )"
    assert assignment(Atom("M" * 97), "    ", 20) == "M" * 97  # parentheses would not help


def test_annotation_layout_and_from_import_wrap_like_ruff() -> None:
    """Long return annotations go in parentheses, then one operand per line; long imports get
    one name per line."""
    short = "Decision | Awaitable[Decision]"
    assert annotation_layout(short, "    ", 9, 5) == short
    name = "D" * 38
    assert annotation_layout(f"{name} | Awaitable[{name}]", "    ", 9, 5) == (
        f"(\n        {name} | Awaitable[{name}]\n    )"
    )
    name = "D" * 50
    assert annotation_layout(f"{name} | Awaitable[{name}]", "    ", 9, 5) == (
        f"(\n        {name}\n        | Awaitable[{name}]\n    )"
    )
    assert from_import(".writer", ["writer"]) == "from .writer import writer"
    agent = "summarize_customer_feedback_for_the_weekly_report"
    assert from_import(f".{agent}", [agent]) == f"from .{agent} import (\n    {agent},\n)"


def test_ambiguous_characters_are_escaped_in_literals_docstrings_and_comments() -> None:
    """Characters ruff reports as ambiguous become escapes; others, and words of another
    script that ruff leaves alone, stay as written."""
    assert string_literal("it\u2019s \u2013 fine") == '"it\\u2019s \\u2013 fine"'
    assert (
        string_literal("na\u00efve \u0391\u03bb\u03c6\u03b1")
        == '"na\u00efve \u0391\u03bb\u03c6\u03b1"'
    )
    assert string_literal("\u0391\u0392") == '"\\u0391\\u0392"'  # no unambiguous letter
    assert docstring("Editors\u2019 call \u00d7 2", "") == '"""Editors\\u2019 call \\xd7 2"""'
    assert comment_text("specs/a\u2013b.yaml") == "specs/a\\u2013b.yaml"


def test_only_overlong_lines_with_spaces_are_exempted() -> None:
    """A line too long to wrap gets ``# noqa: E501``; a short line or one long word (which
    ruff does not report, and whose exemption RUF100 would report) does not."""
    long_name = "X" * LINE_LENGTH
    code = f"short = 1\n{long_name} = (\n    {'y' * LINE_LENGTH!r}\n)"
    assert exempt_overlong(code).split("\n") == [
        "short = 1",
        f"{long_name} = (  # noqa: E501",
        f"    {'y' * LINE_LENGTH!r}",
        ")",
    ]
