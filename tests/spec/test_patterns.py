"""Field patterns are refused when matching them could take exponential time or huge values."""

from __future__ import annotations

import re
import time

import pytest

from fsm.errors import SpecError
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


def test_nested_unbounded_repeat_is_refused_where_it_is_written() -> None:
    """`(a+)+b` takes seconds on 28 a's; it is refused in the contract (agent outputs) and in
    the context alike, at the pattern, with the equivalent single repeat as the fix."""
    found = problems_of('pattern: "(a+)+b"')
    assert [(line, column) for line, column, _, _ in found] == [(4, 29), (6, 27)]
    _, _, message, hint = found[0]
    assert "nests a repeat ('+') inside a repeat ('+')" in message
    assert "catastrophic backtracking" in message
    assert hint == "repeat once: 'a+b' matches the same strings"


@pytest.mark.parametrize(
    "pattern",
    ["(a+)+b", "(a*)*", r"(\w+\s?)+$", r"(\s*\w+)*$", "(x|y+)+", "(a{1,3}){1,50}", "(a?){20}a{20}"],
)
def test_catastrophic_patterns_are_refused(pattern: str) -> None:
    problem = pattern_problem(pattern)
    assert problem is not None
    assert "nests a repeat" in problem.message


@pytest.mark.parametrize(
    "pattern",
    [
        r"(\d{1,3}\.){3}\d{1,3}",  # small bounded repeats
        r"([a-z0-9-]+\.)+[a-z]{2,}",  # each repetition ends with a '.' the inner cannot match
        r"^[a-z]+(?:-[a-z]+)*$",  # each repetition starts with a '-'
        r"(-?\d)+",
        r"(?i)([a-z]+\.)+",
        r"(?>a+)+b",  # atomic and possessive: nothing to backtrack
        "(a++)+b",
        r"[\w.+-]+@[\w-]+\.[\w.]+",
        "[A-Z]{3}",
        "(ab|cd)+",
    ],
)
def test_common_safe_patterns_are_accepted(pattern: str) -> None:
    assert pattern_problem(pattern) is None


def test_accepted_patterns_match_adversarial_text_quickly() -> None:
    """What the check lets through stays fast on the inputs that break the refused ones."""
    for pattern in [r"([a-z0-9-]+\.)+[a-z]{2,}", r"^[a-z]+(?:-[a-z]+)*$", r"(\w+-)+x"]:
        assert pattern_problem(pattern) is None
        started = time.perf_counter()
        re.fullmatch(pattern, "a" * 5000 + "!")
        assert time.perf_counter() - started < 0.5


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
