"""What ruff would report in generated code because of spec text, and what codegen does about it.

**Ambiguous characters: escaped.** Descriptions, defaults and enum values keep characters
(typographic apostrophes and dashes, a multiplication sign, a fullwidth comma) that ruff
reports as ambiguous (RUF001 in strings, RUF002 in docstrings, RUF003 in comments). Every one is
written as an escape (``\\u2019``) wherever spec text lands: string literals, docstrings and
comments (``codegen.pysource``). Exempting docstrings instead would not be enough: ruff treats
a field's docstring (a string after the attribute) as a string, so the file would need RUF001
exempted too, which would also hide an unescaped data literal. An escape denotes the same
text (``__doc__`` and ``help()`` show the original), a reader sees exactly which code points a
value holds, and nothing is left for a directive to go stale on. ``CONFUSABLES`` is ruff's
table; ``tests/codegen/test_codegen_lint.py`` checks it against the installed ruff.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from codegen.confusables import CONFUSABLES


def ambiguous_positions(text: str) -> list[int]:
    """The indices of the characters of ``text`` (the source text of a string, docstring or
    comment) that ruff reports as ambiguous (RUF001, RUF002, RUF003).

    ruff's rule: a confusable character (one that looks like an ASCII character) that is not
    part of a word is always reported; one inside a word (a run of alphanumeric characters) is
    reported when the word also has an ASCII character, or has no other non-ASCII character
    that is unambiguous (a Greek capital alpha next to a gamma is fine: the gamma makes the word
    Greek; next to a beta, or to a Latin letter, it is reported).
    Rust's notion of alphanumeric also covers some combining marks and symbols that Python's
    ``isalnum`` does not; where the two could disagree, this errs towards reporting."""
    if text.isascii():
        return []
    with_ascii = _word_flags(text, _maybe_word_char, str.isascii)
    unambiguous = _word_flags(text, str.isalnum, _unambiguous)
    return [
        index
        for index, char in enumerate(text)
        if ord(char) in CONFUSABLES
        and (not char.isalnum() or with_ascii[index] or not unambiguous[index])
    ]


_LETTER_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
"""Circled and squared Latin letters: symbols that Unicode (and Rust) count as alphabetic."""


def _maybe_word_char(char: str) -> bool:
    """Alphanumeric for Rust (and so for ruff), or possibly so: Unicode's Alphabetic property
    also covers combining marks Python's ``isalnum`` does not, and some letter symbols."""
    if char.isalnum() or unicodedata.category(char)[0] == "M":
        return True
    return any(first <= ord(char) <= last for first, last in _LETTER_SYMBOLS)


def _unambiguous(char: str) -> bool:
    return not char.isascii() and ord(char) not in CONFUSABLES


def _word_flags(
    text: str, in_word: Callable[[str], bool], wanted: Callable[[str], bool]
) -> list[bool]:
    """For each index, whether the word (run of ``in_word`` characters) around it has a
    ``wanted`` character (False outside words)."""
    flags = [False] * len(text)
    start = 0
    while start < len(text):
        if not in_word(text[start]):
            start += 1
            continue
        end = start
        found = False
        while end < len(text) and in_word(text[end]):
            found = found or wanted(text[end])
            end += 1
        if found:
            flags[start:end] = [True] * (end - start)
        start = end
    return flags


def escape_ambiguous(units: list[str], escape: Callable[[str], str]) -> list[str]:
    """``units`` (the source text of each character of a literal or comment) with every
    character ruff would report replaced by ``escape(char)``.

    An escape adds ASCII characters (``\\u2013``) that can join the next word and make its
    confusables reportable, so this repeats until nothing more is reported."""
    units = list(units)
    while True:
        source = "".join(units)
        owners: list[int] = []
        for index, unit in enumerate(units):
            owners.extend([index] * len(unit))
        reported = {owners[position] for position in ambiguous_positions(source)}
        if not reported:
            return units
        for index in reported:
            units[index] = escape(units[index])
