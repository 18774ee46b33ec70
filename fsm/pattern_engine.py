"""Matching a field's ``pattern`` with RE2, whose time is linear in the string's length.

Every context value, agent output and event datum is checked against its field's pattern, and
Python's ``re`` backtracks: ``(a|aa)+`` on a thousand a's and a ``!`` never finishes, and no
timeout can interrupt a running match. RE2 (the ``google-re2`` package) never backtracks, so
no pattern can make a check slow; the price is its syntax, which has no lookarounds,
backreferences, possessive repeats or atomic groups, and classes ``\\d \\w \\s \\b`` that are
ASCII only. Where a pattern must still be read by Python's ``re`` (its match lengths for spec
checks, test values drawn by hypothesis for ``fsm check``), ``python_pattern`` compiles it with
``re.ASCII`` so that both engines give the classes the same meaning.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any, Protocol

import attrs
import re2  # type: ignore[import-untyped]  # google-re2 ships no type hints


class Matcher(Protocol):
    """A compiled pattern; ``fullmatch`` is not None when the whole text matches."""

    def fullmatch(self, text: str) -> object | None: ...


class PatternSyntaxError(ValueError):
    """RE2 cannot compile the pattern; the message says why, in RE2's words."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # RE2 would print each syntax error to stderr
    options.never_capture = True  # only "matches or not" is asked: groups are not recorded
    return options


_OPTIONS = _options()


class _PlainTextMatcher:
    """RE2's compiled pattern, handed the plain ``str`` a value holds.

    Why: the ``re2`` module reads a text through its ``encode()`` and ``len()``, which a ``str``
    subclass may override (an agent's output type, say): RE2 would then match other text than
    the value holds, and a value breaking the pattern would be accepted and recorded."""

    __slots__ = ("_fullmatch",)

    def __init__(self, compiled: Any) -> None:
        self._fullmatch: Callable[[str], object | None] = compiled.fullmatch

    def fullmatch(self, text: str) -> object | None:
        return self._fullmatch(str.__str__(text))  # a subclass's exact text, as a plain str


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> Matcher:
    """``pattern`` compiled by RE2 for full matching (cached: values are checked one by one).

    Raises ``PatternSyntaxError`` for what RE2 does not support or cannot parse."""
    try:
        return _PlainTextMatcher(re2.compile(pattern, _OPTIONS))
    except re2.error as error:
        reason = error.args[0] if error.args else "cannot compile"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternSyntaxError(str(reason)) from None


def fully_matches(pattern: str, text: str) -> bool:
    """Whether all of ``text`` (valid Unicode) matches ``pattern``, in linear time."""
    return compile_pattern(pattern).fullmatch(text) is not None


def python_pattern(pattern: str) -> re.Pattern[str]:
    """``pattern`` for Python's ``re`` (parsing, hypothesis), with RE2's ASCII classes."""
    return re.compile(pattern, re.ASCII)


@attrs.frozen
class matches_pattern:  # noqa: N801  # named like the attrs validators it stands beside
    """An attrs validator: the value must fully match ``pattern`` under RE2 (what generated
    contract classes use instead of ``attrs.validators.matches_re``, which backtracks)."""

    pattern: str
    _matcher: Matcher = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_matcher", compile_pattern(self.pattern))

    def __call__(self, instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, str):
            raise TypeError(f"'{attribute.name}' must be a str matching {self.pattern!r}")
        try:
            matched = self._matcher.fullmatch(value)
        except UnicodeEncodeError:  # a lone surrogate: no text at all
            matched = None
        if matched is None:
            raise ValueError(f"'{attribute.name}' must match {self.pattern!r} ({value!r} doesn't)")
