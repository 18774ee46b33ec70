"""Compile a checked guard into a fast Python function, from *our* tree, never the user's text.

The generated source is straight-line code: one ``return`` of an expression built from
validated identifiers, ``repr()`` of every literal and a handful of helpers. It runs in a
namespace whose ``__builtins__`` is empty, so even a bug here could not reach ``open`` or
``__import__``. Example output::

    def _guard(ctx, steps, visits):
        return ((ctx.review.score >= 0.8) and (visits.get('drafting', 0) < 3))
"""

from __future__ import annotations

import functools
import keyword
import math
from collections.abc import Callable, Mapping, Sequence
from types import CodeType
from typing import Any, TypeAlias, cast

from fsm.guards import nodes as n
from fsm.guards.check import CheckedGuard

GuardFn: TypeAlias = Callable[[Any, int, Mapping[str, int]], bool]
"""A compiled guard: ``(context, steps, visits) -> bool``."""


def item_or_none(items: Sequence[object], index: int) -> object:
    """``items[index]`` with Python's indexing (negative counts from the end), else None."""
    return items[index] if -len(items) <= index < len(items) else None


HELPERS: dict[str, object] = {
    "len": len,
    "abs": abs,
    "min": min,
    "max": max,
    "_item": item_or_none,
}
"""Everything a compiled guard can reach besides its arguments."""


def guard_source(checked: CheckedGuard) -> str:
    """The Python source of the guard function (what ``compile_guard`` compiles)."""
    body = _emit(checked.expr)
    return f"def _guard(ctx, steps, visits):\n    return {body}\n"


def compile_guard(checked: CheckedGuard) -> GuardFn:
    """Compile once; the returned function is as fast as the equivalent hand-written one."""
    code = _compiled(guard_source(checked), f"<guard {checked.text[:60]!r}>")
    namespace: dict[str, object] = {"__builtins__": {}, **HELPERS}
    exec(code, namespace)  # noqa: S102 - source generated from checked nodes, not user text
    return cast(GuardFn, namespace["_guard"])


@functools.lru_cache(maxsize=4096)
def _compiled(source: str, filename: str) -> CodeType:
    """Compiled once per distinct source: specs repeat guards, and code objects are immutable
    (each guard still gets a function and namespace of its own)."""
    return compile(source, filename, "exec")


def _emit(expr: n.Expr) -> str:
    match expr:
        case n.Literal(value=value):
            return _literal(value)
        case n.LiteralList(items=items):
            inner = ", ".join(_literal(i.value) for i in items)
            return f"({inner},)" if len(items) == 1 else f"({inner})"
        case n.Name(name=name):
            if name in (n.STEPS, n.VISITS):
                return name
            return f"ctx.{_identifier(name)}"
        case n.Attribute(value=n.Name(name=n.VISITS), name=state):
            return f"visits.get({state!r}, 0)"
        case n.Attribute(value=value, name=name):
            return f"{_emit(value)}.{_identifier(name)}"
        case n.Subscript(value=value, index=index, kind="list"):
            return f"_item({_emit(value)}, {_emit(index)})"
        case n.Subscript(value=value, index=index, kind="dict"):
            return f"{_emit(value)}.get({_emit(index)})"
        case n.Subscript():
            raise ValueError("compile_guard needs a checked guard (subscript kind unknown)")
        case n.IsNone(operand=operand, negated=negated):
            return f"({_emit(operand)} {'is not' if negated else 'is'} None)"
        case n.Compare(left=left, ops=ops, comparators=comparators):
            parts = [_emit(left)]
            for op, right in zip(ops, comparators, strict=True):
                parts.append(f"{op} {_emit(right)}")
            return f"({' '.join(parts)})"
        case n.BoolOp(op=op, values=values):
            return "(" + f" {op} ".join(_emit(v) for v in values) + ")"
        case n.Not(operand=operand):
            return f"(not {_emit(operand)})"
        case n.Unary(op=op, operand=operand):
            return f"({op}{_emit(operand)})"
        case n.Arithmetic(op=op, left=left, right=right):
            return f"({_emit(left)} {op} {_emit(right)})"
        case n.Call(function=function, args=args):
            return f"{function}({', '.join(_emit(a) for a in args)})"
        case n.MethodCall(receiver=receiver, method=method, args=args):
            return f"{_emit(receiver)}.{method}({', '.join(_emit(a) for a in args)})"


def _literal(value: n.LiteralValue) -> str:
    """``repr`` of a literal, after re-checking it is one of the allowed, finite kinds."""
    if value is None or isinstance(value, bool | str):
        return repr(value)
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return f"({value!r})" if math.copysign(1, value) < 0 else repr(value)
    raise ValueError(f"not a guard literal: {value!r}")


def _identifier(name: str) -> str:
    """Defence in depth: only plain, public identifiers ever reach the generated source."""
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"not a valid guard identifier: {name!r}")
    return name
