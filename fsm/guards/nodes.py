"""The guard language's own syntax tree: small frozen values, one class per allowed construct.

``parse`` builds these from Python's ``ast`` through an allowlist, so every later stage (check,
emit, interpret) only ever sees constructs the language allows. Each node keeps the span of the
text it came from, so type errors point inside the YAML string.
"""

from __future__ import annotations

from typing import Literal as Lit
from typing import TypeAlias

import attrs

from fsm.diagnostics import SourceSpan

LiteralValue: TypeAlias = int | float | str | bool | None
CompareOp = Lit["==", "!=", "<", "<=", ">", ">=", "in", "not in"]
ArithmeticOp = Lit["+", "-", "*", "/", "//", "%"]
FunctionName = Lit["len", "abs", "min", "max"]
MethodName = Lit[
    "startswith", "endswith", "lower", "upper", "strip", "isdigit", "isalpha", "isalnum"
]
ContainerKind = Lit["list", "dict", "unknown"]
Path: TypeAlias = tuple[str, ...]

FUNCTIONS: tuple[FunctionName, ...] = ("len", "abs", "min", "max")
METHODS: tuple[MethodName, ...] = (
    "startswith",
    "endswith",
    "lower",
    "upper",
    "strip",
    "isdigit",
    "isalpha",
    "isalnum",
)
STEPS = "steps"
VISITS = "visits"


@attrs.frozen
class Literal:
    """An int, float, str, bool or None written in the guard (``-2`` is folded into one)."""

    value: LiteralValue
    span: SourceSpan


@attrs.frozen
class LiteralList:
    """``[1, 2]`` or ``('a', 'b')``: allowed only as the right operand of ``in``/``not in``."""

    items: tuple[Literal, ...]
    span: SourceSpan


@attrs.frozen
class Name:
    """A context field, or one of the built-ins ``steps`` and ``visits``."""

    name: str
    span: SourceSpan


@attrs.frozen
class Attribute:
    """``value.name``: a record field, or ``visits.<state>``."""

    value: Expr
    name: str
    span: SourceSpan
    name_span: SourceSpan


@attrs.frozen
class Subscript:
    """``xs[i]`` or ``d["k"]``; reads ``None`` when the index or key is missing.

    ``kind`` is ``"unknown"`` after parsing; the checker fills in ``"list"`` or ``"dict"`` so
    the emitter can choose the lookup without looking at run-time types."""

    value: Expr
    index: Expr
    span: SourceSpan
    kind: ContainerKind = "unknown"


@attrs.frozen
class IsNone:
    """``operand is None`` (or ``is not None`` when ``negated``): the only use of ``is``."""

    operand: Expr
    negated: bool
    span: SourceSpan


@attrs.frozen
class Compare:
    """A comparison, possibly chained: ``0 < x <= 1`` has two ops and two comparators."""

    left: Expr
    ops: tuple[CompareOp, ...]
    comparators: tuple[Expr, ...]
    span: SourceSpan


@attrs.frozen
class BoolOp:
    """``a and b and c`` or ``a or b``: flattened as Python's ``ast`` does."""

    op: Lit["and", "or"]
    values: tuple[Expr, ...]
    span: SourceSpan


@attrs.frozen
class Not:
    operand: Expr
    span: SourceSpan


@attrs.frozen
class Unary:
    """``-x`` or ``+x`` on a number."""

    op: Lit["-", "+"]
    operand: Expr
    span: SourceSpan


@attrs.frozen
class Arithmetic:
    op: ArithmeticOp
    left: Expr
    right: Expr
    span: SourceSpan


@attrs.frozen
class Call:
    """A call of one of the pure built-in functions ``len abs min max``."""

    function: FunctionName
    args: tuple[Expr, ...]
    span: SourceSpan


@attrs.frozen
class MethodCall:
    """A call of one of the allowed string methods on a ``str`` value."""

    receiver: Expr
    method: MethodName
    args: tuple[Expr, ...]
    span: SourceSpan


Expr: TypeAlias = (
    Literal
    | LiteralList
    | Name
    | Attribute
    | Subscript
    | IsNone
    | Compare
    | BoolOp
    | Not
    | Unary
    | Arithmetic
    | Call
    | MethodCall
)


def path_of(expr: Expr) -> Path | None:
    """The narrowing key of a place expression (``review.issues``, ``d['k']``), else None.

    Guards have no side effects, so two occurrences of the same place in one guard always hold
    the same value; that is what makes ``d['k'] is not None and d['k'] > 3`` sound."""
    match expr:
        case Name(name=name):
            return (name,)
        case Attribute(value=value, name=name):
            base = path_of(value)
            return None if base is None else (*base, name)
        case Subscript(value=value, index=index):
            base = path_of(value)
            return None if base is None else (*base, f"[{render(index)}]")
        case _:
            return None


def field_path_of(expr: Expr) -> Path | None:
    """The path of a pure attribute chain (``review.score``), else None (subscripts stop it)."""
    match expr:
        case Name(name=name):
            return (name,)
        case Attribute(value=value, name=name):
            base = field_path_of(value)
            return None if base is None else (*base, name)
        case _:
            return None


def render_path(path: Path) -> str:
    """``('d', "['k']", 'x')`` → ``d['k'].x``."""
    text = path[0]
    for part in path[1:]:
        text += part if part.startswith("[") else f".{part}"
    return text


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "compare": 4, "+": 5, "-": 5, "*": 6, "/": 6}
_PRECEDENCE |= {"//": 6, "%": 6, "unary": 7, "atom": 9}


def render(expr: Expr) -> str:
    """Canonical guard text for ``expr``, used in messages and hints (never executed)."""
    text, _ = _render(expr)
    return text


def _render(expr: Expr) -> tuple[str, int]:
    match expr:
        case Literal(value=value):
            return _literal(value), (_PRECEDENCE["unary"] if _is_negative(value) else 9)
        case LiteralList(items=items):
            return "[" + ", ".join(_literal(i.value) for i in items) + "]", 9
        case Name(name=name):
            return name, 9
        case Attribute(value=value, name=name):
            return f"{_wrap(value, 9)}.{name}", 9
        case Subscript(value=value, index=index):
            return f"{_wrap(value, 9)}[{render(index)}]", 9
        case IsNone(operand=operand, negated=negated):
            op = "is not" if negated else "is"
            return f"{_wrap(operand, 5)} {op} None", 4
        case Compare(left=left, ops=ops, comparators=comparators):
            parts = [_wrap(left, 5)]
            for op, right in zip(ops, comparators, strict=True):
                parts.append(f"{op} {_wrap(right, 5)}")
            return " ".join(parts), 4
        case BoolOp(op=op, values=values):
            level = _PRECEDENCE[op]
            return f" {op} ".join(_wrap(v, level + 1) for v in values), level
        case Not(operand=operand):
            return f"not {_wrap(operand, 3)}", 3
        case Unary(op=op, operand=operand):
            return f"{op}{_wrap(operand, 7)}", 7
        case Arithmetic(op=op, left=left, right=right):
            level = _PRECEDENCE[op]
            return f"{_wrap(left, level)} {op} {_wrap(right, level + 1)}", level
        case Call(function=function, args=args):
            return f"{function}({', '.join(render(a) for a in args)})", 9
        case MethodCall(receiver=receiver, method=method, args=args):
            return f"{_wrap(receiver, 9)}.{method}({', '.join(render(a) for a in args)})", 9


def _wrap(expr: Expr, minimum: int) -> str:
    text, level = _render(expr)
    return text if level >= minimum else f"({text})"


def _is_negative(value: LiteralValue) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value < 0


def _literal(value: LiteralValue) -> str:
    """Python's spelling: strings in single quotes where they need no escapes, as guards are
    written inside a double-quoted YAML string, so a hint's text pastes back into the spec."""
    return repr(value)
