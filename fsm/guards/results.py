"""The values the type checker passes around, shared by ``check`` and ``operators``.

``Walker`` is the small interface the operator rules need from the checker (recurse, turn a
result into a usable plain type, report), so the two modules do not import each other.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from fsm.datatypes import DataType
from fsm.diagnostics import SourceSpan
from fsm.guards import nodes as n
from fsm.guards.narrowing import Facts
from fsm.guards.typerules import Problem


@attrs.frozen
class Special:
    """Guard-only types: the ``None`` literal, bare ``visits``, and "already reported"."""

    name: str


NONE = Special("None")
VISITS = Special("visits")
INVALID = Special("invalid")
GuardType = DataType | Special


@attrs.frozen
class Result:
    """A checked node (rebuilt with what checking learned), its type after narrowing, its
    declared type (what ``is None`` tests against), and what it proves when true/false."""

    node: n.Expr
    type: GuardType
    declared: GuardType
    facts: Facts = attrs.field(factory=Facts)

    @classmethod
    def of(cls, node: n.Expr, kind: GuardType, facts: Facts | None = None) -> Result:
        return cls(node, kind, kind, facts or Facts())


class Walker(Protocol):
    def check(
        self, node: n.Expr, narrowed: frozenset[n.Path], clause: n.Expr, record: bool
    ) -> Result: ...

    def value(self, result: Result, clause: n.Expr) -> DataType | None: ...

    def error(self, span: SourceSpan, code: str, message: str, hint: str | None = None) -> None: ...

    def report(self, problem: Problem | None) -> bool: ...

    def record_literal(self, path: n.Path, value: object) -> None: ...
