"""Typing of comparisons, arithmetic and calls: the operator half of the type checker.

Operands are checked through the ``Walker`` (so names, narrowing and optionals are handled in
one place), then the rules in ``typerules`` decide whether the operator accepts them.
"""

from __future__ import annotations

import attrs

from fsm.datatypes import (
    BOOL,
    FLOAT,
    INT,
    STR,
    DataType,
    DictType,
    ListType,
    is_numeric,
    render_type,
)
from fsm.guards import nodes as n
from fsm.guards import typerules as rules
from fsm.guards.results import INVALID, NONE, Result, Walker

_STR_RESULT_METHODS = frozenset({"lower", "upper", "strip"})
_ONE_ARGUMENT_METHODS = frozenset({"startswith", "endswith"})


def check_operator(
    walker: Walker, node: n.Expr, narrowed: frozenset[n.Path], clause: n.Expr
) -> Result:
    """Type of a Compare, Arithmetic, Unary, Call or MethodCall node."""
    match node:
        case n.Compare():
            return _compare(walker, node, narrowed, clause)
        case n.Arithmetic(op=op):
            left = walker.check(node.left, narrowed, clause, True)
            right = walker.check(node.right, narrowed, clause, True)
            node = attrs.evolve(node, left=left.node, right=right.node)
            left_t, right_t = _numbers(walker, [left, right], clause, node, f"`{op}`")
            divisor_ok = op not in ("/", "//", "%") or walker.report(rules.divisor(op, node.right))
            if left_t is None or right_t is None or not divisor_ok:
                return Result.of(node, INVALID)
            return Result.of(node, rules.arithmetic_result(op, left_t, right_t))
        case n.Unary(op=op):
            operand = walker.check(node.operand, narrowed, clause, True)
            node = attrs.evolve(node, operand=operand.node)
            operand_t = _number(walker, operand, clause, f"unary `{op}`")
            return Result.of(node, INVALID if operand_t is None else operand_t)
        case n.Call():
            return _call(walker, node, narrowed, clause)
        case n.MethodCall():
            return _method(walker, node, narrowed, clause)
    raise AssertionError(f"not an operator node: {node!r}")


def _number(walker: Walker, result: Result, clause: n.Expr, role: str) -> DataType | None:
    return _numbers(walker, [result], clause, result.node, role)[0]


def _numbers(
    walker: Walker, results: list[Result], clause: n.Expr, whole: n.Expr, role: str
) -> list[DataType | None]:
    """The numeric types of operands; one error for all the non-numbers among them."""
    kinds = [walker.value(r, clause) for r in results]
    wrong = [(r, k) for r, k in zip(results, kinds, strict=True) if k and not is_numeric(k)]
    if wrong:
        first, first_kind = wrong[0]
        span, found = first.node.span, f"`{n.render(first.node)}` is {render_type(first_kind)}"
        if len(wrong) > 1:
            span, found = whole.span, "found " + " and ".join(render_type(k) for _, k in wrong)
        walker.error(
            span,
            "guard-type",
            f"{role} needs int or float; {found}",
            "bools and strings take no part in arithmetic",
        )
    return [k if k is not None and is_numeric(k) else None for k in kinds]


def _none_comparison(walker: Walker, node: n.Compare, operands: list[Result]) -> bool:
    """``x == None`` is refused with the `is None` spelling; True when there was one."""
    found = False
    for index, op in enumerate(node.ops):
        pair = operands[index], operands[index + 1]
        nones = [r for r in pair if r.type is NONE]
        if not nones:
            continue
        found = True
        other = pair[0] if nones[0] is pair[1] else pair[1]
        spelled = "is not None" if op == "!=" else "is None"
        walker.error(
            nones[0].node.span,
            "guard-type",
            "compare with None using `is None` or `is not None`, not == or !=",
            f"write `{n.render(other.node)} {spelled}`",
        )
    return found


def _compare(
    walker: Walker, node: n.Compare, narrowed: frozenset[n.Path], clause: n.Expr
) -> Result:
    operands = [walker.check(node.left, narrowed, clause, True)]
    for comparator in node.comparators:
        if isinstance(comparator, n.LiteralList):
            operands.append(Result.of(comparator, INVALID))
        else:
            operands.append(walker.check(comparator, narrowed, clause, True))
    node = attrs.evolve(
        node, left=operands[0].node, comparators=tuple(r.node for r in operands[1:])
    )
    if _none_comparison(walker, node, operands):
        return Result.of(node, INVALID)
    types = [
        None if isinstance(r.node, n.LiteralList) else walker.value(r, clause) for r in operands
    ]
    ok = True
    for index, op in enumerate(node.ops):
        left, right = operands[index].node, operands[index + 1].node
        left_t, right_t = types[index], types[index + 1]
        if isinstance(right, n.LiteralList):
            ok = _in_literals(walker, left, left_t, right) and ok
            continue
        if left_t is None or right_t is None:
            ok = False
            continue
        _record_literal(walker, left, right, both_ways=op not in ("in", "not in"))
        if op in ("==", "!="):
            problem = rules.equality(left, left_t, right, right_t)
        elif op in ("in", "not in"):
            problem = rules.membership(left, left_t, right_t)
        else:
            problem = rules.ordering(op, left, left_t, right, right_t)
        ok = walker.report(problem) and ok
    return Result.of(node, BOOL if ok else INVALID)


def _in_literals(
    walker: Walker, left: n.Expr, left_t: DataType | None, choices: n.LiteralList
) -> bool:
    ok = left_t is not None
    for item in choices.items:
        if item.value is None:
            walker.error(item.span, "guard-type", "None cannot be one of the choices after `in`")
            ok = False
            continue
        _record_literal(walker, left, item)
        if left_t is not None:
            problem = rules.equality(left, left_t, item, _literal_type(item))
            if problem is not None:  # point at the choice that does not fit, not at the left
                problem = attrs.evolve(problem, node=item)
            ok = walker.report(problem) and ok
    return ok


def _literal_type(literal: n.Literal) -> DataType:
    value = literal.value
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    return STR


def _record_literal(walker: Walker, left: n.Expr, right: n.Expr, both_ways: bool = True) -> None:
    """Remember (path, literal) pairs such as (('review', 'score'), 0.8); for ``in`` only
    ``path in literal`` counts (in ``'a' in path`` the literal is an element, not a value)."""
    pairs = ((left, right), (right, left)) if both_ways else ((left, right),)
    for path_side, literal_side in pairs:
        path = n.field_path_of(path_side)
        is_literal = isinstance(literal_side, n.Literal) and literal_side.value is not None
        if path is not None and is_literal:
            assert isinstance(literal_side, n.Literal)
            walker.record_literal(path, literal_side.value)


def _call(walker: Walker, node: n.Call, narrowed: frozenset[n.Path], clause: n.Expr) -> Result:
    args = [walker.check(a, narrowed, clause, True) for a in node.args]
    node = attrs.evolve(node, args=tuple(r.node for r in args))
    name = node.function
    if name in ("len", "abs") and len(args) != 1:
        return _arity(walker, node, f"{name}() takes exactly one argument")
    if name in ("min", "max") and len(args) < 2:
        return _arity(walker, node, f"{name}() takes two or more numbers")
    if name == "len":
        kind = walker.value(args[0], clause)
        if kind is None:
            return Result.of(node, INVALID)
        if kind == STR or isinstance(kind, ListType | DictType):
            return Result.of(node, INT)
        walker.error(
            args[0].node.span,
            "guard-type",
            f"len() needs a str, list or dict; `{n.render(args[0].node)}` is {render_type(kind)}",
        )
        return Result.of(node, INVALID)
    numbers = _numbers(walker, args, clause, node, f"{name}()")
    if any(t is None for t in numbers):
        return Result.of(node, INVALID)
    if name == "abs":
        assert numbers[0] is not None
        return Result.of(node, numbers[0])
    return Result.of(node, INT if all(t == INT for t in numbers) else FLOAT)


def _arity(walker: Walker, node: n.Call | n.MethodCall, message: str) -> Result:
    walker.error(node.span, "guard-type", f"{message}; found {len(node.args)}")
    return Result.of(node, INVALID)


def _method(
    walker: Walker, node: n.MethodCall, narrowed: frozenset[n.Path], clause: n.Expr
) -> Result:
    receiver = walker.check(node.receiver, narrowed, clause, True)
    args = [walker.check(a, narrowed, clause, True) for a in node.args]
    node = attrs.evolve(node, receiver=receiver.node, args=tuple(r.node for r in args))
    receiver_t = walker.value(receiver, clause)
    wanted = 1 if node.method in _ONE_ARGUMENT_METHODS else 0
    if len(args) != wanted:
        count = "one argument" if wanted else "no arguments"
        return _arity(walker, node, f".{node.method}() takes {count}")
    ok = receiver_t is not None
    if receiver_t is not None and receiver_t != STR:
        walker.error(
            receiver.node.span,
            "guard-type",
            f".{node.method}() is a string method; `{n.render(receiver.node)}` is "
            f"{render_type(receiver_t)}",
        )
        ok = False
    for arg in args:
        arg_t = walker.value(arg, clause)
        if arg_t is not None and arg_t != STR:
            message = f".{node.method}() needs a str argument; found {render_type(arg_t)}"
            walker.error(arg.node.span, "guard-type", message)
            ok = False
        ok = ok and arg_t is not None
    if not ok:
        return Result.of(node, INVALID)
    return Result.of(node, STR if node.method in _STR_RESULT_METHODS else BOOL)
