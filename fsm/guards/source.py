"""Mapping positions inside a guard's text to positions in the YAML file it came from.

Python's ``ast`` reports 1-based lines and 0-based column offsets in UTF-8 *bytes*; diagnostics
use 1-based *character* columns in the spec file. The guard text starts at ``base`` (the
line/column of its first character). When YAML changed the text on the way in (escapes such as
``\"``, folded lines, the indentation of a block scalar), ``positions`` gives where each
character was written and is used instead; without it, offsets count from ``base`` and later
lines of a multi-line guard from column 1 of their own line.
"""

from __future__ import annotations

import re

import attrs

from fsm.diagnostics import Position, SourceSpan

_NEWLINE = re.compile(r"\r\n|\r|\n")


@attrs.frozen
class GuardSource:
    """A guard's text plus where it starts, able to turn ast positions into spans."""

    text: str
    base: SourceSpan
    lines: tuple[str, ...] = attrs.field(init=False)
    line_offset: int = 0  # leading whitespace stripped before parsing (first line only)
    ascii_lines: tuple[bool, ...] = attrs.field(init=False)
    """Per line: one byte per character, so ast's byte offsets are character offsets."""
    positions: tuple[Position, ...] | None = None
    """Where each character of the unstripped text was written (see the module docstring)."""
    line_starts: tuple[int, ...] = attrs.field(init=False)
    """Offset in ``text`` of the first character of each line."""

    @lines.default
    def _split_lines(self) -> tuple[str, ...]:
        return tuple(_NEWLINE.split(self.text))

    @ascii_lines.default
    def _ascii(self) -> tuple[bool, ...]:
        return tuple(line.isascii() for line in self.lines)

    @line_starts.default
    def _line_starts(self) -> tuple[int, ...]:
        return (0, *(match.end() for match in _NEWLINE.finditer(self.text)))

    def column(self, lineno: int, byte_offset: int) -> tuple[int, int]:
        """(file line, file column) for an ast (lineno, col_offset) pair."""
        index = min(max(lineno, 1), len(self.lines)) - 1
        if self.ascii_lines[index]:  # the common case, and much cheaper
            return self._place(index, max(byte_offset, 0))
        encoded = self.lines[index].encode("utf-8")
        chars = len(encoded[: max(byte_offset, 0)].decode("utf-8", errors="ignore"))
        return self._place(index, chars)

    def char_column(self, lineno: int, char_offset: int) -> tuple[int, int]:
        """(file line, file column) for a 0-based character offset on a 1-based line."""
        index = min(max(lineno, 1), len(self.lines)) - 1
        return self._place(index, max(char_offset, 0))

    def _place(self, index: int, chars: int) -> tuple[int, int]:
        if self.positions:
            offset = self.line_offset + self.line_starts[index] + chars
            if offset < len(self.positions):
                return self.positions[offset]
            line, column = self.positions[-1]  # just past the end: after the last character
            return line, column + 1 + offset - len(self.positions)
        if index == 0:
            return self.base.line, self.base.column + self.line_offset + chars
        return self.base.line + index, 1 + chars

    def span(
        self,
        lineno: int,
        col_offset: int,
        end_lineno: int | None = None,
        end_col_offset: int | None = None,
    ) -> SourceSpan:
        """The span of an ast node (byte offsets, as ``ast`` gives them)."""
        line, column = self.column(lineno, col_offset)
        if end_lineno is None or end_col_offset is None:
            return SourceSpan(self.base.path, line, column)
        end_line, end_column = self.column(end_lineno, end_col_offset)
        return SourceSpan(self.base.path, line, column, end_line, end_column)

    def char_span(self, index: int, length: int = 1) -> SourceSpan:
        """The span of ``length`` characters starting at ``index`` of the whole text."""
        before = self.text[:index]
        lineno = len(_NEWLINE.findall(before)) + 1
        last_break = max(before.rfind("\n"), before.rfind("\r"))
        line, column = self.char_column(lineno, index - (last_break + 1))
        return SourceSpan(self.base.path, line, column, line, column + length)

    def whole(self) -> SourceSpan:
        """The first line of the guard, from its first character to the end of that line."""
        first = self.lines[0]
        start = self.base.column
        return SourceSpan(self.base.path, self.base.line, start, self.base.line, start + len(first))
