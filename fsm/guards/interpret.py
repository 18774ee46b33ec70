"""The reference interpreter: the guard language's semantics in plain, obvious Python.

It is slower than the compiled guard and exists to be obviously right: tests check that
interpreter, compiled guard and CPython agree on every generated expression. It follows
Python's own evaluation order and short-circuiting exactly.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from fsm.guards import nodes as n
from fsm.guards.emit import item_or_none

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {"len": len, "abs": abs, "min": min, "max": max}
_METHODS: dict[str, Callable[..., Any]] = {name: getattr(str, name) for name in n.METHODS}


def interpret(expr: n.Expr, context: Any, steps: int, visits: Mapping[str, int]) -> object:
    """Evaluate ``expr`` (checked or not) against a context, ``steps`` and ``visits``."""

    def ev(node: n.Expr) -> Any:
        match node:
            case n.Literal(value=value):
                return value
            case n.LiteralList(items=items):
                return tuple(item.value for item in items)
            case n.Name(name=n.STEPS):
                return steps
            case n.Name(name=name):
                return getattr(context, name)
            case n.Attribute(value=n.Name(name=n.VISITS), name=state):
                return visits.get(state, 0)
            case n.Attribute(value=value, name=name):
                return getattr(ev(value), name)
            case n.Subscript(value=value, index=index, kind=kind):
                container, key = ev(value), ev(index)
                if kind == "dict" or (kind == "unknown" and isinstance(container, Mapping)):
                    return container.get(key)
                return item_or_none(container, key)
            case n.IsNone(operand=operand, negated=negated):
                return (ev(operand) is not None) if negated else (ev(operand) is None)
            case n.Compare(left=left, ops=ops, comparators=comparators):
                current, result = ev(left), True
                for op, comparator in zip(ops, comparators, strict=True):
                    right = ev(comparator)
                    result = _COMPARE[op](current, right)
                    if not result:
                        return result
                    current = right
                return result
            case n.BoolOp(op=op, values=values):
                value = ev(values[0])
                for operand in values[1:]:
                    if (op == "and") != bool(value):
                        return value
                    value = ev(operand)
                return value
            case n.Not(operand=operand):
                return not ev(operand)
            case n.Unary(op=op, operand=operand):
                return -ev(operand) if op == "-" else +ev(operand)
            case n.Arithmetic(op=op, left=left, right=right):
                return _ARITHMETIC[op](ev(left), ev(right))
            case n.Call(function=function, args=args):
                return _FUNCTIONS[function](*(ev(a) for a in args))
            case n.MethodCall(receiver=receiver, method=method, args=args):
                return _METHODS[method](ev(receiver), *(ev(a) for a in args))

    return ev(expr)
