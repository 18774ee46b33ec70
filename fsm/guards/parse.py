"""Guard text → our own syntax tree, through an allowlist.

``syntax`` runs Python's own parser; this module then converts
only the constructs the guard language allows into ``fsm.guards.nodes`` values. Anything else
(calls outside the whitelist, dunder attributes, comprehensions, lambdas, ``**``…) becomes a
positioned ``guard-forbidden`` diagnostic. Size limits are checked first, iteratively, so no
recursive step ever sees an absurd input.
"""

from __future__ import annotations

import ast
import math
import unicodedata

from fsm.diagnostics import Diagnostic, Position, SourceSpan, did_you_mean
from fsm.errors import GuardError
from fsm.guards import nodes as n
from fsm.guards.limits import (
    MAX_INT,
    MAX_STRING_CHARS,
    check_text,
    check_tree_size,
    is_rejected_character,
)
from fsm.guards.source import GuardSource
from fsm.guards.syntax import (
    EXAMPLE,
    FORBIDDEN,
    FORBIDDEN_OPS,
    empty_guard,
    forbidden,
    parse_python,
)

_COMPARE_OPS: dict[type[ast.cmpop], n.CompareOp] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_ARITHMETIC_OPS: dict[type[ast.operator], n.ArithmeticOp] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}
_FUNCTIONS: dict[str, n.FunctionName] = {name: name for name in n.FUNCTIONS}
_METHODS: dict[str, n.MethodName] = {name: name for name in n.METHODS}


def parse_guard(
    text: str, span: SourceSpan, positions: tuple[Position, ...] | None = None
) -> n.Expr:
    """Parse guard ``text`` whose first character is at ``span``; raise ``GuardError``.

    ``positions`` (one per character of ``text``) place diagnostics exactly when the text is
    not a verbatim copy of one source line: YAML escapes, folded lines, block indentation."""
    problems = check_text(GuardSource(text, span, positions=positions))
    if problems:
        raise GuardError(problems)
    stripped = text.lstrip(" \t")
    offset = len(text) - len(stripped)
    source = GuardSource(stripped, span, line_offset=offset, positions=positions)
    if not stripped.strip():
        raise GuardError([empty_guard(source)])
    tree = parse_python(stripped, source)
    problems = check_tree_size(tree, source)
    if problems:
        raise GuardError(problems)
    converter = _Converter(source, tree.body)
    expr = converter.convert(tree.body)
    if converter.diagnostics or expr is None:
        raise GuardError(converter.diagnostics)
    return expr


class _Converter:
    """Builds nodes for allowed constructs; records a diagnostic for every other one."""

    def __init__(self, source: GuardSource, root: ast.expr) -> None:
        self.source = source
        self.root = root
        self.diagnostics: list[Diagnostic] = []

    def span(self, node: ast.expr) -> SourceSpan:
        return self.source.span(node.lineno, node.col_offset, node.end_lineno, node.end_col_offset)

    def fail(self, node: ast.expr, message: str, hint: str, code: str = "guard-forbidden") -> None:
        self.diagnostics.append(Diagnostic(self.span(node), message, code, hint=hint))

    def convert(self, node: ast.expr) -> n.Expr | None:
        match node:
            case ast.Constant():
                return self.literal(node)
            case ast.Name():
                return self.name(node)
            case ast.Attribute():
                return self.attribute(node)
            case ast.Subscript():
                return self.subscript(node)
            case ast.Compare():
                return self.compare(node)
            case ast.BoolOp():
                return self.bool_op(node)
            case ast.UnaryOp():
                return self.unary(node)
            case ast.BinOp():
                return self.arithmetic(node)
            case ast.Call():
                return self.call(node)
            case ast.Tuple() if node is self.root:
                self.fail(
                    node,
                    "a guard is one expression; found several separated by commas",
                    "join conditions with `and` / `or`",
                )
            case ast.List() | ast.Tuple():
                self.fail(
                    node,
                    "list and tuple literals are allowed only after `in` / `not in`",
                    "write the choices on the right of `in`, e.g. x in ['a', 'b']",
                )
            case _ if type(node) in FORBIDDEN:
                what, hint = FORBIDDEN[type(node)]
                self.diagnostics.append(forbidden(self.span(node), what, hint))
            case _:
                self.fail(
                    node,
                    f"{type(node).__name__} expressions are not part of the guard language",
                    f"guards use comparisons, and/or/not and context fields, e.g. {EXAMPLE}",
                )
        return None

    def convert_all(self, nodes: list[ast.expr]) -> tuple[n.Expr, ...] | None:
        """Convert every node (to report all problems), None if any failed."""
        converted = [self.convert(child) for child in nodes]
        if any(c is None for c in converted):
            return None
        return tuple(c for c in converted if c is not None)

    def literal(self, node: ast.Constant, negate: bool = False) -> n.Literal | None:
        value = node.value
        span = self.span(node)
        if value is None or isinstance(value, bool):
            return n.Literal(value, span)
        if isinstance(value, int):
            if abs(value) > MAX_INT:
                self.fail(
                    node,
                    "integer literal is too large: the limit is ±2**53 (9007199254740992)",
                    "use a smaller number; guard arithmetic stays within exact float range",
                    "guard-limit",
                )
                return None
            return n.Literal(-value if negate else value, span)
        if isinstance(value, float):
            if not math.isfinite(value):
                self.fail(
                    node, "float literal is out of range", "use a finite number", "guard-limit"
                )
                return None
            return n.Literal(-value if negate else value, span)
        if isinstance(value, str):
            return self.string(node, value, span)
        what = {bytes: "bytes literals", complex: "complex numbers"}.get(type(value), "`...`")
        self.diagnostics.append(forbidden(span, what, "use int, float, str, bool or None"))
        return None

    def string(self, node: ast.Constant, value: str, span: SourceSpan) -> n.Literal | None:
        if len(value) > MAX_STRING_CHARS:
            self.fail(
                node,
                f"string literal has {len(value)} characters; the limit is {MAX_STRING_CHARS}",
                "compare with a shorter string, e.g. with .startswith()",
                "guard-limit",
            )
            return None
        if any(is_rejected_character(char) for char in value):
            self.fail(
                node,
                "string literal contains an invisible control character",
                "remove it; guards may contain only printable text, tabs and newlines",
                "guard-limit",
            )
            return None
        return n.Literal(value, span)

    def name(self, node: ast.Name) -> n.Name | None:
        if node.id.startswith("_"):
            self.fail(
                node,
                f"names starting with '_' are not allowed in guards (found '{node.id}')",
                "guards read context fields, `steps` and `visits.<state>` only",
            )
            return None
        if not self.ascii_name(node.id, self.span(node)):
            return None
        return n.Name(node.id, self.span(node))

    def ascii_name(self, name: str, span: SourceSpan) -> bool:
        """Spec names are ASCII, so a name with another letter (a Cyrillic o that looks like the
        Latin one) never matches: name the letter rather than suggest the look-alike it is."""
        if name.isascii():
            return True
        char = next(c for c in name if not c.isascii())
        what = unicodedata.name(char, "no name")
        self.diagnostics.append(
            Diagnostic(
                span,
                f"'{name}' contains the non-ASCII character '{char}' (U+{ord(char):04X} {what})",
                "guard-unknown-name",
                hint="names in a spec are ASCII; retype the name",
            )
        )
        return False

    def attribute(self, node: ast.Attribute) -> n.Attribute | None:
        name_span = self._name_span(node)
        if node.attr.startswith("_"):
            self.diagnostics.append(
                forbidden(
                    name_span,
                    f"private or dunder attributes such as '{node.attr}'",
                    "guards read declared contract fields only",
                )
            )
            return None
        if not self.ascii_name(node.attr, name_span):
            return None
        if not isinstance(node.value, ast.Name | ast.Attribute | ast.Subscript):
            self.fail(
                node,
                f"attribute '{node.attr}' of a computed value is not allowed",
                "attributes are read from context fields only, e.g. review.score",
            )
            return None
        value = self.convert(node.value)
        return None if value is None else n.Attribute(value, node.attr, self.span(node), name_span)

    def _name_span(self, node: ast.Attribute) -> SourceSpan:
        assert node.end_lineno is not None
        assert node.end_col_offset is not None
        line, end = self.source.column(node.end_lineno, node.end_col_offset)
        return SourceSpan(self.source.base.path, line, end - len(node.attr), line, end)

    def subscript(self, node: ast.Subscript) -> n.Subscript | None:
        value = self.convert(node.value)
        index = self.convert(node.slice)
        if value is None or index is None:
            return None
        return n.Subscript(value, index, self.span(node))

    def compare(self, node: ast.Compare) -> n.Expr | None:
        if any(isinstance(op, ast.Is | ast.IsNot) for op in node.ops):
            return self.is_none(node)
        left = self.convert(node.left)
        ops = tuple(_COMPARE_OPS[type(op)] for op in node.ops)
        comparators: list[n.Expr | None] = []
        for position, (op, right) in enumerate(zip(ops, node.comparators, strict=True)):
            last = position == len(ops) - 1
            if op in ("in", "not in") and last and isinstance(right, ast.List | ast.Tuple):
                comparators.append(self.literal_list(right))
            else:
                comparators.append(self.convert(right))
        if left is None or any(c is None for c in comparators):
            return None
        return n.Compare(left, ops, tuple(c for c in comparators if c), self.span(node))

    def is_none(self, node: ast.Compare) -> n.IsNone | None:
        right = node.comparators[0]
        is_none_literal = isinstance(right, ast.Constant) and right.value is None
        if len(node.ops) > 1 or not is_none_literal:
            self.fail(
                node,
                "`is` is allowed only as `x is None` or `x is not None`",
                "compare values with == and !=; test for None with a single `is None`",
            )
            return None
        operand = self.convert(node.left)
        if operand is None:
            return None
        return n.IsNone(operand, isinstance(node.ops[0], ast.IsNot), self.span(node))

    def literal_list(self, node: ast.List | ast.Tuple) -> n.LiteralList | None:
        items: list[n.Literal | None] = []
        for item in node.elts:
            negate = isinstance(item, ast.UnaryOp) and isinstance(item.op, ast.USub)
            inner = item.operand if isinstance(item, ast.UnaryOp) and negate else item
            if isinstance(inner, ast.Constant) and (not negate or _is_number(inner.value)):
                items.append(self.literal(inner, negate=negate))
                continue
            self.fail(
                item,
                "the choices after `in` must be literals",
                "list constant values, e.g. x in ['a', 'b'], or test fields with `or`",
            )
            items.append(None)
        if any(i is None for i in items):
            return None
        return n.LiteralList(tuple(i for i in items if i), self.span(node))

    def bool_op(self, node: ast.BoolOp) -> n.BoolOp | None:
        values = self.convert_all(node.values)
        if values is None:
            return None
        op: n.BoolOp = n.BoolOp(
            "and" if isinstance(node.op, ast.And) else "or", values, self.span(node)
        )
        return op

    def unary(self, node: ast.UnaryOp) -> n.Expr | None:
        if type(node.op) in FORBIDDEN_OPS:
            what, hint = FORBIDDEN_OPS[type(node.op)]
            self.diagnostics.append(forbidden(self.span(node), what, hint))
            return None
        operand_node = node.operand
        negative_number = isinstance(operand_node, ast.Constant) and _is_number(operand_node.value)
        if isinstance(node.op, ast.USub) and negative_number:
            assert isinstance(operand_node, ast.Constant)
            literal = self.literal(operand_node, negate=True)
            return None if literal is None else n.Literal(literal.value, self.span(node))
        operand = self.convert(operand_node)
        if operand is None:
            return None
        span = self.span(node)
        if isinstance(node.op, ast.Not):
            return n.Not(operand, span)
        return n.Unary("-" if isinstance(node.op, ast.USub) else "+", operand, span)

    def arithmetic(self, node: ast.BinOp) -> n.Arithmetic | None:
        if type(node.op) in FORBIDDEN_OPS:
            what, hint = FORBIDDEN_OPS[type(node.op)]
            self.diagnostics.append(forbidden(self.span(node), what, hint))
            return None
        left, right = self.convert(node.left), self.convert(node.right)
        if left is None or right is None:
            return None
        return n.Arithmetic(_ARITHMETIC_OPS[type(node.op)], left, right, self.span(node))

    def call(self, node: ast.Call) -> n.Expr | None:
        if node.keywords:
            self.fail(
                node, "keyword arguments are not allowed in guards", "pass arguments by position"
            )
            return None
        func = node.func
        if isinstance(func, ast.Name) and not self.ascii_name(func.id, self.span(func)):
            return None
        if isinstance(func, ast.Attribute) and not self.ascii_name(
            func.attr, self._name_span(func)
        ):
            return None
        if isinstance(func, ast.Name) and func.id in _FUNCTIONS:
            args = self.convert_all(node.args)
            function = _FUNCTIONS[func.id]
            return None if args is None else n.Call(function, args, self.span(node))
        if isinstance(func, ast.Attribute) and func.attr in _METHODS:
            receiver = self.convert(func.value)
            args = self.convert_all(node.args)
            if receiver is None or args is None:
                return None
            return n.MethodCall(receiver, _METHODS[func.attr], args, self.span(node))
        if isinstance(func, ast.Attribute):
            if func.attr.startswith("_"):
                what = f"private or dunder attributes such as '{func.attr}'"
                hint = "guards call only the allowed string methods"
                self.diagnostics.append(forbidden(self._name_span(func), what, hint))
                return None
            hint = did_you_mean(func.attr, n.METHODS) or "allowed: " + ", ".join(n.METHODS)
            self.fail(node, f"'.{func.attr}()' is not an allowed string method", hint)
            return None
        called = f"'{func.id}'" if isinstance(func, ast.Name) else "this expression"
        self.fail(
            node,
            f"{called} cannot be called in a guard",
            "guards can call len(), abs(), min(), max() and the string methods "
            + ", ".join(f".{m}()" for m in n.METHODS),
        )
        return None


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
