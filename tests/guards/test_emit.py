"""Emitting and compiling guards: straight-line source from checked nodes, and the façade."""

from __future__ import annotations

import dis

import pytest

import fsm.guards
from fsm.guards import build_guard, compile_guard, guard_source, interpret, parse_guard

from .env import ENV, SPAN, context


def test_design_example_compiles_to_one_straight_line_return() -> None:
    """The generated function is a single return of plain attribute reads and comparisons."""
    checked, _ = build_guard("review is not None and review.score >= 0.8", SPAN, ENV)
    assert guard_source(checked) == (
        "def _guard(ctx, steps, visits):\n"
        "    return ((ctx.review is not None) and (ctx.review.score >= 0.8))\n"
    )


def test_builtins_and_subscripts_compile_to_direct_lookups() -> None:
    """`visits.x` is a dict get with default 0; list indexing uses the safe helper."""
    checked, _ = build_guard(
        "visits.drafting < 3 and scores['a'] is None and nums[0] is None and steps > 1",
        SPAN,
        ENV,
    )
    body = guard_source(checked).splitlines()[1]
    assert "visits.get('drafting', 0)" in body
    assert "ctx.scores.get('a')" in body
    assert "_item(ctx.nums, 0)" in body
    assert "(steps > 1)" in body


def test_literal_choices_are_a_constant_tuple() -> None:
    """`x in [..]` builds nothing per call: the choices are one folded tuple constant."""
    _, guard = build_guard("level in ['low', 'mid']", SPAN, ENV)
    ops = {instruction.opname for instruction in dis.get_instructions(guard)}
    assert "BUILD_LIST" not in ops
    assert "BUILD_TUPLE" not in ops
    assert ("low", "mid") in guard.__code__.co_consts


def test_compiled_guard_returns_real_bools() -> None:
    """The callable returns True/False, not truthy values."""
    _, guard = build_guard("count > 1 and flag", SPAN, ENV)
    assert guard(context(count=2, flag=True), 0, {}) is True
    assert guard(context(count=0), 0, {}) is False


def test_compile_needs_a_checked_tree() -> None:
    """An unchecked subscript (list or dict unknown) cannot be emitted."""
    checked, _ = build_guard("nums[0] is None", SPAN, ENV)
    unchecked = type(checked)(
        checked.text,
        parse_guard("nums[0] is None", SPAN),
        checked.reads,
        checked.not_none_if_true,
        checked.not_none_if_false,
        checked.literals,
    )
    with pytest.raises(ValueError, match="checked guard"):
        compile_guard(unchecked)


def test_interpreter_also_runs_unchecked_trees() -> None:
    """The reference interpreter picks list or dict lookup at run time when not told."""
    expr = parse_guard("nums[9] is None and scores['zz'] is None and nums[0] == 1", SPAN)
    assert interpret(expr, context(), 0, {}) is True


def test_public_names_are_exported_and_sorted() -> None:
    """The façade's __all__ is sorted and every name in it exists."""
    assert fsm.guards.__all__ == sorted(fsm.guards.__all__)
    for name in fsm.guards.__all__:
        assert hasattr(fsm.guards, name)
