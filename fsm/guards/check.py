"""Type-check a parsed guard against the context's declared types, with None-narrowing.

Every name and attribute resolves against the context once, here; the result is a
``CheckedGuard`` that the emitter compiles and the flow analysis reads (paths read, fields the
guard proves non-None). Narrowing is by *path* (``review``, ``review.notes``, ``d['k']``):
guards have no side effects, so a place tested with ``is not None`` holds the same value for the
rest of the expression. Facts flow left to right through ``and`` (when true) and ``or`` (when
false), and ``not`` swaps them. All problems are collected, then raised once.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from fsm.datatypes import (
    BOOL,
    FLOAT,
    INT,
    STR,
    DataType,
    DictType,
    ListType,
    OptionalType,
    RecordType,
    render_type,
)
from fsm.diagnostics import Diagnostic, SourceSpan, did_you_mean, sort_diagnostics
from fsm.errors import GuardError
from fsm.guards import nodes as n
from fsm.guards.narrowing import Facts
from fsm.guards.operators import check_operator
from fsm.guards.results import INVALID, NONE, VISITS, GuardType, Result, Special
from fsm.guards.typerules import Problem, truthiness_hint


@attrs.frozen
class GuardEnv:
    """What a guard may read at one place in the graph."""

    fields: Mapping[str, DataType]
    states: tuple[str, ...]
    not_none: frozenset[str] = frozenset()


@attrs.frozen
class CheckedGuard:
    """A well-typed guard and what the rest of the system needs to know about it.

    ``not_none_if_true``/``_if_false`` hold only what the guard itself proves, on top of
    ``GuardEnv.not_none``. ``literals`` pairs each compared path with the literal it is
    compared to (property tests use them as boundary values)."""

    text: str
    expr: n.Expr
    reads: frozenset[n.Path]
    not_none_if_true: frozenset[str]
    not_none_if_false: frozenset[str]
    literals: tuple[tuple[n.Path, object], ...]


def check_guard(expr: n.Expr, env: GuardEnv, *, text: str | None = None) -> CheckedGuard:
    """Type-check ``expr``; ``text`` is the source (defaults to a canonical rendering)."""
    checker = _Checker(env)
    narrowed = frozenset((name,) for name in env.not_none)
    result = checker.check(expr, narrowed, expr, record=True)
    if result.type is not INVALID and result.type != BOOL:
        checker.require_bool(result, expr, "a guard")
    if checker.diagnostics:
        raise GuardError(sort_diagnostics(checker.diagnostics))
    return CheckedGuard(
        text=n.render(expr) if text is None else text,
        expr=result.node,
        reads=frozenset(checker.reads),
        not_none_if_true=_top_level(result.facts.if_true, env),
        not_none_if_false=_top_level(result.facts.if_false, env),
        literals=tuple(checker.literals.values()),
    )


def _top_level(paths: frozenset[n.Path], env: GuardEnv) -> frozenset[str]:
    return frozenset(p[0] for p in paths if len(p) == 1 and p[0] in env.fields)


class _Checker:
    """Walks the tree once, collecting diagnostics, reads and compared literals."""

    def __init__(self, env: GuardEnv) -> None:
        self.env = env
        self.diagnostics: list[Diagnostic] = []
        self.reads: set[n.Path] = set()
        self.literals: dict[tuple[n.Path, str, str], tuple[n.Path, object]] = {}

    # -- reporting -------------------------------------------------------------------------
    def error(self, span: SourceSpan, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(span, message, code, hint=hint))

    def report(self, problem: Problem | None) -> bool:
        """Record ``problem`` if there is one; True when the operands were fine."""
        if problem is None:
            return True
        self.error(problem.node.span, "guard-type", problem.message, problem.hint)
        return False

    def record_literal(self, path: n.Path, value: object) -> None:
        key = (path, type(value).__name__, repr(value))
        self.literals.setdefault(key, (path, value))

    # -- values ----------------------------------------------------------------------------
    def value(self, result: Result, clause: n.Expr) -> DataType | None:
        """The plain type of an operand, or None after reporting why it cannot be used."""
        node, kind = result.node, result.type
        if kind is INVALID:
            return None
        if kind is NONE:
            self.error(
                node.span,
                "guard-type",
                "None can be used only as `x is None` or `x is not None`",
            )
            return None
        if kind is VISITS:
            states = ", ".join(self.env.states) or "none declared"
            self.error(
                node.span,
                "guard-type",
                "`visits` is read per state, e.g. visits.drafting",
                f"states: {states}",
            )
            return None
        assert not isinstance(kind, Special)
        if isinstance(kind, OptionalType):
            self.optional_error(node, clause)
            return None
        return kind

    def optional_error(self, node: n.Expr, clause: n.Expr) -> None:
        text = n.render(node)
        why = " (a missing index or key reads as None)" if isinstance(node, n.Subscript) else ""
        self.error(
            node.span,
            "guard-optional",
            f"`{text}` may be None here{why}; narrow it first: "
            f"{text} is not None and {n.render(clause)}",
        )

    def require_bool(self, result: Result, clause: n.Expr, role: str) -> bool:
        if result.type is INVALID or result.type == BOOL:
            return result.type == BOOL
        if result.type == OptionalType(BOOL):
            self.optional_error(result.node, clause)
            return False
        if isinstance(result.type, Special):
            self.value(result, clause)
            return False
        text = n.render(result.node)
        self.error(
            result.node.span,
            "guard-type",
            f"{role} must be a bool condition; `{text}` is {render_type(result.type)} "
            "(guards do not test truthiness)",
            truthiness_hint(text, result.type),
        )
        return False

    # -- the walk --------------------------------------------------------------------------
    def check(
        self, node: n.Expr, narrowed: frozenset[n.Path], clause: n.Expr, record: bool
    ) -> Result:
        match node:
            case n.Literal(value=value):
                return self.literal(node, value)
            case n.LiteralList():
                self.error(node.span, "guard-type", "a list of literals may appear only after `in`")
                return Result.of(node, INVALID)
            case n.Name():
                return self.name(node, narrowed, record)
            case n.Attribute():
                return self.attribute(node, narrowed, clause, record)
            case n.Subscript():
                return self.subscript(node, narrowed, clause)
            case n.IsNone():
                return self.is_none(node, narrowed, clause)
            case n.BoolOp():
                return self.bool_op(node, narrowed)
            case n.Not(operand=operand):
                inner = self.check(operand, narrowed, operand, record=True)
                self.require_bool(inner, operand, "the operand of `not`")
                node = attrs.evolve(node, operand=inner.node)
                return Result.of(node, BOOL, inner.facts.negated())
            case _:
                return check_operator(self, node, narrowed, clause)

    def literal(self, node: n.Literal, value: n.LiteralValue) -> Result:
        kind: GuardType
        if value is None:
            kind = NONE
        elif isinstance(value, bool):
            kind = BOOL
        elif isinstance(value, int):
            kind = INT
        elif isinstance(value, float):
            kind = FLOAT
        else:
            kind = STR
        return Result.of(node, kind)

    def narrow(self, node: n.Expr, declared: DataType, narrowed: frozenset[n.Path]) -> Result:
        path = n.path_of(node)
        if isinstance(declared, OptionalType) and path is not None and path in narrowed:
            return Result(node, declared.inner, declared)
        return Result(node, declared, declared)

    def name(self, node: n.Name, narrowed: frozenset[n.Path], record: bool) -> Result:
        if node.name == n.STEPS:
            self.reads.add((n.STEPS,))
            return Result.of(node, INT)
        if node.name == n.VISITS:
            return Result.of(node, VISITS)
        declared = self.env.fields.get(node.name)
        if declared is None:
            names = [*self.env.fields, n.STEPS, n.VISITS]
            hint = did_you_mean(node.name, names) or "available: " + ", ".join(names)
            self.error(
                node.span, "guard-unknown-name", f"unknown name '{node.name}' in guard", hint
            )
            return Result.of(node, INVALID)
        if record:
            self.reads.add((node.name,))
        return self.narrow(node, declared, narrowed)

    def attribute(
        self, node: n.Attribute, narrowed: frozenset[n.Path], clause: n.Expr, record: bool
    ) -> Result:
        if isinstance(node.value, n.Name) and node.value.name == n.VISITS:
            return self.visits(node)
        base = self.check(node.value, narrowed, clause, record=False)
        base_type = self.value(base, clause)
        node = attrs.evolve(node, value=base.node)
        if base_type is None and isinstance(base.type, OptionalType):
            self.field_type(node, base.type.inner)  # also report a misspelt field at once
        if base_type is None:
            return Result.of(node, INVALID)
        field_type = self.field_type(node, base_type)
        if field_type is None:
            return Result.of(node, INVALID)
        path = n.field_path_of(node)
        if record and path is not None:
            self.reads.add(path)
        return self.narrow(node, field_type, narrowed)

    def field_type(self, node: n.Attribute, base_type: DataType) -> DataType | None:
        """The declared type of field ``node.name`` of ``base_type``, or None (reported)."""
        if not isinstance(base_type, RecordType):
            text = n.render(node.value)
            if base_type == STR and node.name in n.METHODS:
                hint = f"call it: {text}.{node.name}()"
            else:
                hint = "only records have fields"
            message = f"`{text}` is {render_type(base_type)}; it has no field '{node.name}'"
            self.error(node.name_span, "guard-type", message, hint)
            return None
        field = base_type.field(node.name)
        if field is None:
            names = base_type.field_names()
            hint = did_you_mean(node.name, names) or "fields: " + ", ".join(names)
            message = f"unknown field '{node.name}' of {base_type.name} in guard"
            self.error(node.name_span, "guard-unknown-name", message, hint)
            return None
        return field.type

    def visits(self, node: n.Attribute) -> Result:
        if node.name not in self.env.states:
            states = self.env.states
            hint = did_you_mean(node.name, states) or "states: " + ", ".join(states)
            message = f"unknown state '{node.name}' in visits.{node.name}"
            self.error(node.name_span, "guard-unknown-name", message, hint)
            return Result.of(node, INVALID)
        self.reads.add((n.VISITS, node.name))
        return Result.of(node, INT)

    def subscript(self, node: n.Subscript, narrowed: frozenset[n.Path], clause: n.Expr) -> Result:
        container = self.check(node.value, narrowed, clause, record=True)
        index = self.check(node.index, narrowed, clause, record=True)
        container_t, index_t = self.value(container, clause), self.value(index, clause)
        node = attrs.evolve(node, value=container.node, index=index.node)
        if container_t is None or index_t is None:
            return Result.of(node, INVALID)
        text = n.render(node.value)
        match container_t:
            case ListType(item=item) if index_t == INT:
                return self.narrow(attrs.evolve(node, kind="list"), _optional(item), narrowed)
            case DictType(value=item) if index_t == STR:
                return self.narrow(attrs.evolve(node, kind="dict"), _optional(item), narrowed)
            case ListType() | DictType():
                need = "int" if isinstance(container_t, ListType) else "str"
                message = f"`{text}` is indexed by {need}; found {render_type(index_t)}"
                self.error(node.index.span, "guard-type", message)
            case _:
                message = (
                    f"only lists and dicts can be indexed; `{text}` is {render_type(container_t)}"
                )
                self.error(node.span, "guard-type", message)
        return Result.of(node, INVALID)

    def is_none(self, node: n.IsNone, narrowed: frozenset[n.Path], clause: n.Expr) -> Result:
        inner = self.check(node.operand, narrowed, clause, record=True)
        node = attrs.evolve(node, operand=inner.node)
        if inner.type is INVALID:
            return Result.of(node, BOOL)
        if inner.type is NONE:
            always = "false" if node.negated else "true"
            self.error(
                node.span,
                "guard-type",
                f"`{n.render(node)}` tests the literal None, so it is always {always}",
                "test a context field instead, e.g. review is not None",
            )
            return Result.of(node, BOOL)
        if isinstance(inner.declared, Special):
            self.value(inner, clause)  # bare `visits`: explains how to read it
            return Result.of(node, BOOL)
        if not isinstance(inner.declared, OptionalType):
            text = n.render(node.operand)
            found = render_type(inner.declared)
            always = "true" if node.negated else "false"
            self.error(
                node.span,
                "guard-type",
                f"`{text}` is {found}, never None, so this test is always {always}",
                "remove the test; only optional (T?) fields and subscripts can be None",
            )
            return Result.of(node, BOOL)
        path = n.path_of(node.operand)
        facts = Facts() if path is None else Facts.is_none(path, negated=node.negated)
        return Result.of(node, BOOL, facts)

    def bool_op(self, node: n.BoolOp, narrowed: frozenset[n.Path]) -> Result:
        facts: Facts | None = None
        values: list[n.Expr] = []
        for operand in node.values:
            known = narrowed if facts is None else narrowed | facts.assumed(node.op)
            result = self.check(operand, known, operand, record=True)
            self.require_bool(result, operand, f"each operand of `{node.op}`")
            values.append(result.node)
            facts = result.facts if facts is None else facts.combine(node.op, result.facts)
        assert facts is not None
        return Result.of(attrs.evolve(node, values=tuple(values)), BOOL, facts)


def _optional(data_type: DataType) -> DataType:
    return data_type if isinstance(data_type, OptionalType) else OptionalType(data_type)
