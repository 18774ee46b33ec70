"""Where each character of a scalar's text was written, when the text is not a verbatim copy.

YAML changes text on the way in: escapes (``\\"``, ``\\u00e9``) and doubled quotes (``''``) in
quoted scalars, folded line breaks in plain, quoted and ``>`` scalars, the indentation of
block scalars. Offsets into the text (a guard's token, say) are then not source columns. This
module aligns the text with the raw source, character by character, so a diagnostic inside
such a scalar still points at the character it is about.
"""

from __future__ import annotations

from fsm.diagnostics import Position

_SPACE = " \t\r\n"
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


def scalar_positions(
    raw: str, text: str, style: str | None, line: int, column: int
) -> tuple[Position, ...] | None:
    """The source position of every character of ``text``, read from ``raw`` (the source from
    where the text starts, at ``line``/``column``); None when the two cannot be aligned.

    Non-space characters map exactly; a space or line break YAML made up while folding maps to
    where the folded break was written."""
    places = _raw_places(raw, line, column)
    found: list[Position] = []
    cursor = 0
    for char in text:
        if char in _SPACE:
            at, width = _space(raw, cursor, style, char)
            found.append(places[at])
            cursor = at + width
            continue
        located = _next_char(raw, cursor, style, char)
        if located is None:
            return None
        at, width = located
        found.append(places[at])
        cursor = at + width
    return tuple(found)


def _raw_places(raw: str, line: int, column: int) -> list[Position]:
    """(line, column) of every index of ``raw``, and one past its end."""
    places: list[Position] = []
    for char in raw:
        places.append((line, column))
        if char == "\n":
            line, column = line + 1, 1
        else:
            column += 1
    places.append((line, column))
    return places


def _space(raw: str, at: int, style: str | None, char: str) -> tuple[int, int]:
    """Where the text's space or line break ``char`` was written at ``at``, and how many raw
    characters it takes: 0 when folding made it up (the raw line break and indentation are
    skipped before the next character)."""
    at = _skip_escaped_breaks(raw, at, style)
    if at >= len(raw):
        return len(raw), 0
    if raw[at] == char:
        return at, 1
    if style == '"' and raw[at] == "\\":
        return at, _escape_length(raw, at)
    return at, 0


def _skip_escaped_breaks(raw: str, at: int, style: str | None) -> int:
    """Past any escaped line breaks at ``at`` (and the indentation after them): in a
    double-quoted scalar they join the lines and write nothing."""
    while style == '"' and raw.startswith("\\", at) and raw[at + 1 : at + 2] in ("\r", "\n"):
        at += 2
        while at < len(raw) and raw[at] in " \t\r\n":
            at += 1
    return at


def _next_char(raw: str, at: int, style: str | None, char: str) -> tuple[int, int] | None:
    """Where the text's non-space ``char`` was written at or after ``at`` (skipping folded
    whitespace and escaped line breaks), and how many raw characters it takes."""
    while at < len(raw):
        at = _skip_escaped_breaks(raw, at, style)
        if at >= len(raw):
            return None
        current = raw[at]
        if style == '"' and current == "\\":
            return at, _escape_length(raw, at)
        if style == "'" and raw.startswith("''", at):
            return (at, 2) if char == "'" else None
        if current == char:
            return at, 1
        if current not in _SPACE:
            return None
        at += 1
    return None


def _escape_length(raw: str, at: int) -> int:
    """Raw length of the double-quoted escape at ``at`` (a UTF-16 surrogate pair written as two
    ``\\u`` escapes is one character of the text)."""
    kind = raw[at + 1] if at + 1 < len(raw) else ""
    length = 2 + _HEX_DIGITS.get(kind, 0)
    high = kind == "u" and "\ud800" <= _hex_char(raw[at + 2 : at + length]) <= "\udbff"
    return length * 2 if high and raw.startswith("\\u", at + length) else length


def _hex_char(digits: str) -> str:
    try:
        return chr(int(digits, 16))
    except ValueError:
        return ""
