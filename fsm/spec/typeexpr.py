"""The type expression mini-language of specs: ``list[Issue]``, ``dict[str, int]``, ``Review?``.

Grammar (whitespace between tokens is ignored)::

    type  := atom "?"?
    atom  := NAME                          str, int, float, bool, or a contract name
           | "list" "[" type "]"
           | "dict" "[" "str" "," type "]"

``?`` makes any type optional, at any depth (``list[str?]?``); writing it twice is an error.
Parsing yields an unresolved tree whose nodes keep their offsets in the text, so errors point at
the column inside the YAML string. Resolution against the declared contracts happens afterwards
(``build_type``), once every contract is known: declaration order does not matter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import TypeAlias

import attrs

from fsm.datatypes import SCALARS, DataType, DictType, ListType, OptionalType, RecordType
from fsm.diagnostics import did_you_mean

GENERICS = ("list", "dict")
MAX_TYPE_DEPTH = 64
"""Levels a type may nest (``list[…]``, ``dict[…]``, ``?`` and contracts holding contracts each
add one): far past any real data shape, and far from the recursion limit of every stage that
walks a type (parser, checker, code generator, value conversion)."""


@attrs.frozen
class TypeName:
    """A scalar or contract name; ``start``/``end`` are 0-based offsets into the text."""

    name: str
    start: int
    end: int


@attrs.frozen
class ListExpr:
    item: TypeExpr
    start: int
    end: int


@attrs.frozen
class DictExpr:
    """``dict[str, value]``: the parser only accepts ``str`` keys, so only the value is kept."""

    value: TypeExpr
    start: int
    end: int


@attrs.frozen
class OptionalExpr:
    inner: TypeExpr
    start: int
    end: int


TypeExpr: TypeAlias = TypeName | ListExpr | DictExpr | OptionalExpr


class TypeExprError(Exception):
    """A type expression that does not parse or names an unknown type.

    ``start``/``end`` are 0-based offsets into the expression text; ``hint`` says how to fix it.
    """

    def __init__(self, message: str, start: int, end: int, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.start = start
        self.end = max(end, start + 1)
        self.hint = hint


def parse_type_expr(text: str) -> TypeExpr:
    """Parse ``text`` into an unresolved type tree; raises ``TypeExprError``."""
    parser = _Parser(text)
    result = parser.parse_type()
    parser.skip_space()
    if parser.pos < len(text):
        char = text[parser.pos]
        raise TypeExprError(
            f"unexpected {char!r} after the type",
            parser.pos,
            len(text),
            _trailing_hint(char),
        )
    return result


def _trailing_hint(char: str) -> str | None:
    if char == "|":
        return "union types are not supported; use 'T?' for an optional value"
    if char in ",]":
        return "check the brackets: list[T] takes one type, dict[str, T] two"
    return None


class _Parser:
    """Recursive descent over the text; ``pos`` is the offset of the next character."""

    def __init__(self, text: str):
        self.text = text
        self.pos = 0
        self.depth = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def parse_type(self) -> TypeExpr:
        self.skip_space()
        start = self.pos
        if self.depth >= MAX_TYPE_DEPTH:  # before recursing further, not at the recursion limit
            raise TypeExprError(
                f"type nested more than {MAX_TYPE_DEPTH} levels deep",
                start,
                start + 1,
                "flatten the data: define a contract for the inner part",
            )
        self.depth += 1
        atom = self.parse_atom()
        self.depth -= 1
        self.skip_space()
        if self.peek("?"):
            self.pos += 1
            result: TypeExpr = OptionalExpr(atom, start, self.pos)
            self.skip_space()
            if self.peek("?"):
                raise TypeExprError(
                    "'?' written twice", self.pos, self.pos + 1, "one '?' makes a type optional"
                )
            return result
        return atom

    def parse_atom(self) -> TypeExpr:
        start = self.pos
        name = self.read_name()
        self.skip_space()
        if name not in GENERICS:
            if self.peek("["):
                raise TypeExprError(
                    f"type {name!r} takes no type arguments",
                    self.pos,
                    self.pos + 1,
                    "only list[T] and dict[str, T] take arguments",
                )
            return TypeName(name, start, start + len(name))
        if not self.peek("["):
            usage = "list[T]" if name == "list" else "dict[str, T]"
            raise TypeExprError(
                f"{name!r} needs its item type, e.g. {usage}", start, start + len(name)
            )
        self.pos += 1
        if name == "list":
            item = self.parse_type()
            self.expect("]", "to close list[")
            return ListExpr(item, start, self.pos)
        key = self.parse_type()
        if key != TypeName("str", key.start, key.end):
            raise TypeExprError(
                "dict keys must be str",
                key.start,
                key.end,
                "write dict[str, T]; keys are always strings so values stay JSON-ready",
            )
        self.expect(",", "between the key and value types of dict[str, T]")
        value = self.parse_type()
        self.expect("]", "to close dict[")
        return DictExpr(value, start, self.pos)

    def read_name(self) -> str:
        start = self.pos
        if self.pos < len(self.text) and _is_name_start(self.text[self.pos]):
            self.pos += 1
            while self.pos < len(self.text) and _is_name_char(self.text[self.pos]):
                self.pos += 1
            return self.text[start : self.pos]
        if self.pos >= len(self.text):
            raise TypeExprError(
                "expected a type, found the end of the text",
                self.pos,
                self.pos + 1,
                "types are str, int, float, bool, list[T], dict[str, T], contract names, T?",
            )
        raise TypeExprError(f"expected a type name, found {self.text[self.pos]!r}", start, start)

    def expect(self, char: str, purpose: str) -> None:
        self.skip_space()
        if self.peek(char):
            self.pos += 1
            return
        found = repr(self.text[self.pos]) if self.pos < len(self.text) else "the end of the text"
        raise TypeExprError(f"expected {char!r} {purpose}, found {found}", self.pos, self.pos + 1)

    def peek(self, char: str) -> bool:
        return self.text.startswith(char, self.pos)


def _is_name_start(char: str) -> bool:
    return char.isascii() and (char.isalpha() or char == "_")


def _is_name_char(char: str) -> bool:
    return char.isascii() and (char.isalnum() or char == "_")


def names_in(expr: TypeExpr) -> Iterator[TypeName]:
    """Every name the expression mentions, left to right."""
    match expr:
        case TypeName():
            yield expr
        case ListExpr(item=inner) | DictExpr(value=inner) | OptionalExpr(inner=inner):
            yield from names_in(inner)


def unknown_names(expr: TypeExpr, known: Collection[str]) -> list[TypeExprError]:
    """An error for every name that is neither a scalar type nor in ``known``."""
    candidates = [*SCALARS, *known]
    return [
        TypeExprError(
            f"unknown type {name.name!r}",
            name.start,
            name.end,
            did_you_mean(name.name, candidates),
        )
        for name in names_in(expr)
        if name.name not in SCALARS and name.name not in known
    ]


def type_depth(data_type: DataType, known: dict[str, int]) -> int:
    """Levels ``data_type`` nests, records included; ``known`` memoises records by name, so a
    contract used many times is walked once."""
    depth = 1
    while isinstance(data_type, ListType | DictType | OptionalType):
        depth += 1
        data_type = (
            data_type.item
            if isinstance(data_type, ListType)
            else data_type.value
            if isinstance(data_type, DictType)
            else data_type.inner
        )
    if isinstance(data_type, RecordType):
        if data_type.name not in known:
            fields = (type_depth(field.type, known) for field in data_type.fields)
            known[data_type.name] = max(fields, default=0)
        depth += known[data_type.name]
    return depth


def build_type(expr: TypeExpr, named: Mapping[str, DataType]) -> DataType:
    """The resolved type. Every name must be a scalar or in ``named`` (see ``unknown_names``)."""
    match expr:
        case TypeName(name=name):
            return SCALARS[name] if name in SCALARS else named[name]
        case ListExpr(item=item):
            return ListType(build_type(item, named))
        case DictExpr(value=value):
            return DictType(build_type(value, named))
        case OptionalExpr(inner=inner):
            return OptionalType(build_type(inner, named))
