"""Mutants of a spec at the model level: the routing mistakes people actually make.

Operators: flip a comparison (``<`` ↔ ``>=``, ``==`` ↔ ``!=``, ``in`` ↔ ``not in``), move a
comparison's boundary (``<`` ↔ ``<=``), shift a numeric literal across its boundary (``±1`` for
ints, ``±0.1`` for floats, and far past it), swap two adjacent transitions of one routing
point, delete the default, drop a transition. Guards are mutated on our own syntax tree and
printed back with ``fsm.guards.nodes.render``, so every mutant is a well-formed guard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import attrs

from fsm.guards import parse_guard
from fsm.guards.nodes import BoolOp, Compare, Expr, Literal, Not, render
from fsm.spec.model import Spec, TransitionDef

FLIP = {"<": ">=", ">=": "<", ">": "<=", "<=": ">", "==": "!=", "!=": "==", "in": "not in"}
FLIP |= {"not in": "in"}
EDGE = {"<": "<=", "<=": "<", ">": ">=", ">=": ">"}


@attrs.frozen
class Mutant:
    name: str
    spec: Spec


def mutants(spec: Spec) -> Iterator[Mutant]:
    """Every mutant of ``spec`` (some are equivalent; the oracle decides which)."""
    for transition in spec.transitions:
        if transition.guard is None:
            continue
        where = f"{transition.source}#{transition.index + 1}"
        expr = parse_guard(transition.guard, transition.span)
        for label, mutated in _guard_mutations(expr):
            yield Mutant(
                f"{where} {label}: {render(mutated)}", _with_guard(spec, transition, mutated)
            )
    for source in dict.fromkeys(t.source for t in spec.transitions):
        outgoing = list(spec.transitions_from(source))
        for i, transition in enumerate(outgoing):
            where = f"{source}#{transition.index + 1}"
            kind = "delete default" if transition.guard is None else "drop transition"
            yield Mutant(
                f"{where} {kind}", _replace_point(spec, source, outgoing[:i] + outgoing[i + 1 :])
            )
            if i + 1 < len(outgoing) and outgoing[i + 1].event == transition.event:
                swapped = [*outgoing[:i], outgoing[i + 1], transition, *outgoing[i + 2 :]]
                yield Mutant(f"{where} swap with next", _replace_point(spec, source, swapped))


def _guard_mutations(expr: Expr) -> Iterator[tuple[str, Expr]]:
    """Single-point mutations of comparisons and literals anywhere in the tree."""
    for path, node in _compares(expr, ()):
        for position, op in enumerate(node.ops):
            for table, label in ((FLIP, "flip"), (EDGE, "edge")):
                if op in table:
                    ops = (*node.ops[:position], table[op], *node.ops[position + 1 :])
                    yield f"{label} {op}", _replace(expr, path, attrs.evolve(node, ops=ops))  # type: ignore[arg-type]
        for position, operand in enumerate(node.comparators):
            if isinstance(operand, Literal) and _is_number(operand.value):
                assert isinstance(operand.value, int | float)
                deltas: tuple[float, ...] = (
                    (-1, 1, 10) if isinstance(operand.value, int) else (-0.1, 0.1, 1.0)
                )
                for delta in deltas:
                    shifted = attrs.evolve(operand, value=_shift(operand.value, delta))
                    comparators = (
                        *node.comparators[:position],
                        shifted,
                        *node.comparators[position + 1 :],
                    )
                    mutated = attrs.evolve(node, comparators=comparators)
                    yield f"shift {operand.value}{delta:+g}", _replace(expr, path, mutated)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shift(value: float, delta: float) -> float:
    return round(value + delta, 6) if isinstance(value, float) else value + int(delta)


Step = int


def _compares(expr: Expr, path: tuple[Step, ...]) -> Iterator[tuple[tuple[Step, ...], Compare]]:
    match expr:
        case Compare():
            yield path, expr
        case BoolOp(values=values):
            for i, value in enumerate(values):
                yield from _compares(value, (*path, i))
        case Not(operand=operand):
            yield from _compares(operand, (*path, 0))
        case _:
            pass


def _replace(expr: Expr, path: tuple[Step, ...], new: Expr) -> Expr:
    if not path:
        return new
    head, rest = path[0], path[1:]
    match expr:
        case BoolOp(values=values):
            changed = (*values[:head], _replace(values[head], rest, new), *values[head + 1 :])
            return attrs.evolve(expr, values=changed)
        case Not(operand=operand):
            return attrs.evolve(expr, operand=_replace(operand, rest, new))
    raise AssertionError(f"no child {head} in {expr!r}")


def _with_guard(spec: Spec, target: TransitionDef, guard: Expr) -> Spec:
    return _map_transitions(
        spec, lambda t: attrs.evolve(t, guard=render(guard)) if t == target else t
    )


def _map_transitions(spec: Spec, change: Callable[[TransitionDef], TransitionDef]) -> Spec:
    return attrs.evolve(spec, transitions=tuple(change(t) for t in spec.transitions))


def _replace_point(spec: Spec, source: str, outgoing: list[TransitionDef]) -> Spec:
    """``source``'s transitions replaced (re-indexed in order), the others kept in place."""
    renumbered = [attrs.evolve(t, index=i) for i, t in enumerate(outgoing)]
    others = [t for t in spec.transitions if t.source != source]
    return attrs.evolve(spec, transitions=tuple(others + renumbered))
