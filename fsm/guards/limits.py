"""Hard limits on guard text, checked before anything recursive runs.

They keep every stage (Python's parser, our converter, checker, interpreter) far from any
recursion limit and make a guard's cost trivially bounded, whatever a spec author writes.
"""

from __future__ import annotations

import ast
import io
import tokenize
import unicodedata

from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.guards.source import GuardSource

MAX_TEXT_CHARS = 2_000
MAX_NODES = 200
MAX_DEPTH = 32
MAX_INT = 2**53
MAX_STRING_CHARS = 500

_ALLOWED_CONTROLS = frozenset("\t\n\r")
# Cc: C0/C1 controls (incl. NUL), Cf: invisible format characters such as the bidi overrides
# behind "Trojan Source", Cs: lone surrogates, Zl/Zp: line separators Python does not accept.
_REJECTED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def is_rejected_character(char: str) -> bool:
    """True for NUL and every other invisible control character (tab and newlines pass)."""
    if char in _ALLOWED_CONTROLS:
        return False
    return unicodedata.category(char) in _REJECTED_CATEGORIES


def check_text(source: GuardSource) -> list[Diagnostic]:
    """Length, control characters and bracket depth: everything decidable from the raw text."""
    text = source.text
    if len(text) > MAX_TEXT_CHARS:
        return [
            Diagnostic(
                source.char_span(0),
                f"guard is {len(text):,} characters long; the limit is {MAX_TEXT_CHARS:,}",
                "guard-limit",
                hint="split the condition over several transitions or simplify it",
            )
        ]
    if not (text.isascii() and text.isprintable()):  # printable ASCII: nothing to reject
        for index, char in enumerate(text):
            if is_rejected_character(char):
                return [
                    Diagnostic(
                        source.char_span(index),
                        f"guard contains the invisible control character U+{ord(char):04X}",
                        "guard-limit",
                        hint="remove it; guards may contain only printable text, tabs and newlines",
                    )
                ]
    return _check_bracket_depth(source)


def _check_bracket_depth(source: GuardSource) -> list[Diagnostic]:
    """Reject deep ``((((…`` before Python's recursive parser sees it.

    ``tokenize`` is iterative and knows string literals, so brackets inside strings do not
    count; text it cannot tokenize is left for the parser to report precisely."""
    if sum(source.text.count(bracket) for bracket in "([{") <= MAX_DEPTH:
        return []  # too few brackets to nest too deep: skip the (slow) tokenizer
    depth = 0
    try:
        for token in tokenize.generate_tokens(io.StringIO(source.text).readline):
            if token.type != tokenize.OP:
                continue
            if token.string in "([{":
                depth += 1
                if depth > MAX_DEPTH:
                    line, column = source.char_column(token.start[0], token.start[1])
                    return [depth_diagnostic(SourceSpan(source.base.path, line, column))]
            elif token.string in ")]}":
                depth -= 1
    except (tokenize.TokenError, SyntaxError):
        return []
    return []


def depth_diagnostic(span: SourceSpan) -> Diagnostic:
    return Diagnostic(
        span,
        f"guard nests deeper than {MAX_DEPTH} levels",
        "guard-limit",
        hint="flatten it: split it over several transitions or simplify the expression (a "
        "chain such as a + b + c + … nests one level per operator)",
    )


def check_tree_size(tree: ast.Expression, source: GuardSource) -> list[Diagnostic]:
    """Count expression nodes and their nesting with an explicit stack (never recursion)."""
    count = 0
    stack: list[tuple[ast.AST, int]] = [(tree.body, 1)]
    while stack:
        node, depth = stack.pop()
        is_expr = isinstance(node, ast.expr)
        if is_expr and depth > MAX_DEPTH:
            assert isinstance(node, ast.expr)
            return [depth_diagnostic(source.span(node.lineno, node.col_offset))]
        count += is_expr
        if count > MAX_NODES:
            return [
                Diagnostic(
                    source.whole(),
                    f"guard has more than {MAX_NODES} expression nodes",
                    "guard-limit",
                    hint="split it over several transitions or simplify it",
                )
            ]
        for child in ast.iter_child_nodes(node):
            stack.append((child, depth + isinstance(child, ast.expr)))
    return []
