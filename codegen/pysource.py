"""Python source for values that come from a spec, safe by construction.

Every text a spec author wrote (descriptions, defaults, enum values, patterns, paths) reaches
generated code through one of these functions, never by pasting it into a template:

- ``string_literal`` escapes each character as ``repr()`` does (and the chosen quote), so the
  literal always denotes exactly the original text;
- ``docstring`` escapes backslashes, every double quote and every non-printable character, so
  nothing can close the docstring or hide a line break;
- ``comment_text`` escapes everything that could end a comment line.

All three also escape the characters ruff reports as ambiguous (``codegen.lint``: a
typographic apostrophe becomes ``\\u2019``), so spec text never trips RUF001-RUF003.

``layout`` prints nested literals and calls within the line length the way ``ruff format`` does
(one line when it fits, else one item per line with a trailing comma), so generated files are
formatter-stable. Widths are display widths (``display_width``), as ruff measures lines: an
East Asian wide character takes two columns.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import unicodedata
from collections.abc import Collection, Iterable

import attrs

from codegen.confusables import CONFUSABLES
from codegen.lint import escape_ambiguous

LINE_LENGTH = 100
INDENT = "    "


def display_width(text: str) -> int:
    """The columns ``text`` takes in an editor, as ruff counts them for ``E501`` and ``ruff
    format``: East Asian wide and fullwidth characters take two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(_char_width(char) for char in text)


def exempt_overlong(code: str) -> str:
    """``code`` with each line that no layout can shorten marked as exempt from ``E501``.

    Such a line holds a name longer than a line (a member name made from a long enum value,
    a reference to it as a default): it cannot be wrapped, only exempted. ``code`` must hold no
    multi-line string, where a comment would become text. A line that is one word is left
    alone: ruff does not report it, and would report the unused exemption (RUF100)."""
    lines = code.split("\n")
    for index, line in enumerate(lines):
        if display_width(line) > LINE_LENGTH and " " in line.strip():
            lines[index] = f"{line}  # noqa: E501"
    return "\n".join(lines)


@functools.cache
def _char_width(char: str) -> int:
    if char.isascii():
        return 1
    if unicodedata.east_asian_width(char) in "WF":
        return 2
    if unicodedata.category(char) in ("Mn", "Me") or "\u1160" <= char <= "\u11ff":
        return 0  # combining marks, Hangul medial vowels and final consonants
    return 1


def string_literal(text: str) -> str:
    """A Python string literal denoting exactly ``text``.

    Each character is escaped as ``repr()`` escapes it; the quote character is chosen the way
    ``ruff format`` chooses it (double, unless that needs more escapes than single), so the
    output is formatter-stable."""
    return _literal(text, frozenset())


def _literal(text: str, escaped: Collection[int]) -> str:
    """The literal of ``text``, with the characters at ``escaped`` written as escapes too."""
    quote = "'" if text.count('"') > text.count("'") else '"'
    units = [_literal_char(char, quote) for char in text]
    for index in escaped:
        units[index] = _code_escape(text[index])
    if not text.isascii():
        units = escape_ambiguous(units, _code_escape)
    return f"{quote}{''.join(units)}{quote}"


def piece_literals(pieces: list[str]) -> list[str]:
    """The literals of ``pieces``, implicitly concatenated: each escapes the characters ruff
    would report in it alone, and those it would report in the whole text.

    Whether ruff reports a character depends on its word, so a piece can need escapes the
    whole text does not (a cut inside a word) and the other way round (``\\n`` puts an ASCII
    ``n`` in front of the next word). Escaping both keeps each piece clean, and keeps the
    pieces together at least as wide as the one literal that did not fit, so ruff format
    never joins them into a literal that fits."""
    text = "".join(pieces)
    if text.isascii():
        return [string_literal(piece) for piece in pieces]
    quote = "'" if text.count('"') > text.count("'") else '"'
    units = [_literal_char(char, quote) for char in text]
    escaped = [
        i for i, unit in enumerate(escape_ambiguous(units, _code_escape)) if unit != units[i]
    ]
    literals: list[str] = []
    start = 0
    for piece in pieces:
        end = start + len(piece)
        inside = escaped[bisect.bisect_left(escaped, start) : bisect.bisect_left(escaped, end)]
        literals.append(_literal(piece, [i - start for i in inside]))
        start = end
    return literals


def _literal_char(char: str, quote: str) -> str:
    if char == quote:
        return "\\" + char
    if char in "'\"":
        return char
    return repr(char)[1:-1]


@functools.cache
def _char_cost(char: str) -> int:
    """The most width ``char`` takes inside a string literal, a quote counted as unescaped (a
    character ruff may report as ambiguous counted as escaped: whether it is depends on its
    neighbours)."""
    if ord(char) in CONFUSABLES:
        return len(_code_escape(char))
    return display_width(_literal_char(char, ""))


def literal_width(text: str) -> int:
    """``display_width(string_literal(text))``."""
    if text.isascii():
        return _LiteralWidth().add(text).width
    return display_width(string_literal(text))


def number_literal(value: float, *, as_float: bool = False) -> str:
    """An int or float literal; non-finite numbers have no literal and are refused."""
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got the bool {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"a default must be a finite number, got {value!r}")
    text = repr(float(value)) if as_float else repr(value)
    return text.replace("e+", "e")  # ruff format's spelling of an exponent: 1e16, not 1e+16


def _escape_char(char: str) -> str:
    if char == "\\":
        return "\\\\"
    if char == '"':
        return '\\"'
    if char.isprintable():
        return char
    return _code_escape(char)


def _code_escape(char: str) -> str:
    """``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN`` (as ``repr()`` writes them)."""
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape_docstring_text(text: str) -> str:
    """``text`` with backslashes, double quotes, non-printable and ambiguous characters
    escaped."""
    units = [_escape_char(char) for char in text]
    if not text.isascii():
        units = escape_ambiguous(units, _code_escape)
    return "".join(units)


def docstring(text: str, indent: str) -> str:
    """A triple-quoted docstring for ``text`` at ``indent``, wrapped to the line length.

    Paragraphs (separated by blank lines) are kept; other line breaks become spaces, since
    wrapping decides the layout. The text is escaped before wrapping, and wrapping only breaks
    at spaces, so no escape sequence is ever split."""
    paragraphs = [" ".join(part.split()) for part in text.replace("\r", "\n").split("\n\n")]
    paragraphs = [escape_docstring_text(p) for p in paragraphs if p]
    if not paragraphs:
        paragraphs = ["(no description)"]
    width = LINE_LENGTH - len(indent)
    one_line = f'"""{paragraphs[0]}"""'
    if len(paragraphs) == 1 and display_width(one_line) <= width:
        return one_line
    lines: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if index:
            lines.append("")
        lines.extend(_wrap(paragraph, width - 3 if index == 0 else width))
    if len(lines) == 1:
        # one line of text that does not fit with both quotes: ruff format moves the closing
        # quotes back up (overflowing the line), so the text takes two lines; one long word
        # cannot, and on a line of its own ruff exempts it from E501
        if " " not in paragraphs[0]:
            return one_line
        lines = _wrap(paragraphs[0], display_width(lines[0]) - 1)
    body = f"\n{indent}".join(line for line in lines)
    body = "\n".join(line.rstrip() for line in body.split("\n"))
    return f'"""{body}\n{indent}"""'


def _wrap(paragraph: str, width: int) -> list[str]:
    """Words (separated by single spaces) greedily into lines of at most ``width`` columns; a
    longer word gets a line of its own (ruff exempts such a line from ``E501``)."""
    lines: list[str] = []
    current: list[str] = []
    used = 0
    for word in paragraph.split(" "):
        word_width = display_width(word)
        if current and used + 1 + word_width > width:
            lines.append(" ".join(current))
            current, used = [], 0
        used += word_width + (1 if current else 0)
        current.append(word)
    lines.append(" ".join(current))
    return lines


def import_order(names: Iterable[str]) -> tuple[str, ...]:
    """Names of a ``from x import (...)`` in the order ruff's isort (``I001``) expects with the
    default settings (``order-by-type``, not ``case-sensitive``): constants, then classes, then
    everything else, each in natural order case-insensitively (``Item9`` before ``Item10``)."""

    def key(name: str) -> tuple[int, object, object]:
        if name.isupper() and len(name) > 1:
            kind = 0
        elif name[:1].isupper():
            kind = 1
        else:
            kind = 2
        return (kind, *module_key(name))

    return tuple(sorted(set(names), key=key))


def dunder_all_order(names: Iterable[str]) -> tuple[str, ...]:
    """Names of an ``__all__`` in the order ruff's RUF022 expects (its "isort-style" sort):
    constants, then classes, then everything else, each in case-sensitive natural order
    (``JSON_SCHEMAS`` before ``Answer``, ``Item9`` before ``Item10``)."""

    def key(name: str) -> tuple[int, object]:
        if name.isupper() and len(name) > 1:
            return (0, _natural(name))
        return (1 if name[:1].isupper() else 2, _natural(name))

    return tuple(sorted(set(names), key=key))


def module_key(name: str) -> tuple[object, object]:
    """Sort key of a module (or imported name) as ruff's isort orders them: natural order of the
    lowercased name, then of the name itself."""
    return (_natural(name.lower()), _natural(name))


def natural_compare(left: str, right: str) -> int:
    """-1, 0 or 1 as ``left`` sorts before, with or after ``right`` in natural order: runs of
    digits compare as numbers (``a9 < a10``), a run starting with ``0`` digit by digit
    (``a01 < a1``); everything else by code point. A port of the ``natord`` crate ruff's isort
    uses, so generated imports sort the way ruff checks them."""
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = left[i], right[j]
        if _is_digit(a) and _is_digit(b):
            i_end, j_end = _digits_end(left, i), _digits_end(right, j)
            if a == "0" or b == "0":
                result = _compare_fraction(left[i:i_end], right[j:j_end])
            else:
                result = _compare_integer(left[i:i_end], right[j:j_end])
            if result:
                return result
            i, j = i_end, j_end
        elif a != b:
            return -1 if a < b else 1
        else:
            i, j = i + 1, j + 1
    return (i < len(left)) - (j < len(right))


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _digits_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and _is_digit(text[end]):
        end += 1
    return end


def _compare_integer(left: str, right: str) -> int:
    """The longer run is the larger number; equal lengths compare at the first difference."""
    if len(left) != len(right):
        return -1 if len(left) < len(right) else 1
    return (left > right) - (left < right)


def _compare_fraction(left: str, right: str) -> int:
    """Digit by digit; a run that ends first is smaller (``natord``'s ``compare_left``)."""
    for a, b in zip(left, right, strict=False):
        if a != b:
            return -1 if a < b else 1
    return (len(left) > len(right)) - (len(left) < len(right))


_natural = functools.cmp_to_key(natural_compare)


def comment_text(text: str) -> str:
    """``text`` fit for the inside of a ``#`` comment: nothing in it can end the line (and no
    character ruff reports as ambiguous is left)."""
    units = [char if char.isprintable() else _escape_char(char) for char in text]
    if not text.isascii():
        units = escape_ambiguous(units, _code_escape)
    return "".join(units)


# --- layout of nested expressions -------------------------------------------------------------


@attrs.frozen
class Atom:
    """Source text printed as is (a name, a number, a short expression)."""

    text: str


@attrs.frozen
class Text:
    """A string value; split into implicitly concatenated pieces when it does not fit."""

    value: str


@attrs.frozen
class Pair:
    """``key: value`` in a dict display or ``name=value`` in a call."""

    key: str
    separator: str
    value: Node


@attrs.frozen
class Group:
    """``opener item, item closer``: a call, list, dict or tuple display."""

    opener: str
    items: tuple[Node, ...]
    closer: str
    trailing_comma_if_one: bool = False  # a one-item tuple needs it even on one line


Node = Atom | Text | Pair | Group


def flat(node: Node) -> str:
    """The one-line form of ``node``."""
    match node:
        case Atom(text=text):
            return text
        case Text(value=value):
            return string_literal(value)
        case Pair(key=key, separator=separator, value=value):
            return f"{key}{separator}{flat(value)}"
        case Group(opener=opener, items=items, closer=closer):
            inner = ", ".join(flat(item) for item in items)
            if node.trailing_comma_if_one and len(items) == 1:
                inner += ","
            return f"{opener}{inner}{closer}"


def layout(node: Node, indent: str, prefix: int = 0, suffix: int = 0) -> str:
    """``node`` laid out to start after ``prefix`` columns (on a line indented by ``indent``)
    and be followed by ``suffix`` columns of text."""
    one_line = flat(node)
    if prefix + display_width(one_line) + suffix <= LINE_LENGTH:
        return one_line
    match node:
        case Atom() | Text():
            return _split_text(node, indent) if isinstance(node, Text) else one_line
        case Pair(key=key, separator=separator, value=value):
            head = f"{key}{separator}"
            return head + layout(value, indent, prefix + len(head), suffix)
        case Group(opener=opener, items=items, closer=closer):
            if not items:
                return one_line
            inner = indent + INDENT
            lines = [inner + layout(item, inner, len(inner), 1) + "," for item in items]
            return opener + "\n" + "\n".join(lines) + "\n" + indent + closer


def assignment(node: Node, indent: str, prefix: int) -> str:
    """The value of ``target = value`` (or ``name: type = value``) after ``prefix`` columns, as
    ruff format prints it: on the line when it fits; a call or display split at its own
    brackets when the line up to its opening bracket fits; else in parentheses on the next
    lines (a name that does not fit there either stays on the line: nothing would help)."""
    one_line = flat(node)
    if prefix + display_width(one_line) <= LINE_LENGTH:
        return one_line
    fits_opener = isinstance(node, Group) and prefix + display_width(node.opener) <= LINE_LENGTH
    if isinstance(node, Text) or fits_opener:
        return layout(node, indent, prefix)
    inner = indent + INDENT
    if isinstance(node, Atom) and len(inner) + display_width(one_line) > LINE_LENGTH:
        return one_line
    return "(\n" + inner + layout(node, inner, len(inner)) + "\n" + indent + ")"


def annotation_layout(annotation: str, indent: str, prefix: int, suffix: int) -> str:
    """A return annotation (``A | Awaitable[A]``) after ``prefix`` columns, followed by
    ``suffix`` columns, as ruff format prints one that does not fit: in parentheses on its own
    line, or one ``|`` operand per line when even that line is too long."""
    if prefix + display_width(annotation) + suffix <= LINE_LENGTH:
        return annotation
    inner = indent + INDENT
    if len(inner) + display_width(annotation) <= LINE_LENGTH:
        return f"(\n{inner}{annotation}\n{indent})"
    operands = annotation.split(" | ")  # our annotations have no '|' inside brackets
    return "(\n" + inner + f"\n{inner}| ".join(operands) + f"\n{indent})"


def from_import(module: str, names: Iterable[str]) -> str:
    """``from module import a, b`` as ruff's isort prints it: one line when it fits, else one
    name per line in parentheses."""
    ordered = import_order(names)
    line = f"from {module} import {', '.join(ordered)}"
    if display_width(line) <= LINE_LENGTH:
        return line
    return f"from {module} import (\n" + "".join(f"{INDENT}{name},\n" for name in ordered) + ")"


def _split_text(node: Text, indent: str) -> str:
    """A string too long for its line, in parentheses: one literal on the next line when it fits
    there, else pieces, each piece's literal fitting on its own line. Both are the shapes
    ``ruff format`` keeps (it would join pieces that fit on one line, and wrap a bare literal
    that fits in parentheses)."""
    inner = indent + INDENT
    if len(inner) + literal_width(node.value) <= LINE_LENGTH:
        pieces = [node.value]
    else:
        pieces = text_pieces(node.value, LINE_LENGTH - len(inner))
    body = "\n".join(inner + literal for literal in piece_literals(pieces))
    return "(\n" + body + "\n" + indent + ")"


def fitted_string_literal(text: str, prefix_width: int) -> str:
    """A string literal for ``text`` that keeps its line within the line length.

    One literal when it fits after ``prefix_width`` columns, else implicitly concatenated
    pieces inside parentheses, one per indented line (``ruff format`` leaves both shapes as
    they are). Paths have no spaces, so long ones are cut after a ``/`` where possible."""
    literal = string_literal(text)
    if prefix_width + display_width(literal) <= LINE_LENGTH:
        return literal
    width = LINE_LENGTH - len(INDENT)
    pieces: list[str] = []
    for segment in re.split(r"(?<=/)", text):
        # the most the piece's literal can take, whatever its context escapes (piece_literals)
        if pieces and _LiteralWidth().add(pieces[-1] + segment).width <= width:
            pieces[-1] += segment
        else:
            pieces.extend(text_pieces(segment, width))
    lines = (INDENT + literal for literal in piece_literals([p for p in pieces if p]))
    return "(\n" + "\n".join(lines) + "\n)"


def text_pieces(text: str, width: int) -> list[str]:
    """``text`` cut into pieces whose literals fit in ``width`` columns: after line breaks,
    else after spaces, else anywhere. Each piece is quoted on its own, so no cut can ever
    split an escape sequence.

    Linear in the length of ``text``: each piece's literal width is kept up to date as words
    and characters join it (``_LiteralWidth``), never recomputed from the piece's text."""
    width = max(width, 24)
    pieces: list[str] = []
    start = 0  # where the current piece begins in ``text``
    current = _LiteralWidth()
    for word_start, word_end in _words(text):
        word = _LiteralWidth().add(text, word_start, word_end)
        if current.chars and current.joined(word) > width:
            pieces.append(text[start:word_start])
            start, current = word_start, _LiteralWidth()
        if word.width <= width or current.chars:
            current = current.join(word)
        else:  # a word too long for any piece: cut it where the width is reached
            for index in range(word_start, word_end):
                char = _LiteralWidth().add(text, index, index + 1)
                if current.chars and current.joined(char) > width:
                    pieces.append(text[start:index])
                    start, current = index, _LiteralWidth()
                current = current.join(char)
        if text[word_end - 1] == "\n":
            pieces.append(text[start:word_end])
            start, current = word_end, _LiteralWidth()
    if start < len(text) or not pieces:
        pieces.append(text[start:])
    return pieces


@attrs.frozen
class _LiteralWidth:
    """What the width of a string literal depends on: its characters' widths (quotes counted
    unescaped) and its quotes, of which ``string_literal`` escapes the rarer kind."""

    chars: int = 0
    cost: int = 0
    double: int = 0
    single: int = 0

    @property
    def width(self) -> int:
        return 2 + self.cost + min(self.double, self.single)

    def add(self, text: str, start: int = 0, end: int | None = None) -> _LiteralWidth:
        part = text[start:end]
        if part.isascii() and part.isprintable():
            cost = len(part) + part.count("\\")  # a backslash is escaped as two
        else:
            cost = sum(_char_cost(char) for char in part)
        return _LiteralWidth(
            self.chars + len(part),
            self.cost + cost,
            self.double + part.count('"'),
            self.single + part.count("'"),
        )

    def join(self, other: _LiteralWidth) -> _LiteralWidth:
        return _LiteralWidth(
            self.chars + other.chars,
            self.cost + other.cost,
            self.double + other.double,
            self.single + other.single,
        )

    def joined(self, other: _LiteralWidth) -> int:
        """The width of the literal of both texts together."""
        return self.join(other).width


def _words(text: str) -> list[tuple[int, int]]:
    """(start, end) of each word of ``text``, cut after each space and line break, so pieces
    end at word boundaries."""
    words: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer("[ \n]", text):
        words.append((start, match.end()))
        start = match.end()
    if start < len(text):
        words.append((start, len(text)))
    return words


def json_node(value: object) -> Node:
    """A layout node for JSON-ready data (dict, list, str, int, float, bool, None)."""
    if value is None or isinstance(value, bool):
        return Atom(repr(value))
    if isinstance(value, int | float):
        return Atom(number_literal(value))
    if isinstance(value, str):
        return Text(value)
    if isinstance(value, list | tuple):
        return Group("[", tuple(json_node(item) for item in value), "]")
    if isinstance(value, dict):
        pairs = tuple(Pair(string_literal(str(k)), ": ", json_node(v)) for k, v in value.items())
        return Group("{", pairs, "}")
    raise TypeError(f"not JSON-ready data: {type(value).__name__}")
