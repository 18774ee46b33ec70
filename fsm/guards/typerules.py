"""Which types an operator accepts: the guard language's typing rules, one function per rule.

Each rule returns ``None`` when the operands are fine, or a ``Problem`` (message, hint, and the
node to point at). The checker walks the tree and handles optionals and narrowing; these rules
only see plain, non-optional types, which keeps each of them a few obvious lines.
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
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    is_numeric,
    render_type,
    strip_optional,
)
from fsm.diagnostics import did_you_mean
from fsm.guards import nodes as n


@attrs.frozen
class Problem:
    node: n.Expr
    message: str
    hint: str | None = None


def equality(left: n.Expr, left_t: DataType, right: n.Expr, right_t: DataType) -> Problem | None:
    """``==``/``!=`` (and ``in``): numbers with numbers, str with str, bool with bool, an enum
    with one of its values as a string literal or with the same enum."""
    if is_numeric(left_t) and is_numeric(right_t):
        return None
    if left_t == right_t and (left_t in (STR, BOOL) or isinstance(left_t, EnumType)):
        return None
    if isinstance(left_t, EnumType) and right_t == STR:
        return enum_literal(left_t, right)
    if isinstance(right_t, EnumType) and left_t == STR:
        return enum_literal(right_t, left)
    return Problem(
        left,
        f"cannot compare {render_type(left_t)} with {render_type(right_t)}",
        "== compares numbers with numbers, str with str, bool with bool, "
        "and an enum with one of its values",
    )


def enum_literal(enum: EnumType, other: n.Expr) -> Problem | None:
    """An enum compares with a string literal naming one of its values, never with any str."""
    values = ", ".join(repr(v) for v in enum.values)
    if not isinstance(other, n.Literal):
        return Problem(
            other,
            f"an enum {enum.name} compares only with a string literal of one of its values",
            f"write one of {values}",
        )
    if other.value in enum.values:
        return None
    assert isinstance(other.value, str)
    hint = did_you_mean(other.value, enum.values) or f"valid values: {values}"
    return Problem(other, f"{other.value!r} is not a value of enum {enum.name}", hint)


def ordering(
    op: str, left: n.Expr, left_t: DataType, right: n.Expr, right_t: DataType
) -> Problem | None:
    """``< <= > >=`` order numbers with numbers, or strings with strings."""
    if is_numeric(left_t) and is_numeric(right_t):
        return None
    if left_t == STR and right_t == STR:
        return None
    return Problem(
        left,
        f"`{op}` orders numbers or strings; found {render_type(left_t)} and {render_type(right_t)}",
        "compare enums and bools with == or `in`",
    )


def membership(element: n.Expr, element_t: DataType, container_t: DataType) -> Problem | None:
    """``x in c``: an element of a list, a key of a dict, a substring of a str."""
    match container_t:
        case ListType(item=item):
            return equality(element, element_t, element, strip_optional(item))
        case DictType():
            if element_t == STR or isinstance(element_t, EnumType):
                return None
            return Problem(element, f"dict keys are str; found {render_type(element_t)}")
        case _ if container_t == STR:
            if element_t == STR:
                return None
            return Problem(element, f"`in` a str needs a str; found {render_type(element_t)}")
    return Problem(
        element,
        f"`in` needs a list, a dict, a str or a list of literals on its right; found "
        f"{render_type(container_t)}",
    )


def arithmetic_result(op: str, left_t: DataType, right_t: DataType) -> DataType:
    """``/`` always gives float; other operators give int only for two ints."""
    if op == "/":
        return FLOAT
    return INT if left_t == INT and right_t == INT else FLOAT


def divisor(op: str, right: n.Expr) -> Problem | None:
    """Divisors are non-zero numeric literals, so a guard can never divide by zero."""
    value = right.value if isinstance(right, n.Literal) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value != 0:
        return None
    found = "zero" if isinstance(right, n.Literal) else "a computed value"
    return Problem(
        right,
        f"the divisor of `{op}` must be a non-zero number literal; found {found}",
        "guards must never raise, and only a literal divisor is certainly not zero; "
        "rewrite e.g. `a / b > 2` as `a > 2 * b`",
    )


def truthiness_hint(text: str, data_type: DataType) -> str:
    """What to write instead of relying on truthiness (``if draft``)."""
    match data_type:
        case OptionalType():
            return f"write `{text} is not None`"
        case ListType() | DictType():
            return f"write `len({text}) > 0`"
        case RecordType():
            return "compare one of its fields"
    if data_type == STR:
        return f"write `len({text}) > 0` or compare it with a string"
    if is_numeric(data_type):
        return f"write `{text} != 0`"
    return "compare it with a value"
