"""An independent oracle for routing faults: exhaustive evaluation on a boundary grid.

It shares with ``fsm check`` only the *definition* of a valid routing input (the narrowed
context contract and the plausible visit bounds of ``fsm.testing.contexts``), not its search:
no hypothesis, no boundary module, and the reference guard *interpreter* instead of compiled
guards. For each routing point it enumerates every combination of values of the places its
guards read: numbers at each literal of the spec's guards and 1 (ints) or 1e-9 (floats) either
side, the contract bounds and 0; every enum member and bool; strings and lists of the lengths
around each literal. Guards compare places with literals, so each guard's truth is constant
between neighbouring grid values: the grid visits every region, and "no grid point fires X" is a
proof that X never fires. Termination is decided by simulating every run on concrete counters
(agents may fail, so error routes are taken too): the spec is unbounded when some run reaches the
step limit without finishing.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator, Mapping
from random import Random

import attrs
from hypothesis import HealthCheck, Phase, find, settings

from fsm.contracts import build_classes, make_converter
from fsm.datatypes import (
    Constraints,
    DataType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
    strip_optional,
)
from fsm.guards import interpret
from fsm.guards.nodes import Literal, LiteralList
from fsm.spec.checked import CheckedSpec
from fsm.testing.contexts import narrowed_context, routing_points, visit_bounds
from fsm.testing.strategies import values
from fsm.values import check_value

_SETTINGS = settings(
    database=None,
    max_examples=200,
    phases=(Phase.generate, Phase.shrink),
    suppress_health_check=list(HealthCheck),
    deadline=None,
)


_EXAMPLES: dict[str, object] = {}


def _example(data_type: DataType) -> object:
    """The simplest valid value of a type (hypothesis's minimal example).

    Shrinking to it is slow and mutants share their types, so each type's example is found once
    per test process (keyed by the type's full structure) and handed out as a copy."""
    key = repr(data_type)
    if key not in _EXAMPLES:
        _EXAMPLES[key] = find(
            values(data_type),
            lambda _: True,
            settings=_SETTINGS,
            random=Random(0),
        )
    return copy.deepcopy(_EXAMPLES[key])


def _literals(checked: CheckedSpec) -> list[object]:
    found: list[object] = []
    for transitions in checked.transitions.values():
        for transition in transitions:
            if transition.guard is None:
                continue
            stack = [transition.guard.expr]
            while stack:
                node = stack.pop()
                if isinstance(node, Literal):
                    found.append(node.value)
                elif isinstance(node, LiteralList):
                    found.extend(item.value for item in node.items)
                stack.extend(_attrs_children(node))
    return found


def _attrs_children(node: object) -> list[object]:
    if not attrs.has(type(node)):
        return []
    out: list[object] = []
    for field in attrs.fields(type(node)):
        out.extend(_children(getattr(node, field.name)))
    return out


def _children(value: object) -> list[object]:
    if isinstance(value, tuple):
        return [v for v in value if attrs.has(type(v))]
    return [value] if attrs.has(type(value)) else []


def _numbers(literals: list[object]) -> list[float]:
    return [v for v in literals if isinstance(v, int | float) and not isinstance(v, bool)]


def _domain(
    data_type: DataType, constraints: Constraints, literals: list[object], present: object
) -> list[object]:
    """Grid values for one place, all contract-valid."""
    inner = strip_optional(data_type)
    numbers = _numbers(literals)
    candidates: list[object] = []
    match inner:
        case ScalarType(name="int"):
            candidates = [int(n) + d for n in numbers for d in (-1, 0, 1)] + [0]
            candidates += [
                int(b) for b in (constraints.minimum, constraints.maximum) if b is not None
            ]
        case ScalarType(name="float"):
            candidates = [float(n) + d for n in numbers for d in (-1e-9, 0.0, 1e-9)] + [0.0]
            candidates += [
                float(b) for b in (constraints.minimum, constraints.maximum) if b is not None
            ]
        case ScalarType(name="bool"):
            candidates = [False, True]
        case ScalarType(name="str"):
            strings = [v for v in literals if isinstance(v, str)]
            sizes = [int(n) + d for n in numbers for d in (-1, 0, 1) if int(n) + d >= 0]
            candidates = ["", "zzz", *strings, *("a" * n for n in sizes)]
        case EnumType(values=members):
            candidates = list(members)
        case ListType(item=item):
            one = _example(item)
            sizes = sorted({0, 1, *(int(n) + d for n in numbers for d in (-1, 0, 1) if n + d >= 0)})
            candidates = [[one] * n for n in sizes if n <= 64]
            candidates += [[v] for v in literals if not check_value(v, item, "")]
        case _:
            candidates = [present]
    if isinstance(data_type, OptionalType):
        candidates.append(None)
    valid = [c for c in candidates if not check_value(c, data_type, "", constraints)]
    unique: list[object] = []
    for value in valid:
        if all(type(value) is not type(u) or value != u for u in unique):
            unique.append(value)
    return unique


def _place(record: RecordType, path: tuple[str, ...]) -> tuple[DataType, Constraints]:
    current: DataType = record
    constraints = Constraints()
    for name in path:
        record_type = strip_optional(current)
        assert isinstance(record_type, RecordType)
        field = record_type.field(name)
        assert field is not None
        current, constraints = field.type, field.constraints
    return current, constraints


def _set(context: dict[str, object], path: tuple[str, ...], value: object) -> bool:
    """Set a nested place; False when a parent on the way is None (the place does not exist)."""
    target: object = context
    for name in path[:-1]:
        assert isinstance(target, dict)
        target = target.get(name)
        if target is None:
            return False
    assert isinstance(target, dict)
    target[path[-1]] = value
    return True


class Oracle:
    def __init__(self, checked: CheckedSpec) -> None:
        self.checked = checked
        self.literals = _literals(checked)
        self.converter = make_converter(build_classes([checked.context_type]))

    def assignments(self, state: str, event: str | None) -> list[dict[str, object]]:
        """Every grid combination of the context places this point's guards read."""
        record = narrowed_context(self.checked, state, event)
        base = _example(record)
        assert isinstance(base, dict)
        for field in record.fields:  # optional fields present, so nested places exist
            if isinstance(field.type, OptionalType):
                base[field.name] = _example(field.type.inner)
        reads = sorted(
            {
                path
                for t in self.checked.outgoing(state, event)
                if t.guard is not None
                for path in t.guard.reads
                if path[0] not in ("steps", "visits")
            },
            key=len,
        )
        domains = []
        for path in reads:
            data_type, constraints = _place(record, path)
            present = _example(strip_optional(data_type))
            domains.append(_domain(data_type, constraints, self.literals, present))
        out: list[dict[str, object]] = []
        for combination in itertools.product(*domains):
            context = _deep_copy(base)
            if all(_set(context, p, v) for p, v in zip(reads, combination, strict=True)):
                out.append(context)
        return out

    def counters(self, state: str, event: str | None) -> Iterator[tuple[int, dict[str, int]]]:
        """Grid of (steps, visits) over the counters the point's guards read."""
        reads = {
            path
            for t in self.checked.outgoing(state, event)
            if t.guard is not None
            for path in t.guard.reads
            if path[0] in ("steps", "visits")
        }
        bounds = visit_bounds(self.checked, state)
        numbers = [int(n) for n in _numbers(self.literals)]
        around = sorted({max(n + d, 0) for n in numbers for d in (-1, 0, 1)} | {0, 1})
        names = sorted(name for kind, *rest in reads if kind == "visits" for name in rest)
        base = {name: int(b.minimum or 0) for name, b in bounds.items()}
        per_state = [
            [v for v in around if (bounds[n].minimum or 0) <= v <= (bounds[n].maximum or 0)]
            for n in names
        ]
        limit = self.checked.spec.max_steps - 1
        steps_values = [s for s in around if s <= limit] + [limit] if ("steps",) in reads else [0]
        for steps in steps_values:
            for combo in itertools.product(*per_state):
                yield steps, {**base, **dict(zip(names, combo, strict=True))}

    def winners(
        self, state: str, event: str | None, context: object, steps: int, visits: Mapping[str, int]
    ) -> int | None:
        for transition in self.checked.outgoing(state, event):
            if transition.guard is None:
                return transition.definition.index
            if interpret(transition.guard.expr, context, steps, visits) is True:
                return transition.definition.index
        return None

    def routing_faults(self) -> set[str]:
        """``incomplete`` and/or ``shadowed`` when some point has that fault."""
        faults: set[str] = set()
        for state, event in routing_points(self.checked):
            transitions = self.checked.outgoing(state, event)
            fired: set[int | None] = set()
            for data in self.assignments(state, event):
                context = self.converter.structure(data, self.checked.context_type, "context")
                for steps, visits in self.counters(state, event):
                    fired.add(self.winners(state, event, context, steps, visits))
            if None in fired:
                faults.add("incomplete")
            if any(t.guard is not None and t.definition.index not in fired for t in transitions):
                faults.add("shadowed")
        return faults

    def reaches_step_limit(self) -> bool:
        """Some run (any agent outputs, any events, agents failing) hits the step limit."""
        spec = self.checked.spec
        contexts = {
            point: [
                self.converter.structure(d, self.checked.context_type, "context")
                for d in self.assignments(*point)
            ]
            for point in routing_points(self.checked)
        }
        seen: set[tuple[str, tuple[tuple[str, int], ...]]] = set()
        names = [s.name for s in spec.states]
        stack = [(spec.initial, {n: int(n == spec.initial) for n in names}, 0)]
        while stack:
            state, visits, steps = stack.pop()
            definition = spec.state(state)
            assert definition is not None
            if definition.final:
                continue
            if steps >= spec.max_steps:
                return True
            key = (state, tuple(sorted(visits.items())))
            if key in seen:
                continue
            seen.add(key)
            targets: set[str] = set()
            if definition.on_error is not None:
                targets.add(definition.on_error)
            for point, options in contexts.items():
                if point[0] != state:
                    continue
                for context in options:
                    index = self.winners(state, point[1], context, steps, visits)
                    if index is not None:
                        targets.add(_target(self.checked, state, point[1], index))
            for target in sorted(targets):
                stack.append((target, {**visits, target: visits[target] + 1}, steps + 1))
        return False


def _target(checked: CheckedSpec, state: str, event: str | None, index: int) -> str:
    for transition in checked.outgoing(state, event):
        if transition.definition.index == index:
            return transition.target
    raise AssertionError(index)


def _deep_copy(data: dict[str, object]) -> dict[str, object]:
    return copy.deepcopy(data)
