"""Field patterns are refused when RE2 cannot match them (linear time) or values would be huge."""

from __future__ import annotations

import re

import pytest

from fsm.errors import SpecError
from fsm.pattern_engine import fully_matches
from fsm.spec.parse_fields import MAX_MIN_LEN
from fsm.spec.patterns import MAX_MATCH_WIDTH, MAX_PATTERN_LENGTH, MAX_REPEAT, pattern_problem
from fsm.spec.validate import checked_from_text

SPEC = """\
workflow: w
contracts:
  Out:
    s: {{type: str, {constraint}}}
context:
  s: {{type: str, {constraint}}}
agents:
  writer: {{output: Out}}
states:
  a: {{agent: writer}}
  b: {{final: true}}
initial: a
transitions:
  a: [{{to: b}}]
"""


def problems_of(constraint: str) -> list[tuple[int, int, str, str | None]]:
    with pytest.raises(SpecError) as caught:
        checked_from_text(SPEC.format(constraint=constraint), "p.yaml")
    return [(d.span.line, d.span.column, d.message, d.hint) for d in caught.value.diagnostics]


def test_lookaround_is_refused_where_it_is_written() -> None:
    """RE2 matches in linear time because it has no lookarounds: one is refused at the pattern,
    in the contract (agent outputs) and in the context alike, saying how to do without."""
    found = problems_of('pattern: "(?=.*[0-9])[a-z0-9]+"')
    assert [(line, column) for line, column, _, _ in found] == [(4, 29), (6, 27)]
    _, _, message, hint = found[0]
    assert "uses a lookahead: RE2 (linear-time matching) does not support it" in message
    assert hint is not None
    assert hint.startswith("rewrite without lookarounds")


def test_backreference_is_refused_where_it_is_written() -> None:
    found = problems_of(r'pattern: "(a)\\1"')
    assert [(line, column) for line, column, _, _ in found] == [(4, 29), (6, 27)]
    _, _, message, hint = found[0]
    assert "uses a backreference: RE2 (linear-time matching) does not support it" in message
    assert hint is not None
    assert hint.startswith("rewrite without backreferences")


@pytest.mark.parametrize(
    ("pattern", "what"),
    [
        ("(?!a)b", "a negative lookahead"),
        ("(?<=a)b", "a lookbehind"),
        ("(?<!a)b", "a negative lookbehind"),
        ("(?P<x>a)(?P=x)", "a backreference"),
        ("a++", "a possessive repeat"),
        ("(?>a+)b", "an atomic group"),
        ("(a)?(?(1)b|c)", "a conditional group"),
    ],
)
def test_what_re2_lacks_is_refused_by_name(pattern: str, what: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None
    assert f"uses {what}" in problem.message
    assert "RE2 (linear-time matching) does not support it" in problem.message
    assert problem.hint.startswith("rewrite without")


@pytest.mark.parametrize(
    ("pattern", "hint"),
    [
        ("a{,3}", "write the lower bound: '{0,3}'"),
        (r"\d{02}", "write the count without leading zeros: '{2}'"),
        ("[0-9]{2,04}", "write the count without leading zeros: '{2,4}'"),
        ("[a[:alpha:]]+", "list the characters instead"),
        (r"a\Z", "write '$'"),
        ("(a{0,100}){0,100}", "repeats nested in repeats may multiply to at most 1,000"),
    ],
)
def test_syntax_the_engines_read_differently_or_re2_refuses_is_refused(
    pattern: str, hint: str
) -> None:
    """``x{,3}`` is a repeat to Python's re (which draws fsm check's values) and literal text to
    RE2 (which checks them): accepting it would make the two disagree on every value."""
    problem = pattern_problem(pattern)
    assert problem is not None
    assert problem.hint.startswith(hint)


@pytest.mark.parametrize(
    ("pattern", "rewrite"),
    [(r"\d{02}", r"\d{2}"), ("a{,05}", "a{0,5}"), (r"ab\Z", "ab$")],
)
def test_the_rewrite_a_hint_names_is_accepted(pattern: str, rewrite: str) -> None:
    """RE2 takes no leading zeros in a count: ``\\d{02}`` was accepted, then refused ``12`` at
    run time (it matched the text ``1{02}``) while fsm check drew ``12`` from Python's reading.
    The hint for ``\\Z`` offered ``\\z``, which Python's re (before 3.14) refuses in turn."""
    problem = pattern_problem(pattern)
    assert problem is not None
    assert (rewrite[rewrite.index("{") :] if "{" in rewrite else "'$'") in problem.hint
    assert "\\z" not in problem.hint
    assert pattern_problem(rewrite) is None


def test_a_zero_padded_count_is_literal_text_to_re2() -> None:
    """Why ``x{02}`` is refused: the two engines disagree on every value."""
    assert re.fullmatch(r"\d{02}", "12") is not None
    assert not fully_matches(r"\d{02}", "12")
    assert fully_matches(r"\d{02}", "1{02}")


def test_a_set_inside_a_set_is_refused_not_warned_about() -> None:
    """``[[:alpha:]]`` is a POSIX class to RE2 and a set of ``[:alph`` to Python's re, which
    warns that a future version will read it differently: an error, not a FutureWarning."""
    ((line, column, message, hint),) = problems_of('pattern: "[[:alpha:]]+"')[:1]
    assert (line, column) == (4, 31)  # the inner '['
    assert "possible nested set" in message
    assert hint is not None
    assert "escape" in hint


@pytest.mark.parametrize(
    "pattern",
    [
        "(a+)+b",  # nested and overlapping repeats cost nothing special in RE2
        "(a*)*",
        r"(\w+\s?)+$",
        "(x|y+)+",
        "(a|aa)+",
        "(a{1,10}){10}b",
        r"(\d{1,3}\.){3}\d{1,3}",
        r"([a-z0-9-]+\.)+[a-z]{2,}",
        r"^[a-z]+(?:-[a-z]+)*$",
        r"(?i)([a-z]+\.)+",
        r"[\w.+-]+@[\w-]+\.[\w.]+",
        r"\{,3}",  # escaped: literal in both engines
        "[{,3}]",
        "[A-Z]{3}",
        "(ab|cd)+",
    ],
)
def test_common_and_formerly_catastrophic_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_sizes_are_bounded() -> None:
    """Huge patterns, counts and shortest matches are refused, each saying the limit."""
    too_long = pattern_problem("a" * (MAX_PATTERN_LENGTH + 1))
    assert too_long is not None
    assert f"the limit is {MAX_PATTERN_LENGTH:,}" in too_long.message
    many = pattern_problem(f"x{{0,{MAX_REPEAT + 1}}}")
    assert many is not None
    assert f"the most a repeat may give is {MAX_REPEAT:,}" in many.message
    wide = pattern_problem("(a{1000}){1000}")
    assert wide is not None
    assert "at least 1,000,000 characters" in wide.message
    assert f"the limit is {MAX_MATCH_WIDTH:,}" in wide.message
    assert pattern_problem(f"[ab]{{{MAX_REPEAT}}}") is None


def test_absurd_min_len_is_refused() -> None:
    """A value that must hold 100,000,000 items cannot be built or checked (fsm check reached
    820 MB on such a list even when no guard read it)."""
    found = problems_of("min_len: 100000000")
    assert [(line, column) for line, column, _, _ in found] == [(4, 20), (6, 18)]
    assert f"the limit for a str is {MAX_MIN_LEN['str']:,}" in found[0][2]
    text = SPEC.format(constraint="min_len: 1")
    text = text.replace(
        "  s: {type: str, min_len: 1}\nagents", "  s: {type: 'list[int]', min_len: 1001}\nagents"
    )
    with pytest.raises(SpecError) as caught:
        checked_from_text(text, "p.yaml")
    (diagnostic,) = caught.value.diagnostics
    assert "'min_len' is 1,001 in context field 's'" in diagnostic.message
    assert "the limit for a list is 1,000" in diagnostic.message
