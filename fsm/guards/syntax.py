"""Running Python's parser on guard text, and explaining what the language forbids.

Python's ``ast`` does the parsing (a parser we do not have to write). This module turns its
failures into positioned diagnostics: statements and other non-expressions are
``guard-forbidden`` with a reason, everything else ``guard-syntax``. The tables here name each
forbidden construct and the fix, for the converter in ``parse`` to use too.
"""

from __future__ import annotations

import ast

from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import GuardError
from fsm.guards.limits import depth_diagnostic
from fsm.guards.source import GuardSource

EXAMPLE = "review.score >= 0.8 and visits.drafting < 3"

FORBIDDEN: dict[type[ast.AST], tuple[str, str]] = {
    ast.ListComp: ("list comprehensions", "test a property with len(), in or min/max instead"),
    ast.SetComp: ("set comprehensions", "test membership with `x in ['a', 'b']` instead"),
    ast.DictComp: ("dict comprehensions", "guards read values, they do not build them"),
    ast.GeneratorExp: ("generator expressions", "guards cannot loop; use len(), in or min/max"),
    ast.Lambda: ("lambda functions", "a guard is itself the condition; write it inline"),
    ast.NamedExpr: ("assignment expressions (:=)", "guards cannot assign; repeat the value"),
    ast.JoinedStr: ("f-strings", "compare with plain string literals"),
    ast.FormattedValue: ("f-strings", "compare with plain string literals"),
    ast.IfExp: (
        "conditional expressions (x if c else y)",
        "write `(c and x) or (not c and y)`, or split the guard over two transitions",
    ),
    ast.Starred: ("starred expressions (*x)", "pass the arguments one by one"),
    ast.Slice: ("slices (a[i:j])", "index single items: xs[0], or compare len(xs)"),
    ast.Set: ("set literals", "write the choices as a list: x in ['a', 'b']"),
    ast.Dict: ("dict literals", "guards read values, they do not build them"),
    ast.Await: ("`await`", "guards are plain synchronous conditions"),
    ast.Yield: ("`yield`", "guards are plain conditions"),
    ast.YieldFrom: ("`yield from`", "guards are plain conditions"),
}

FORBIDDEN_OPS: dict[type[ast.AST], tuple[str, str]] = {
    ast.Pow: ("`**` (powers)", "powers can build huge numbers; multiply explicitly"),
    ast.MatMult: ("`@` (matrix multiplication)", "guards do arithmetic on numbers only"),
    ast.LShift: ("`<<` (bit shift)", "guards have no bitwise operators"),
    ast.RShift: ("`>>` (bit shift)", "guards have no bitwise operators"),
    ast.BitOr: ("`|` (bitwise or)", "use `or` between conditions"),
    ast.BitAnd: ("`&` (bitwise and)", "use `and` between conditions"),
    ast.BitXor: ("`^` (bitwise xor)", "use `!=` between two bool conditions"),
    ast.Invert: ("`~` (bitwise not)", "use `not` on a condition"),
}


def empty_guard(source: GuardSource) -> Diagnostic:
    return Diagnostic(
        source.whole(),
        "guard is empty",
        "guard-syntax",
        hint=f"write a condition such as {EXAMPLE}, or drop `when` for a default transition",
    )


def parse_python(text: str, source: GuardSource) -> ast.Expression:
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise GuardError([_syntax_diagnostic(text, error, source)]) from None
    except (RecursionError, MemoryError):
        raise GuardError([depth_diagnostic(source.whole())]) from None


def _syntax_diagnostic(text: str, error: SyntaxError, source: GuardSource) -> Diagnostic:
    """Explain statements as forbidden, everything else as a syntax error at its position."""
    statements = _as_statements(text)
    if statements:
        return _statement_diagnostic(statements, source)
    lineno = error.lineno or 1
    index = min(max(lineno, 1), len(source.lines)) - 1
    offset = error.offset or 0
    char = offset - 1 if offset > 0 else len(source.lines[index])
    line, column = source.char_column(index + 1, char)
    hint = f"guards are Python expressions, e.g. {EXAMPLE}"
    if len(source.lines) > 1:
        hint = "wrap a guard that spans several lines in parentheses"
    return Diagnostic(
        SourceSpan(source.base.path, line, column),
        f"invalid guard syntax: {error.msg}",
        "guard-syntax",
        hint=hint,
    )


def _as_statements(text: str) -> list[ast.stmt]:
    try:
        return ast.parse(text, mode="exec").body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return []


def _statement_diagnostic(statements: list[ast.stmt], source: GuardSource) -> Diagnostic:
    first = statements[0]
    if len(statements) > 1:
        second = statements[1]
        return Diagnostic(
            source.span(second.lineno, second.col_offset),
            f"a guard is one expression; found {len(statements)} separated by ';' or newlines",
            "guard-forbidden",
            hint="join conditions with `and` / `or`",
        )
    if isinstance(first, ast.Expr) and type(first.value) in FORBIDDEN:
        what, hint = FORBIDDEN[type(first.value)]
        return forbidden(source.span(first.lineno, first.col_offset), what, hint)
    if isinstance(first, ast.Expr):  # one expression, yet not one in eval mode: a trailing ';'
        assert first.end_lineno is not None
        assert first.end_col_offset is not None
        line = source.lines[first.end_lineno - 1].encode()
        semicolon = max(line.find(b";", first.end_col_offset), first.end_col_offset)
        return Diagnostic(
            source.span(first.end_lineno, semicolon),
            "a guard is one expression; it ends with a ';'",
            "guard-syntax",
            hint="remove the ';'",
        )
    kind = type(first).__name__.lower()
    return Diagnostic(
        source.span(first.lineno, first.col_offset),
        f"a guard is one expression, not a statement (found {kind})",
        "guard-forbidden",
        hint=f"write a condition such as {EXAMPLE}",
    )


def forbidden(span: SourceSpan, what: str, hint: str) -> Diagnostic:
    return Diagnostic(span, f"guards do not allow {what}", "guard-forbidden", hint=hint)
