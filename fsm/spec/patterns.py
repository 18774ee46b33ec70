"""What a field's ``pattern`` may be: a regex RE2 can match, of a size values can meet.

Values are checked with RE2 (``fsm.pattern_engine``) — context fields, agent outputs, event
data — whose time is linear in the string's length whatever the pattern: a repeat nested in a
repeat (``(a+)+b``) or overlapping alternatives (``(a|aa)+``), which make a backtracking engine
such as Python's ``re`` run for hours on a string that almost matches, cost nothing special.
So a pattern is refused when

- RE2 cannot compile it: lookarounds, backreferences, possessive repeats, atomic groups and
  conditionals are what makes linear time impossible, and RE2 has none of them;
- its syntax means something else to Python's ``re`` (which measures match lengths here and
  draws test values for ``fsm check``): ``x{,3}`` and ``x{02}`` are repeats there and literal
  text in RE2 (which takes no leading zeros in a count),
  and ``[[:alpha:]]`` a POSIX class in RE2 and a set of ``[:alph`` there;
- it is longer than ``MAX_PATTERN_LENGTH``, repeats anything more than ``MAX_REPEAT`` times
  (RE2's own limit), or its shortest match is longer than ``MAX_MATCH_WIDTH``
  (``(a{1000}){1000}``: a million characters, which no check or test can afford to build).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from fsm.pattern_engine import PatternSyntaxError, compile_pattern

if TYPE_CHECKING:  # typeshed knows them by their old, deprecated names
    import sre_constants as _constants
    import sre_parse as _parser
else:
    from re import _constants, _parser

MAX_PATTERN_LENGTH = 1000
"""Characters a pattern may have."""
MAX_REPEAT = 1000
"""The largest count a repeat may give (``x{1000}``, RE2's limit too); longer values are what
``max_len`` is for."""
MAX_MATCH_WIDTH = 1000
"""The longest a pattern's shortest match may be (long strings are what ``min_len`` is for)."""

_REPEATS = (_constants.MAX_REPEAT, _constants.MIN_REPEAT, _constants.POSSESSIVE_REPEAT)
_UNBOUNDED = _constants.MAXREPEAT


def match_lengths(pattern: str) -> tuple[int, int]:
    """Bounds on the length of every string ``pattern`` (known to compile) fully matches: the
    shortest, and the longest (huge when a repeat is unbounded)."""
    low, high = _parser.parse(pattern, re.ASCII).getwidth()
    return low, high


@attrs.frozen
class PatternProblem:
    """Why a pattern is refused, and what to write instead."""

    message: str
    hint: str


def pattern_problem(pattern: str) -> PatternProblem | None:
    """Why ``pattern`` (already known to compile with ``re.ASCII``) is refused, or None when
    it is fine."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return PatternProblem(
            f"pattern is {len(pattern):,} characters long (the limit is {MAX_PATTERN_LENGTH:,})",
            "keep patterns short; check lengths with min_len/max_len instead",
        )
    parsed = _parser.parse(pattern, re.ASCII)
    for item in _items(parsed.data):
        problem = _unsupported(pattern, item) or _too_many(pattern, item)
        if problem is not None:
            return problem
    shortest = parsed.getwidth()[0]
    if shortest > MAX_MATCH_WIDTH:
        return PatternProblem(
            f"pattern {pattern!r} only matches strings of at least {shortest:,} characters "
            f"(the limit is {MAX_MATCH_WIDTH:,})",
            "lower the repeat counts; check lengths with min_len/max_len instead",
        )
    return _ambiguous(pattern) or _re2_problem(pattern)


_Item = tuple[Any, Any]


def _items(items: Sequence[_Item]) -> Iterator[_Item]:
    """Every item of a parsed pattern, nested ones included, in the order they are written."""
    for op, av in items:
        yield op, av
        if op in _REPEATS:
            yield from _items(av[2])
        elif op == _constants.SUBPATTERN:
            yield from _items(av[3])
        elif op == _constants.BRANCH:
            for alternative in av[1]:
                yield from _items(alternative)
        elif op == _constants.ATOMIC_GROUP:
            yield from _items(av)
        elif op in (_constants.ASSERT, _constants.ASSERT_NOT):
            yield from _items(av[1])
        elif op == _constants.GROUPREF_EXISTS:
            yield from _items(av[1])
            if av[2] is not None:
                yield from _items(av[2])


_RE2_DOES_NOT_SUPPORT = "RE2 (linear-time matching) does not support"


def _unsupported(pattern: str, item: _Item) -> PatternProblem | None:
    """The construct of ``item`` RE2 lacks, named, with a way around it."""
    op, av = item
    if op in (_constants.ASSERT, _constants.ASSERT_NOT):
        direction, negative = ("lookahead" if av[0] == 1 else "lookbehind"), op != _constants.ASSERT
        what = f"{'a negative' if negative else 'a'} {direction}"
        hint = (
            "rewrite without lookarounds: match the text itself, and check other conditions "
            "in a guard"
        )
    elif op == _constants.GROUPREF:
        what = "a backreference"
        hint = "rewrite without backreferences: a pattern cannot require two parts to be equal"
    elif op == _constants.GROUPREF_EXISTS:
        what = "a conditional group '(?(…)…|…)'"
        hint = "rewrite without the conditional: write both cases as alternatives ('a|b')"
    elif op == _constants.POSSESSIVE_REPEAT:
        what = "a possessive repeat ('++', '*+', '?+')"
        hint = "rewrite without possessive repeats: a plain repeat is as fast in RE2"
    elif op == _constants.ATOMIC_GROUP:
        what = "an atomic group '(?>…)'"
        hint = "rewrite without atomic groups: a plain group '(?:…)' is as fast in RE2"
    else:
        return None
    return PatternProblem(f"pattern {pattern!r} uses {what}: {_RE2_DOES_NOT_SUPPORT} it", hint)


def _too_many(pattern: str, item: _Item) -> PatternProblem | None:
    op, av = item
    if op not in _REPEATS:
        return None
    low, high, _body = av
    if low <= MAX_REPEAT and (high == _UNBOUNDED or high <= MAX_REPEAT):
        return None
    count = f"{{{low},}}" if high == _UNBOUNDED else f"{{{low},{high}}}"
    return PatternProblem(
        f"pattern {pattern!r} repeats something {count} times "
        f"(the most a repeat may give is {MAX_REPEAT:,})",
        "use a smaller count, and min_len/max_len to bound the length",
    )


_MISREAD = re.compile(
    r"""
    \\.                            # an escaped character is itself in both engines
    | \[\^?\]?(?:\\.|[^\]])*?\[:   # '[[:alpha:]]': a POSIX class in RE2, not in re
    | \[\^?\]?(?:\\.|[^\]])*\]     # any other set
    | (?P<open>\{,\d*\})           # 'x{,3}': a repeat in re, literal text in RE2
    | (?P<zero>\{(?:0\d+(?:,\d*)?|\d+,0\d+)\})  # 'x{02}': the same, its count zero-padded
    """,
    re.VERBOSE,
)


def _ambiguous(pattern: str) -> PatternProblem | None:
    """Syntax that RE2 and Python's ``re`` both accept but read differently."""
    for found in _MISREAD.finditer(pattern):
        text = found.group()
        if found.group("open") is not None:
            return PatternProblem(
                f"pattern {pattern!r} has {text!r}, which RE2 reads as literal text and "
                "Python's re as a repeat",
                f"write the lower bound: {_unpadded('{0,' + text[2:])!r}",
            )
        if found.group("zero") is not None:
            return PatternProblem(
                f"pattern {pattern!r} has {text!r}, which RE2 reads as literal text (it takes no"
                " leading zeros in a count) and Python's re as a repeat",
                f"write the count without leading zeros: {_unpadded(text)!r}",
            )
        if text.endswith("[:"):
            return PatternProblem(
                f"pattern {pattern!r} has a POSIX class '[[:…:]]', which RE2 and Python's re "
                "read differently",
                "list the characters instead ('[a-zA-Z]' for '[[:alpha:]]')",
            )
    return None


def _unpadded(count: str) -> str:
    """A repeat count such as ``{02,05}`` as RE2 takes it: ``{2,5}``."""
    return re.sub(r"\b0+(?=\d)", "", count)


def _re2_problem(pattern: str) -> PatternProblem | None:
    """Whatever else keeps RE2 from compiling ``pattern`` (``\\Z``, a program too large)."""
    try:
        compile_pattern(pattern)
    except PatternSyntaxError as error:
        hint = "rewrite the pattern in the syntax RE2 and Python's re share"
        if "\\Z" in str(error):
            hint = "write '$' for the end of the text"  # Python's re has no '\z' before 3.14
        elif "repetition size" in str(error):
            hint = (
                f"repeats nested in repeats may multiply to at most {MAX_REPEAT:,} in RE2: "
                "lower the counts, and bound the length with min_len/max_len"
            )
        return PatternProblem(f"{_RE2_DOES_NOT_SUPPORT} pattern {pattern!r}: {error}", hint)
    return None
