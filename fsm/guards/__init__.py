"""Guards: the closed, safe expression language on transitions (``review.score >= 0.8``).

Pipeline, one module per stage with frozen values between them::

    text ──parse──▶ Expr ──check(GuardEnv)──▶ CheckedGuard ──compile_guard──▶ GuardFn
                                                   └────────interpret (reference)

The language, in short (Python syntax, Python semantics):

- literals (int, float, str, bool, None); lists/tuples of literals only after ``in``/``not in``
- names: context fields, ``steps``, ``visits.<state>`` (the two built-ins take precedence over
  context fields of the same name; the spec checker reserves them)
- ``a.b`` on records; ``xs[i]`` / ``d['k']`` read ``None`` when missing, so they are ``T?``
- comparisons (chained too), ``in``, ``is None`` / ``is not None`` (on optionals only),
  ``and``/``or``/``not`` on bools only (no truthiness), ``+ - * / // %`` on numbers with
  non-zero literal divisors, ``len abs min max`` and eight string methods
- optionals must be narrowed before use: by ``GuardEnv.not_none``, or inside the guard by
  ``x is not None and …`` / ``x is None or …`` / ``not``, per path (``review.notes``)

Decisions: conditional expressions (``a if c else b``) are forbidden: a guard is a condition,
and ``(c and a) or (not c and b)`` or two transitions say the same thing more plainly. The node
limit counts expression nodes only (operators and contexts are not nodes of their own). Integer
literals are bounded by ±2**53, but context values are not: arithmetic mixing a huge context int
with floats, or dividing it with ``/``, can overflow exactly as it would in Python.
"""

from __future__ import annotations

from fsm.diagnostics import SourceSpan
from fsm.guards.check import CheckedGuard, GuardEnv, check_guard
from fsm.guards.emit import GuardFn, compile_guard, guard_source
from fsm.guards.interpret import interpret
from fsm.guards.nodes import Expr
from fsm.guards.parse import parse_guard


def build_guard(text: str, span: SourceSpan, env: GuardEnv) -> tuple[CheckedGuard, GuardFn]:
    """Parse, check and compile in one call; raises ``GuardError`` with every problem."""
    checked = check_guard(parse_guard(text, span), env, text=text)
    return checked, compile_guard(checked)


__all__ = [
    "CheckedGuard",
    "Expr",
    "GuardEnv",
    "GuardFn",
    "build_guard",
    "check_guard",
    "compile_guard",
    "guard_source",
    "interpret",
    "parse_guard",
]
