"""Source positions and diagnostics, rendered one way everywhere.

Every problem Flow Orchestra reports about a spec points at the text the user wrote:
``specs/order.yaml:14:17: error: unknown field 'reviw' (did you mean 'review'?)`` followed by
the source line and a caret. Stages collect ``Diagnostic`` values and raise once, so a user sees
every problem of a spec in one run.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from typing import Literal

import attrs

Severity = Literal["error", "warning"]
Position = tuple[int, int]
"""A 1-based (line, column) in a source file."""


@attrs.frozen
class SourceSpan:
    """A region of a source file; lines and columns are 1-based, ``end_*`` inclusive-exclusive."""

    path: str
    line: int
    column: int
    end_line: int | None = None
    end_column: int | None = None

    def shifted(self, line_offset: int, column: int, end_column: int | None = None) -> SourceSpan:
        """A span inside this one, e.g. a token inside a guard string (0-based line offset)."""
        line = self.line + line_offset
        return SourceSpan(self.path, line, column, line, end_column)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


UNKNOWN_SPAN = SourceSpan("<unknown>", 1, 1)


@attrs.frozen
class Diagnostic:
    """One problem found in a spec: where, what, and how to fix it."""

    span: SourceSpan
    message: str
    code: str
    hint: str | None = None
    severity: Severity = "error"

    def headline(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.span}: {self.severity}: {self.message}{hint}"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.span.path,
            "line": self.span.line,
            "column": self.span.column,
            "end_line": self.span.end_line,
            "end_column": self.span.end_column,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


def render(diagnostic: Diagnostic, source: str | None) -> str:
    """The headline, then the offending source line with a caret under the span."""
    lines = [diagnostic.headline()]
    if source is None:
        return lines[0]
    source_lines = source.splitlines()
    index = diagnostic.span.line - 1
    if not 0 <= index < len(source_lines):
        return lines[0]
    text = source_lines[index].rstrip("\n").expandtabs(1)
    start = max(diagnostic.span.column - 1, 0)
    width = 1
    same_line = diagnostic.span.end_line in (None, diagnostic.span.line)
    if same_line and diagnostic.span.end_column is not None:
        width = max(diagnostic.span.end_column - diagnostic.span.column, 1)
    width = min(width, max(len(text) - start, 1))
    text, start, width = _window(text, start, width)
    lines.append(f"    {text}")
    lines.append("    " + " " * start + "^" + "~" * (width - 1))
    return "\n".join(lines)


SHOWN_COLUMNS = 160
"""How much of a long source line is shown, around the span: a JSON spec written by a tool is
often one line, which would otherwise be printed whole (twice, with the caret's padding) for
every problem."""


def _window(text: str, start: int, width: int) -> tuple[str, int, int]:
    """The part of ``text`` shown (``...`` marking cuts), with the caret's start and width in
    it."""
    if len(text) <= SHOWN_COLUMNS:
        return text, start, width
    left = max(0, min(start - SHOWN_COLUMNS // 3, len(text) - SHOWN_COLUMNS))
    prefix = "..." if left > 0 else ""
    suffix = "..." if left + SHOWN_COLUMNS < len(text) else ""
    shown_start = start - left
    width = max(1, min(width, SHOWN_COLUMNS - shown_start))
    return prefix + text[left : left + SHOWN_COLUMNS] + suffix, len(prefix) + shown_start, width


def render_all(diagnostics: Iterable[Diagnostic], sources: dict[str, str]) -> str:
    return "\n".join(render(d, sources.get(d.span.path)) for d in diagnostics)


def indefinite(noun: str) -> str:
    """``noun`` with its indefinite article: "an Answer", "a Review", "a User" (by spelling:
    a vowel, except the 'you' sound of Use…, Uni…, Eu… and the 'w' of One…)."""
    lower = noun.lower()
    vowel = lower[:1] in ("a", "e", "i", "o", "u") and not lower.startswith(_CONSONANT_SOUNDS)
    return f"{'an' if vowel else 'a'} {noun}"


_CONSONANT_SOUNDS = ("use", "usu", "uni", "ura", "eu", "one", "once")


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint naming the closest known name, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def sort_diagnostics(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Source order, so the output reads top to bottom like the file; each problem once (a
    YAML alias repeats its anchor's value, and a mistake there, at the anchor's position)."""
    unique = dict.fromkeys(diagnostics)
    return sorted(unique, key=lambda d: (d.span.path, d.span.line, d.span.column, d.code))
