"""The YAML dialect specs are written in: PyYAML's parser, YAML 1.2 scalars, untagged nodes.

``NodeLoader`` composes text into PyYAML nodes without resolving any scalar (an explicit tag is
then recognisable, and refused by the loader); ``resolve_plain`` resolves plain scalars by the
YAML 1.2 core schema instead of PyYAML's YAML 1.1 rules, so ``on``/``no``/``yes`` stay strings.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, TypeAlias

import yaml

MAX_DEPTH = 100
"""How deeply collections may nest, block and flow alike (a spec needs a handful of levels).

The composers check it before they recurse, so no text reaches a recursion deeper than this;
PyYAML's Python scanner also checks it for ``[...]``/``{...}``, where it slows quadratically
with depth."""

MAX_NODES = 200_000
"""Values a document may hold, or expand to counting every alias expansion (stops alias bombs,
and a large data file given by mistake before all of it is parsed)."""

IMPLICIT_TAG = "!flow-orchestra/implicit"
"""The tag of every node written without an explicit tag."""

ScalarValue: TypeAlias = str | int | float | bool | None


class NestingTooDeepError(yaml.MarkedYAMLError):
    """Collections nest more than ``MAX_DEPTH`` levels deep; ``problem_mark`` is where the first
    collection too many starts."""

    def __init__(self, mark: yaml.Mark | None):
        problem = f"collections nested more than {MAX_DEPTH} levels deep"
        super().__init__(None, None, problem, mark)


class DocumentTooLargeError(yaml.MarkedYAMLError):
    """The text holds more than ``MAX_NODES`` values; ``problem_mark`` is where the first value
    too many starts."""

    def __init__(self, mark: yaml.Mark | None):
        problem = f"the document holds more than {MAX_NODES:,} values"
        super().__init__(None, None, problem, mark)


class DepthLimitedComposer(yaml.composer.Composer):
    """PyYAML's composer, refusing to open a collection more than ``MAX_DEPTH`` levels deep.

    The composer recurses once per nesting level, and the parsers below it are iterative state
    machines, so checking here bounds every recursion while composing; the text is parsed only
    as far as the first collection too many."""

    _depth = 0
    _nodes = 0

    if TYPE_CHECKING:  # the parser's, which a loader mixes in

        def check_event(self, *choices: type[yaml.Event]) -> bool: ...
        def peek_event(self) -> yaml.Event: ...
        def dispose(self) -> None: ...

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if not self.check_event(yaml.AliasEvent):
            self._nodes += 1
            if self._nodes > MAX_NODES:
                raise DocumentTooLargeError(self._event_mark())
        if not self.check_event(yaml.MappingStartEvent, yaml.SequenceStartEvent):
            return super().compose_node(parent, index)  # a scalar or an alias: no recursion
        if self._depth >= MAX_DEPTH:
            raise NestingTooDeepError(self._event_mark())
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def _event_mark(self) -> yaml.Mark:
        """Where the next event starts (libyaml's marks are of another class)."""
        mark = self.peek_event().start_mark
        assert mark is not None  # both parsers mark every event
        return yaml.Mark("", mark.index, mark.line, mark.column, None, 0)


# YAML 1.2 core schema, https://yaml.org/spec/1.2.2/#1032-tag-resolution
_NULL = re.compile(r"null|Null|NULL|~|")
_TRUE = re.compile(r"true|True|TRUE")
_FALSE = re.compile(r"false|False|FALSE")
_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")


def resolve_plain(text: str) -> ScalarValue:
    """The value of an unquoted scalar under the YAML 1.2 core schema."""
    if _NULL.fullmatch(text):
        return None
    if _TRUE.fullmatch(text):
        return True
    if _FALSE.fullmatch(text):
        return False
    if _INT10.fullmatch(text):
        return _decimal(text)
    if _INT8.fullmatch(text):
        return _based(text, 8)
    if _INT16.fullmatch(text):
        return _based(text, 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


def _decimal(text: str) -> int | str:
    """An integer, or the text when it has more digits than Python converts (a DoS guard)."""
    try:
        return int(text, 10)
    except ValueError:
        return text


def _based(text: str, base: int) -> int | str:
    """An octal or hex integer, or the text when it is too long to write as a decimal (as
    ``_decimal``): Python reads any number of hex digits, but no store could write the
    result, so ``max_steps: 0xfff…`` would pass ``fsm validate`` and fail every run."""
    value = int(text[2:], base)
    if value.bit_length() <= _SAFE_BITS:
        return value
    try:
        str(value)
    except ValueError:
        return text
    return value


_SAFE_BITS = 10_000
"""Integers of at most this many bits have fewer than 4,300 decimal digits (3,011)."""


class NodeLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    DepthLimitedComposer,
    yaml.constructor.SafeConstructor,
    yaml.resolver.Resolver,
):
    """PyYAML's SafeLoader with the depth-limited composer, leaving scalars unresolved, so an
    explicit tag is recognisable: every node without one carries ``IMPLICIT_TAG``.
    Resolution happens in ``resolve_plain``.

    Its scanner also lets a plain scalar in a flow collection continue with ``?`` (as YAML 1.2
    allows; PyYAML follows 1.1 here) and with a bracket group written right after it, so type
    expressions need no quotes in flow style: ``{type: list[str]?, merge: append}``. Both
    were syntax errors before, so no valid YAML document changes meaning."""

    def __init__(self, stream: str):
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        DepthLimitedComposer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)

    def resolve(self, kind: object, value: object, implicit: object) -> str:
        return IMPLICIT_TAG

    def scan_plain(self) -> yaml.tokens.ScalarToken:
        token = super().scan_plain()
        if not self.flow_level:
            return token
        chunks = [token.value]
        end = token.end_mark.index
        while self.get_mark().index == end:  # nothing, not even a space, since the scalar
            if self.peek() == "?":
                chunks.append("?")
                self.forward()
            elif self.peek() == "[" and not chunks[-1].endswith("?"):
                chunks.append(self._scan_bracket_group(token.start_mark))
            else:
                break
            end = self.get_mark().index
        if len(chunks) == 1:
            return token
        return yaml.tokens.ScalarToken("".join(chunks), True, token.start_mark, self.get_mark())

    def fetch_flow_collection_start(self, token_class: type[yaml.Token]) -> None:
        # The composer stops at MAX_DEPTH too, but the scanner runs ahead of it (up to 1,024
        # characters while a simple key is possible), quadratically in the flow depth. The
        # indents are the block collections open around the bracket, so this count never
        # exceeds the composer's and the two report the same bracket.
        if self.flow_level + len(self.indents) >= MAX_DEPTH:
            raise NestingTooDeepError(self.get_mark())
        super().fetch_flow_collection_start(token_class)

    def _scan_bracket_group(self, start_mark: yaml.Mark) -> str:
        """``[...]`` with nested brackets, on one line (the arguments of ``list[...]``)."""
        depth, length = 0, 0
        while True:
            char = self.peek(length)
            if char in "\0\r\n\x85\u2028\u2029":
                context = "while scanning a plain scalar"
                problem = "found an unclosed '['"
                raise yaml.scanner.ScannerError(context, start_mark, problem, self.get_mark())
            length += 1
            depth += {"[": 1, "]": -1}.get(char, 0)
            if depth == 0:
                text: str = self.prefix(length)
                self.forward(length)
                return text


if yaml.__with_libyaml__:
    from yaml._yaml import CParser

    class FastNodeLoader(
        DepthLimitedComposer,
        CParser,
        yaml.constructor.SafeConstructor,
        yaml.resolver.Resolver,
    ):
        """libyaml's C parser with ``NodeLoader``'s composer and resolution: several times
        faster on large specs.

        Only the parser is libyaml's: its own composer recurses in C once per nesting level,
        with no limit, and overflows the stack on text like ``? ? ? … x`` (a segfault, not an
        error). It does not know the flow-style type-expression extension, so ``compose``
        hands it masked text and falls back to ``NodeLoader`` when it fails."""

        def __init__(self, stream: str):
            CParser.__init__(self, stream)
            DepthLimitedComposer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)

        def resolve(self, kind: object, value: object, implicit: object) -> str:
            return IMPLICIT_TAG


USE_LIBYAML = yaml.__with_libyaml__
"""Whether ``compose`` tries libyaml's parser first (tests turn it off to compare paths)."""


def compose(text: str) -> yaml.Node | None:
    """Compose with libyaml's parser when it is available, else (or when libyaml rejects the
    text, e.g. for an unquoted ``list[str]?`` in flow style, or a ``str`` holding a lone
    surrogate, which it cannot encode) with ``NodeLoader``, which also gives the error
    positions users see. Either raises ``NestingTooDeepError`` for text nested
    more than ``MAX_DEPTH`` levels deep."""
    masked = mask_dialect(text) if USE_LIBYAML else None
    if masked is not None:
        try:
            node = _compose_with(FastNodeLoader(masked))
        except (NestingTooDeepError, DocumentTooLargeError):
            raise  # masking keeps every position, so the mark is right; no need to parse again
        except (yaml.YAMLError, UnicodeEncodeError):  # libyaml cannot encode a lone surrogate
            pass
        else:
            if node is not None:
                unmask(node)
            return node
    return _compose_with(NodeLoader(text))


def _compose_with(loader: DepthLimitedComposer) -> yaml.Node | None:
    """What ``yaml.compose`` does with a loader class, typed for ours."""
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


# libyaml does not know the dialect's flow-style type expressions (``{type: list[str]?}``).
# Before handing text to it, the characters that only the dialect accepts are swapped for
# private-use stand-ins of the same length (so every line and column stays put), and swapped
# back in every scalar of the composed tree. Text that already contains a stand-in takes the
# Python parser.
_OPEN, _CLOSE, _COMMA, _QUESTION = "\ue000", "\ue001", "\ue002", "\ue003"
_STAND_INS = (_OPEN, _CLOSE, _COMMA, _QUESTION)
_RESTORE = str.maketrans({_OPEN: "[", _CLOSE: "]", _COMMA: ",", _QUESTION: "?"})
_WORD = re.compile(r"\w")


def mask_dialect(text: str) -> str | None:
    """``text`` with the dialect's bracket groups and ``?`` suffixes masked, or None when a
    bracket group is unclosed on its line or the text holds a stand-in already."""
    if any(char in text for char in _STAND_INS):
        return None
    masked: list[str] = []
    for line in text.split("\n"):
        if "[" not in line and "?" not in line:
            masked.append(line)  # nothing to mask: most lines, and far cheaper to skip
            continue
        chars = list(line)
        index = 0
        while index < len(chars):
            char = chars[index]
            follows_word = index > 0 and bool(_WORD.match(chars[index - 1]))
            if char == "[" and follows_word:
                end = _mask_group(chars, index)
                if end is None:
                    return None
                index = end
            elif char == "?" and index > 0 and (follows_word or chars[index - 1] == _CLOSE):
                chars[index] = _QUESTION
            index += 1
        masked.append("".join(chars))
    return "\n".join(masked)


def _mask_group(chars: list[str], start: int) -> int | None:
    """Mask ``[...]`` (nested) starting at ``start``; the index of its closing bracket."""
    depth = 0
    for index in range(start, len(chars)):
        char = chars[index]
        if char == "[":
            depth += 1
            chars[index] = _OPEN
        elif char == "]":
            depth -= 1
            chars[index] = _CLOSE
            if depth == 0:
                return index
        elif char == ",":
            chars[index] = _COMMA
        elif char == "?":
            chars[index] = _QUESTION
    return None


def unmask(node: yaml.Node) -> None:
    """Put the original characters back into every scalar of a composed tree."""
    stack = [node]
    seen: set[int] = set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            current.value = current.value.translate(_RESTORE)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
