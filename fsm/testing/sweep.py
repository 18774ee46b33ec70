"""A deterministic sweep of one routing point: every combination of boundary candidates.

Hypothesis mixes boundary candidates into random draws, which finds a region as large as its
share of the draws; a region that needs one specific value in *each* of several places (category
``other``, priority not urgent, confidence at least 0.6) can get none of 200 draws. The sweep
walks the cartesian product of the candidates of the places a routing point's guards read
(literals and their neighbours, every enum member and bool, lengths around ``len`` literals,
``None`` for optionals, the contract's edges), so such a region is found at every seed. Beyond
``cap`` combinations it evaluates a seeded random sample of the product instead.

Each place's candidates start with its simplest value, so early combinations are small, and
``shrink`` moves each place of a found case back towards its simplest value.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from random import Random

import attrs

from fsm.datatypes import (
    Constraints,
    DataType,
    EnumType,
    OptionalType,
    RecordType,
    ScalarType,
    strip_optional,
)
from fsm.guards.nodes import STEPS, VISITS
from fsm.spec.checked import CheckedSpec
from fsm.testing.boundaries import CONTEXT, UNBUILDABLE, boundary_candidates, minimal
from fsm.testing.contexts import RoutingCase, narrowed_context, steps_bounds, visit_bounds
from fsm.testing.strategies import Path
from fsm.values import check_value

SWEEP_CAP = 2000
"""Combinations evaluated per routing point before falling back to a seeded sample."""


@attrs.frozen
class Grid:
    """The places a routing point reads, each with its candidate values (simplest first)."""

    state: str
    event: str | None
    base_context: dict[str, object]
    base_steps: int
    base_visits: dict[str, int]
    places: tuple[Path, ...]
    domains: tuple[tuple[object, ...], ...]

    @property
    def size(self) -> int:
        return math.prod(len(domain) for domain in self.domains)

    def case(self, choice: Sequence[int]) -> RoutingCase:
        """The routing case picking ``domains[i][choice[i]]`` for each place."""
        # Copy on write: only the dicts on the way to a changed place are copied (a deep copy
        # of the whole base context per case was most of the sweep on large contexts).
        context = dict(self.base_context)
        steps, visits = self.base_steps, dict(self.base_visits)
        for place, domain, index in zip(self.places, self.domains, choice, strict=True):
            value = domain[index]
            if place[0] == STEPS:
                steps = int(value)  # type: ignore[call-overload]
            elif place[0] == VISITS:
                visits[place[1]] = int(value)  # type: ignore[call-overload]
            else:
                _set(context, place[1:], copy.deepcopy(value))
        return RoutingCase(self.state, self.event, context, steps, visits)

    def choices(self, cap: int, seed: int) -> Iterator[tuple[int, ...]]:
        """Every combination when at most ``cap``; else ``cap`` of them: first the diagonals
        (every place at its k-th candidate, counted from the simplest and from the most
        extreme: a rare region is often every field at its edge at once), then seeded random
        ones."""
        ranges = [range(len(domain)) for domain in self.domains]
        if self.size <= cap:
            yield from itertools.product(*ranges)
            return
        longest = max(len(r) for r in ranges)
        diagonals = dict.fromkeys(
            tuple(min(k, len(r) - 1) if from_start else max(len(r) - 1 - k, 0) for r in ranges)
            for k in range(longest)
            for from_start in (True, False)
        )
        chosen = list(diagonals)[:cap]
        yield from chosen
        rng = Random(seed)  # noqa: S311  # reproducible sample, not crypto
        for _ in range(cap - len(chosen)):
            yield tuple(rng.randrange(len(r)) for r in ranges)


def routing_grid(checked: CheckedSpec, state: str, event: str | None) -> Grid | None:
    """The sweep grid of one routing point; None when its base context cannot be built."""
    record = narrowed_context(checked, state, event)
    reads = sorted(
        {
            path
            for transition in checked.outgoing(state, event)
            if transition.guard is not None
            for path in transition.guard.reads
        },
        key=lambda path: (len(path), path),
    )
    base = _base_context(record, reads)
    if base is None:
        return None
    bounds = visit_bounds(checked, state)
    candidates = boundary_candidates(checked, state)
    counted_steps = steps_bounds(checked, state)
    fewest_steps = int(counted_steps.minimum or 0)
    places: list[Path] = []
    domains: list[tuple[object, ...]] = []
    for path in reads:
        if path[0] == STEPS:
            steps_found = [fewest_steps, *candidates.get((STEPS,), [])]
            places.append((STEPS,))
            domains.append(_valid(steps_found, ScalarType("int"), counted_steps))
        elif path[0] == VISITS:
            low = int(bounds[path[1]].minimum or 0)
            visits_found = [low, *candidates.get((VISITS, path[1]), [])]
            places.append((VISITS, path[1]))
            domains.append(_valid(visits_found, ScalarType("int"), bounds[path[1]]))
        else:
            placed = _place(record, path)
            if placed is None:
                continue
            data_type, constraints = placed
            found = [*_own_values(data_type, constraints), *candidates.get((CONTEXT, *path), [])]
            places.append((CONTEXT, *path))
            domains.append(_valid(found, data_type, constraints))
    kept = [(p, d) for p, d in zip(places, domains, strict=True) if d]
    base_visits = {name: int(b.minimum or 0) for name, b in bounds.items()}
    return Grid(
        state,
        event,
        base,
        fewest_steps,
        base_visits,
        tuple(p for p, _ in kept),
        tuple(d for _, d in kept),
    )


def shrink(
    grid: Grid, choice: Sequence[int], keeps: Callable[[RoutingCase], bool]
) -> tuple[int, ...]:
    """Move each place to its simplest value that still ``keeps`` the property."""
    current = list(choice)
    for position in range(len(current)):
        for index in range(current[position]):
            trial = [*current[:position], index, *current[position + 1 :]]
            if keeps(grid.case(trial)):
                current = trial
                break
    return tuple(current)


def _own_values(data_type: DataType, constraints: Constraints) -> list[object]:
    """Values every place of this type gets: its simplest, members, bools, None."""
    inner = strip_optional(data_type)
    own: list[object] = []
    simplest = minimal(inner, constraints)
    if simplest is not UNBUILDABLE:
        own.append(simplest)
    match inner:
        case EnumType(values=members):
            own.extend(members)
        case ScalarType(name="bool"):
            own.extend([False, True])
        case _:
            pass
    if isinstance(data_type, OptionalType):
        own.append(None)
    return own


def _valid(
    found: list[object], data_type: DataType, constraints: Constraints
) -> tuple[object, ...]:
    """Contract-valid candidates, repeats dropped (``0``, ``0.0`` and ``False`` kept apart)."""
    out: list[object] = []
    seen: set[tuple[type, str]] = set()
    for value in found:
        key = (type(value), repr(value))
        if key in seen or check_value(value, data_type, "", constraints):
            continue
        seen.add(key)
        out.append(value)
    return tuple(out)


def _base_context(record: RecordType, reads: list[Path]) -> dict[str, object] | None:
    """The simplest valid context, with optional parents of read places present."""
    base: dict[str, object] = {}
    parents = {path[0] for path in reads if len(path) > 1}
    for field in record.fields:
        if isinstance(field.type, OptionalType) and field.name in parents:
            value = minimal(field.type.inner, field.constraints)
        else:
            value = minimal(field.type, field.constraints)
        if value is UNBUILDABLE:
            if field.has_default:
                continue
            return None
        base[field.name] = value
    return base


def _place(record: RecordType, path: Path) -> tuple[DataType, Constraints] | None:
    current: DataType = record
    constraints = Constraints()
    for name in path:
        parent = strip_optional(current)
        if not isinstance(parent, RecordType):
            return None
        field = parent.field(name)
        if field is None:
            return None
        current, constraints = field.type, field.constraints
    return current, constraints


def _set(context: dict[str, object], path: Path, value: object) -> None:
    """Set a nested place in ``context``, whose own dict is already a copy, copying each dict
    on the way so the base context it shares values with is never changed; nothing when a
    parent on the way is not a dict (None: the place is absent)."""
    target = context
    for name in path[:-1]:
        inner = target.get(name)
        if not isinstance(inner, dict):
            return
        inner = dict(inner)
        target[name] = inner
        target = inner
    target[path[-1]] = value
