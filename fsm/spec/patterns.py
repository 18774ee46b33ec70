"""What a field's ``pattern`` may be: a regex that every value can be checked against quickly.

Values are checked with ``re.fullmatch`` — context fields, agent outputs, event data — and
Python's regex engine backtracks: a repeat nested in a repeat, as in ``(a+)+b``, lets a string
that almost matches (``aaaa…a!``) be split between the two in exponentially many ways, and
``re.fullmatch("(a+)+b", "a" * 28)`` takes seconds. So a pattern is refused when

- it nests a repeat that can match a varying number of times (``+``, ``*``, ``?``, ``{1,3}``)
  inside another repeat, and either of the two is unbounded (``*``, ``+``, ``{n,}``) or may
  repeat more than ``SMALL_REPEAT`` times — unless the inner one repeats a single character
  and is always followed by a character it cannot match (``([a-z0-9-]+\\.)+``,
  ``(\\d{1,3}\\.){3}``, ``[a-z]+(?:-[a-z]+)*``), which leaves only one way to split.
  Possessive repeats and atomic groups do not backtrack and are exempt;
- it is longer than ``MAX_PATTERN_LENGTH``, repeats anything more than ``MAX_REPEAT`` times, or
  its shortest match is longer than ``MAX_MATCH_WIDTH`` (``(a{1000}){1000}``: a million
  characters, which no check or test can afford to build).

The nesting check is a walk of the tree ``re`` parses the pattern into (``re._parser``); it
does not catch every slow pattern (overlapping alternatives such as ``(a|a)+`` are not
examined), but it refuses the common shape of catastrophic backtracking.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:  # typeshed knows them by their old, deprecated names
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _constants, _parser

MAX_PATTERN_LENGTH = 1000
"""Characters a pattern may have."""
MAX_REPEAT = 1000
"""The largest count a repeat may give (``x{1000}``); longer values are what ``max_len`` is for."""
MAX_MATCH_WIDTH = 1000
"""The longest a pattern's shortest match may be (long strings are what ``min_len`` is for)."""
SMALL_REPEAT = 10
"""Nested bounded repeats up to this count backtrack little enough (``(\\d{1,3}\\.){3}``)."""

_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT)
_UNBOUNDED = _constants.MAXREPEAT


def match_lengths(pattern: str) -> tuple[int, int]:
    """Bounds on the length of every string ``pattern`` (known to compile) fully matches: the
    shortest, and the longest (huge when a repeat is unbounded)."""
    low, high = _parser.parse(pattern).getwidth()
    return low, high


@attrs.frozen
class PatternProblem:
    """Why a pattern is refused, and what to write instead."""

    message: str
    hint: str


def pattern_problem(pattern: str) -> PatternProblem | None:
    """Why ``pattern`` (already known to compile) is refused, or None when it is fine."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return PatternProblem(
            f"pattern is {len(pattern):,} characters long (the limit is {MAX_PATTERN_LENGTH:,})",
            "keep patterns short; check lengths with min_len/max_len instead",
        )
    parsed = _parser.parse(pattern)
    ignore_case = bool(parsed.state.flags & re.IGNORECASE)
    for problem in _walk(parsed.data, (), ignore_case, None):
        return _explain(pattern, problem)
    shortest = parsed.getwidth()[0]
    if shortest > MAX_MATCH_WIDTH:
        return PatternProblem(
            f"pattern {pattern!r} only matches strings of at least {shortest:,} characters "
            f"(the limit is {MAX_MATCH_WIDTH:,})",
            "lower the repeat counts; check lengths with min_len/max_len instead",
        )
    return None


@attrs.frozen
class _Repeat:
    low: int
    high: int

    @property
    def unbounded(self) -> bool:
        return self.high == _UNBOUNDED

    @property
    def many(self) -> bool:
        return self.unbounded or self.high > SMALL_REPEAT

    def __str__(self) -> str:
        if self.unbounded:
            return {0: "*", 1: "+"}.get(self.low, f"{{{self.low},}}")
        if (self.low, self.high) == (0, 1):
            return "?"
        return f"{{{self.low}}}" if self.low == self.high else f"{{{self.low},{self.high}}}"


@attrs.frozen
class _Nested:
    outer: _Repeat
    inner: _Repeat


@attrs.frozen
class _TooMany:
    repeat: _Repeat


_Problem = _Nested | _TooMany


_Item = tuple[Any, Any]


def _walk(
    items: Sequence[_Item], outers: tuple[_Repeat, ...], ignore_case: bool, after: _Item | None
) -> Iterator[_Problem]:
    """Problems in a sequence of parsed items inside the repeats ``outers`` (max > 1);
    ``after`` is what follows the sequence's end within one repetition of the innermost of
    them: the start of the next repetition, or what follows a group."""
    for index, (op, av) in enumerate(items):
        follows = items[index + 1] if index + 1 < len(items) else after
        if op in _REPEATS or op == _constants.POSSESSIVE_REPEAT:
            low, high, body = av
            repeat = _Repeat(low, high)
            if low > MAX_REPEAT or (not repeat.unbounded and high > MAX_REPEAT):
                yield _TooMany(repeat)
            backtracks = op in _REPEATS and low < high
            if backtracks and not _separated(body, follows, ignore_case):
                for outer in outers:
                    if outer.many or repeat.many:
                        yield _Nested(outer, repeat)
            if high > 1 and op in _REPEATS:
                yield from _walk(body, (*outers, repeat), ignore_case, body[0] if body else None)
            else:
                yield from _walk(body, outers, ignore_case, follows)
        elif op == _constants.SUBPATTERN:
            _group, add_flags, _del_flags, body = av
            case = ignore_case or bool(add_flags & re.IGNORECASE)
            yield from _walk(body, outers, case, follows)
        elif op == _constants.BRANCH:
            for alternative in av[1]:
                yield from _walk(alternative, outers, ignore_case, follows)
        elif op == _constants.ATOMIC_GROUP:
            yield from _walk(av, (), ignore_case, None)  # nothing inside it is ever retried
        elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
            yield from _walk(av[1], outers, ignore_case, None)
        elif op == _constants.GROUPREF_EXISTS:
            _group, yes, no = av
            yield from _walk(yes, outers, ignore_case, follows)
            if no is not None:
                yield from _walk(no, outers, ignore_case, follows)


def _separated(body: Sequence[_Item], follows: _Item | None, ignore_case: bool) -> bool:
    """Whether a repeat of the one-character ``body`` is always followed by one required
    character it cannot match: then where each repetition ends is certain, and there is
    nothing to backtrack over (``[a-z]+\\.``, ``(?:-[a-z]+)*``, ``(-?\\d)+``). False whenever
    unsure."""
    leading = _leading(follows)
    if len(body) != 1 or leading is None:
        return False
    for tested, listed in ((body[0], leading), (leading, body[0])):
        matches, chars = _char_test(*tested), _chars_of(*listed)
        if matches is None or chars is None:
            continue
        if ignore_case:
            chars = [v for c in chars for v in (c, c.lower(), c.upper(), c.casefold())]
        return not any(matches(char) for char in chars)
    return False


def _leading(item: _Item | None) -> _Item | None:
    """The one-character item that must come first in what ``item`` matches, if any."""
    while item is not None:
        op, av = item
        if op == _constants.SUBPATTERN and av[3]:
            item = av[3][0]
        elif op in (*_REPEATS, _constants.POSSESSIVE_REPEAT) and av[0] >= 1 and av[2]:
            item = av[2][0]
        else:
            return item
    return None


def _char_test(op: Any, av: Any) -> Callable[[str], bool] | None:
    """A test for the characters one item matches, or None when it is not a single character."""
    if op == _constants.LITERAL:
        return lambda char: ord(char) == av
    if op == _constants.NOT_LITERAL:
        return lambda char: ord(char) != av
    if op == _constants.ANY:
        return lambda char: char != "\n"
    if op == _constants.IN:
        tests = [_set_member_test(member, value) for member, value in av]
        if any(test is None for test in tests):
            return None
        return lambda char: any(test(char) for test in tests if test is not None)
    return None


_CATEGORIES = {
    _constants.CATEGORY_DIGIT: r"\d",
    _constants.CATEGORY_NOT_DIGIT: r"\D",
    _constants.CATEGORY_SPACE: r"\s",
    _constants.CATEGORY_NOT_SPACE: r"\S",
    _constants.CATEGORY_WORD: r"\w",
    _constants.CATEGORY_NOT_WORD: r"\W",
}


def _set_member_test(member: Any, value: Any) -> Callable[[str], bool] | None:
    if member == _constants.NEGATE:
        return None  # [^...]: left to the conservative answer
    if member == _constants.LITERAL:
        return lambda char: ord(char) == value
    if member == _constants.RANGE:
        low, high = value
        return lambda char: low <= ord(char) <= high
    if member == _constants.CATEGORY and value in _CATEGORIES:
        compiled = re.compile(_CATEGORIES[value])
        return lambda char: compiled.fullmatch(char) is not None
    return None


def _chars_of(op: Any, av: Any) -> list[str] | None:
    """Every character a required one-character item can match, when there are few."""
    if op == _constants.LITERAL:
        return [chr(av)]
    if op != _constants.IN:
        return None
    chars: list[str] = []
    for member, value in av:
        if member == _constants.LITERAL:
            chars.append(chr(value))
        elif member == _constants.RANGE and value[1] - value[0] < 256:
            chars.extend(chr(code) for code in range(value[0], value[1] + 1))
        elif member == _constants.CATEGORY and value == _constants.CATEGORY_SPACE:
            chars.extend(_spaces())
        else:
            return None
    return chars


@functools.cache
def _spaces() -> tuple[str, ...]:
    """The characters ``\\s`` matches (all below U+3001)."""
    return tuple(chr(code) for code in range(0x3001) if re.fullmatch(r"\s", chr(code)))


_SIMPLE_NESTING = re.compile(r"\((?:\?:)?(\\.|\[[^\]]*\]|[^()|\\\[\]])([+*])\)([+*])")
"""``(X+)+`` and the like, X one atom: a character, an escape or a class."""


def _explain(pattern: str, problem: _Problem) -> PatternProblem:
    if isinstance(problem, _TooMany):
        return PatternProblem(
            f"pattern {pattern!r} repeats something {problem.repeat} times "
            f"(the most a repeat may give is {MAX_REPEAT:,})",
            "use a smaller count, and min_len/max_len to bound the length",
        )
    inner, outer = problem.inner, problem.outer
    message = (
        f"pattern {pattern!r} nests a repeat ('{inner}') inside a repeat ('{outer}'): on a "
        "string that almost matches, the regex engine tries every way of splitting it between "
        "the two, which takes exponential time (catastrophic backtracking); every value is "
        "checked against this pattern, agent outputs included"
    )
    rewrite = _SIMPLE_NESTING.sub(_merged, pattern)
    if rewrite != pattern and _compiles(rewrite) and pattern_problem(rewrite) is None:
        hint = f"repeat once: {rewrite!r} matches the same strings"
    else:
        hint = (
            "repeat once instead of nesting ('a+b', not '(a+)+b'), or end each outer "
            "repetition with a character the inner repeat cannot match ('([a-z]+,)+')"
        )
    return PatternProblem(message, hint)


def _merged(match: re.Match[str]) -> str:
    """``(X+)+`` → ``X+``; ``(X*)+``, ``(X+)*``, ``(X*)*`` → ``X*``."""
    atom, inner, outer = match.groups()
    return atom + ("+" if inner == outer == "+" else "*")


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True
