"""YAML (or JSON) text → a small tree of located values.

PyYAML composes the text into nodes that carry start and end marks; we convert them into our own
frozen ``LMap``/``LList``/``LScalar`` values so every later stage can point at the exact text a
value came from. Scalars are resolved by the YAML 1.2 core schema (see ``yaml_dialect``), not
by PyYAML's YAML 1.1 rules: ``on``, ``off``, ``yes``, ``no``, ``y`` and ``n`` stay strings, so
states and events may carry those names.

What the loader refuses, each as a ``Diagnostic``: syntax errors, duplicate keys, keys that are
not strings, merge keys (``<<``), explicit tags (``!!python/object`` and friends), recursive
aliases, documents that hold or expand to more than ``MAX_NODES`` values (an alias bomb), and
collections nested more than ``MAX_DEPTH`` levels deep, counting what aliases bring in (every
later stage may then recurse over a tree without running out of stack).
"""

from __future__ import annotations

from pathlib import Path
from typing import TypeAlias

import attrs
import yaml

from fsm.diagnostics import Diagnostic, Position, SourceSpan
from fsm.errors import SpecError
from fsm.spec.positions import scalar_positions
from fsm.spec.yaml_dialect import (
    IMPLICIT_TAG,
    MAX_DEPTH,
    MAX_NODES,
    DocumentTooLargeError,
    NestingTooDeepError,
    ScalarValue,
    compose,
    resolve_plain,
)


@attrs.frozen
class LScalar:
    """A scalar and where it was written.

    ``text`` is the scalar as YAML read it (after unquoting), ``value`` its resolved value;
    ``quoted`` is true for every non-plain scalar (quoted or block), whose value is always text.
    ``content`` is where the text itself starts: one column after the quote of a quoted scalar.
    ``verbatim`` is true when ``text`` appears character for character in the source on one
    line, so offsets into ``text`` are exact source columns (no escapes, no folding). Otherwise
    ``positions`` holds where each character of ``text`` was written, when it could be aligned
    with the source (escapes, doubled quotes, folded lines, block indentation)."""

    value: ScalarValue
    span: SourceSpan
    quoted: bool
    text: str
    content: SourceSpan
    verbatim: bool = False
    positions: tuple[Position, ...] | None = None

    def span_of(self, start: int, end: int | None = None) -> SourceSpan:
        """The span of ``text[start:end]`` in the source; the content start when not exact."""
        stop = len(self.text) if end is None else end
        if self.positions and start < len(self.positions) and 0 < stop <= len(self.positions):
            line, column = self.positions[start]
            end_line, end_column = self.positions[stop - 1]
            return SourceSpan(self.content.path, line, column, end_line, end_column + 1)
        if not self.verbatim:
            return self.content
        return self.content.shifted(0, self.content.column + start, self.content.column + stop)


@attrs.frozen
class LList:
    items: tuple[LNode, ...]
    span: SourceSpan


@attrs.frozen
class LMap:
    """A mapping in source order; keys are unique strings (the loader guarantees it)."""

    entries: tuple[tuple[LScalar, LNode], ...]
    span: SourceSpan

    def keys(self) -> list[str]:
        return [key.text for key, _ in self.entries]

    def get(self, key: str) -> LNode | None:
        return next((value for k, value in self.entries if k.text == key), None)

    def key(self, key: str) -> LScalar | None:
        return next((k for k, _ in self.entries if k.text == key), None)


LNode: TypeAlias = LMap | LList | LScalar


def to_plain(node: LNode) -> object:
    """The JSON-ready data a node stands for (dicts, lists, scalars)."""
    match node:
        case LScalar(value=value):
            return value
        case LList(items=items):
            return [to_plain(item) for item in items]
        case LMap(entries=entries):
            return {key.text: to_plain(value) for key, value in entries}


def describe(node: LNode) -> str:
    """How messages name what was found: ``a list``, ``the string 'x'``, ``null``."""
    match node:
        case LMap():
            return "a mapping"
        case LList():
            return "a list"
        case LScalar(value=None):
            return "null"
        case LScalar(value=bool() as flag):
            return f"the boolean {str(flag).lower()}"
        case LScalar(value=int()):
            return f"the integer {shortened(node.text)}"
        case LScalar(value=float()):
            return f"the number {shortened(node.text)}"
        case LScalar(text=text):
            return f"the string {shortened(text)!r}"


def shortened(text: str, limit: int = 60) -> str:
    """Long values cut in the middle, so a message stays one readable line."""
    return text if len(text) <= limit else f"{text[: limit - 20]}...{text[-17:]}"


_MERGE_KEY = "<<"


def load_document(text: str, path: str) -> LNode:
    """Parse ``text`` (YAML, or JSON when ``path`` ends in ``.json``) into located values.

    Raises ``SpecError`` listing every problem found, with ``sources`` set to ``{path: text}``.
    """
    root, problems = load_tree(text, path)
    if problems:
        raise SpecError(problems, {path: text})
    return root


def load_tree(text: str, path: str) -> tuple[LNode, list[Diagnostic]]:
    """Like ``load_document``, but returns the problems after which the tree is still usable
    (it leaves out duplicate and non-string keys), so a parser can report them together with
    its own. Raises ``SpecError`` when there is no tree: syntax errors, alias bombs."""
    yaml_text = _json_as_yaml(text) if path.lower().endswith(".json") else text
    try:
        root = compose(yaml_text)
    except NestingTooDeepError as error:
        raise SpecError([_too_deep(path, error.problem_mark)], {path: text}) from None
    except DocumentTooLargeError as error:
        raise SpecError([_too_large(path, error.problem_mark)], {path: text}) from None
    except yaml.MarkedYAMLError as error:
        raise SpecError([_syntax_diagnostic(error, path)], {path: text}) from None
    except yaml.reader.ReaderError as error:
        raise SpecError([_reader_diagnostic(error, text, path)], {path: text}) from None
    except RecursionError:  # not expected: the composer stops at MAX_DEPTH
        raise SpecError([_too_deep(path, None)], {path: text}) from None
    if root is None:
        span = SourceSpan(path, 1, 1)
        return LScalar(None, span, quoted=False, text="", content=span), []
    converter = _Converter(yaml_text, path)
    try:
        result = converter.convert(root)
    except _FatalError as error:
        raise SpecError([error.diagnostic], {path: text}) from None
    except RecursionError:  # not expected: the converter stops at MAX_DEPTH
        raise SpecError([_too_deep(path, None)], {path: text}) from None
    return result, converter.problems


def read_spec_file(path: str | Path) -> tuple[str, LNode]:
    """Read a spec file and load it; see ``read_spec_text`` and ``load_document``."""
    text = read_spec_text(path)
    return text, load_document(text, str(path))


def read_spec_text(path: str | Path) -> str:
    """A spec file's text (UTF-8, BOM dropped); a missing or undecodable file is a
    ``SpecError``."""
    name = str(path)
    where = SourceSpan(name, 1, 1)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        message = f"spec file not found: {name}"
        hint = "check the path; it is resolved against the current directory"
        raise SpecError([Diagnostic(where, message, "file-not-found", hint)]) from None
    except OSError as error:
        message = f"cannot read spec file {name}: {error.strerror or error}"
        raise SpecError([Diagnostic(where, message, "file-unreadable")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        message = f"spec file is not valid UTF-8: byte 0x{raw[error.start]:02x} cannot be decoded"
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):  # Windows tools often write UTF-16
            message = "spec file is UTF-16 (it starts with a UTF-16 byte order mark), not UTF-8"
        hint = "save the file as UTF-8"
        span = SourceSpan(name, line, column)
        raise SpecError([Diagnostic(span, message, "file-encoding", hint)]) from None


def _json_as_yaml(text: str) -> str:
    """JSON is YAML 1.2 flow syntax, except that PyYAML rejects tab indentation. In valid JSON
    a tab can only be whitespace between tokens (inside strings it must be escaped), so
    replacing tabs by spaces keeps every column and every value."""
    return text.replace("\t", " ")


class _FatalError(Exception):
    """A problem after which converting the rest of the document makes no sense."""

    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _Converter:
    """Turns composed PyYAML nodes into located values, collecting problems as it goes.

    Aliased nodes are converted once and shared (values are frozen), while ``_sizes`` tracks
    how many values each node expands to, so an alias bomb is caught without expanding it, and
    ``_depths`` how deeply it nests: the composer bounds the depth of the text, but an alias
    puts a whole nested value one level below where it is written, so chained anchors could
    nest far deeper."""

    def __init__(self, text: str, path: str):
        self.text = text
        self.path = path
        self.problems: list[Diagnostic] = []
        self._done: dict[int, LNode] = {}
        self._sizes: dict[int, int] = {}
        self._depths: dict[int, int] = {}
        self._active: set[int] = set()

    def convert(self, node: yaml.Node) -> LNode:
        key = id(node)
        if key in self._done:
            return self._done[key]
        if key in self._active:
            raise _FatalError(
                Diagnostic(
                    self._span(node),
                    "recursive alias: this value contains itself",
                    "yaml-recursive-alias",
                    "an alias (*name) may only refer to a value defined before it, not around it",
                )
            )
        self._active.add(key)
        self._check_tag(node)
        result: LNode
        if isinstance(node, yaml.MappingNode):
            result = self._mapping(node)
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            result = LList(tuple(self.convert(item) for item in node.value), self._span(node))
            children = node.value
        else:
            assert isinstance(node, yaml.ScalarNode)
            result = self._scalar(node)
            children = []
        size = 1 + sum(self._sizes[id(child)] for child in children)
        depth = 1 + max((self._depths[id(child)] for child in children), default=-1)
        self._active.discard(key)
        if depth > MAX_DEPTH:
            raise _FatalError(
                _too_deep(
                    self.path,
                    node.start_mark,
                    "it is nested this deeply through aliases (*name): each one puts "
                    "everything its anchor holds where it is written; "
                    "write the value out instead of nesting aliases",
                )
            )
        if size > MAX_NODES:
            raise _FatalError(
                Diagnostic(
                    self._span(node),
                    f"the document is too large: this value expands to {size:,} values "
                    f"(the limit is {MAX_NODES:,})",
                    "yaml-too-large",
                    "aliases (*name) copy what they refer to; nested aliases multiply",
                )
            )
        self._sizes[key] = size
        self._depths[key] = depth
        self._done[key] = result
        return result

    def _mapping(self, node: yaml.MappingNode) -> LMap:
        entries: list[tuple[LScalar, LNode]] = []
        first_seen: dict[str, LScalar] = {}
        for key_node, value_node in node.value:
            key = self.convert(key_node)
            value = self.convert(value_node)
            if not isinstance(key, LScalar) or not isinstance(key.value, str):
                self._add(
                    key.span,
                    f"mapping keys must be strings, got {describe(key)}",
                    "yaml-key-type",
                    "quote the key" if isinstance(key, LScalar) else None,
                )
                continue
            if key.text == _MERGE_KEY and not key.quoted:
                self._add(
                    key.span,
                    "merge keys ('<<') are not supported",
                    "yaml-merge-key",
                    "write the keys out, or use an alias (*name) for a whole value",
                )
                continue
            if key.text in first_seen:
                first = first_seen[key.text]
                self._add(
                    key.span,
                    f"duplicate key {key.text!r} (first defined on line {first.span.line})",
                    "yaml-duplicate-key",
                    "a key may appear once per mapping; merge the two entries",
                )
                continue
            first_seen[key.text] = key
            entries.append((key, value))
        return LMap(tuple(entries), self._span(node))

    def _scalar(self, node: yaml.ScalarNode) -> LScalar:
        quoted = bool(node.style)  # plain: None (PyYAML) or "" (libyaml)
        text: str = node.value
        if node.style == '"':
            text = self._join_surrogates(node, text)
        value: ScalarValue = text if quoted else resolve_plain(text)
        index, line, column = self._content_start(node)
        content = SourceSpan(self.path, line, column)
        verbatim = "\n" not in text and self.text[index : index + len(text)] == text
        positions = None
        if not verbatim and text:
            raw = self.text[index : node.end_mark.index]
            positions = scalar_positions(raw, text, node.style, line, column)
        return LScalar(value, self._span(node), quoted, text, content, verbatim, positions)

    def _join_surrogates(self, node: yaml.ScalarNode, text: str) -> str:
        """JSON writes characters outside the BMP as two ``\\u`` escapes; PyYAML keeps the
        halves apart. Join them, and reject a half without its partner."""
        if not any("\ud800" <= char <= "\udfff" for char in text):
            return text
        try:
            return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
        except UnicodeDecodeError:
            self._add(
                self._span(node),
                "invalid \\u escape: a lone UTF-16 surrogate is not a character",
                "yaml-escape",
                "write the character itself, or both halves of its surrogate pair",
            )
            return text

    def _check_tag(self, node: yaml.Node) -> None:
        if node.tag == IMPLICIT_TAG:
            return
        tag = node.tag
        if tag.startswith("tag:yaml.org,2002:"):
            tag = "!!" + tag.removeprefix("tag:yaml.org,2002:")
        self._add(
            self._span(node),
            f"tags are not supported (found {tag!r})",
            "yaml-tag",
            "remove the tag; a spec is plain data",
        )

    def _content_start(self, node: yaml.ScalarNode) -> tuple[int, int, int]:
        """Where a scalar's text starts: (index, 1-based line, 1-based column)."""
        mark = node.start_mark
        if node.style in ("'", '"'):
            return mark.index + 1, mark.line + 1, mark.column + 2
        if node.style in ("|", ">"):
            return self._block_content_start(node)
        return mark.index, mark.line + 1, mark.column + 1

    def _block_content_start(self, node: yaml.ScalarNode) -> tuple[int, int, int]:
        """A block scalar's text starts on the first non-blank line after its header."""
        mark = node.start_mark
        line = mark.line + 1
        row_start = self.text.find("\n", mark.index) + 1
        while 0 < row_start < node.end_mark.index:
            line += 1
            row_end = self.text.find("\n", row_start)
            row = self.text[row_start : row_end if row_end >= 0 else len(self.text)]
            indent = len(row) - len(row.lstrip(" "))
            if row.strip():
                return row_start + indent, line, indent + 1
            row_start = row_end + 1
        return mark.index, mark.line + 1, mark.column + 1

    def _span(self, node: yaml.Node) -> SourceSpan:
        start, end = node.start_mark, node.end_mark
        return SourceSpan(self.path, start.line + 1, start.column + 1, end.line + 1, end.column + 1)

    def _add(self, span: SourceSpan, message: str, code: str, hint: str | None = None) -> None:
        self.problems.append(Diagnostic(span, message, code, hint))


_UNCLOSED_ADVICE = {
    "flow mapping": "close it with '}', separate its entries with ','; a quote left open or a"
    " ' #' comment can hide its end",
    "flow sequence": "close it with ']', separate its items with ','; a quote left open or a"
    " ' #' comment can hide its end",
    "block mapping": "keys of one mapping start in the same column; check the indentation",
    "block collection": "keys of one mapping start in the same column; check the indentation",
    "quoted scalar": "close the quote",
}


def _syntax_diagnostic(error: yaml.MarkedYAMLError, path: str) -> Diagnostic:
    mark = error.problem_mark or error.context_mark
    span = SourceSpan(path, mark.line + 1, mark.column + 1) if mark else SourceSpan(path, 1, 1)
    problem = error.problem or error.context or "cannot parse the document"
    hint = error.context if error.problem and error.context else None
    if "'\\t'" in problem:
        hint = "indent with spaces; YAML does not allow tabs for indentation"
    elif problem == "mapping values are not allowed here":
        hint = (
            "a plain value cannot contain ': '; quote the value, or check this line's indentation"
        )
    elif problem == "but found another document":
        problem = "a spec is one YAML document, but another one starts here"
        hint = "remove the document from here on, or move it to a file of its own"
    elif hint is not None and error.context_mark is not None and mark is not None:
        hint = _context_hint(hint, error.context_mark, mark)
    return Diagnostic(span, f"invalid YAML: {problem}", "yaml-syntax", hint)


def _context_hint(context: str, start: yaml.Mark, problem: yaml.Mark) -> str:
    """Where the collection or scalar being parsed began: a missing bracket, quote or comma
    (or a '#' that commented out the rest of a line) is found later, often lines later."""
    if (start.line, start.column) == (problem.line, problem.column):
        return context
    place = f"{context} that starts at line {start.line + 1}, column {start.column + 1}"
    kind = next((k for k in _UNCLOSED_ADVICE if context.endswith(k)), None)
    return place if kind is None else f"{place}: {_UNCLOSED_ADVICE[kind]}"


def _reader_diagnostic(error: yaml.reader.ReaderError, text: str, path: str) -> Diagnostic:
    position = int(error.position)
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    message = f"invalid YAML: character {error.character!r} is not allowed in YAML text"
    hint = "remove the control character, or write it as an escape in a double-quoted string"
    return Diagnostic(SourceSpan(path, line, column), message, "yaml-syntax", hint)


def _too_large(path: str, mark: yaml.Mark | None) -> Diagnostic:
    """More than ``MAX_NODES`` values written out, at the first one too many."""
    span = SourceSpan(path, mark.line + 1, mark.column + 1) if mark else SourceSpan(path, 1, 1)
    return Diagnostic(
        span,
        f"the document is too large: it holds more than {MAX_NODES:,} values",
        "yaml-too-large",
        "a spec holds a few hundred; check that this is the spec file",
    )


def _too_deep(path: str, mark: yaml.Mark | None, hint: str | None = None) -> Diagnostic:
    """Collections nested more than ``MAX_DEPTH`` levels, at the first one too many."""
    span = SourceSpan(path, mark.line + 1, mark.column + 1) if mark else SourceSpan(path, 1, 1)
    default_hint = (
        "a spec needs only a few levels of nesting: look here for a run of unclosed '[' or "
        "'{', of '- ' or '? ' indicators, or of ever deeper indentation, and flatten it "
        "(a nested type can be named as a contract)"
    )
    return Diagnostic(
        span,
        f"collections nested more than {MAX_DEPTH} levels deep",
        "yaml-too-deep",
        hint or default_hint,
    )
