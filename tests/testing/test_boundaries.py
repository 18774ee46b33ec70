"""Boundary candidates: guard literals, their neighbours and type extremes become candidates."""

from __future__ import annotations

import math

from fsm.datatypes import FLOAT, INT, STR, Constraints, FieldDef, ListType, RecordType
from fsm.diagnostics import SourceSpan
from fsm.guards import parse_guard
from fsm.testing.boundaries import UNBUILDABLE, boundary_candidates, guard_candidates, minimal
from tests.testing.specs import scoring

SPAN = SourceSpan("t.yaml", 1, 1)
ITEM = RecordType("Item", (FieldDef("code", STR, constraints=Constraints(pattern="[A-Z]{3}")),))
CONTEXT = RecordType(
    "Context",
    (
        FieldDef("score", FLOAT, constraints=Constraints(minimum=0, maximum=1)),
        FieldDef("count", INT),
        FieldDef("name", STR),
        FieldDef("tags", ListType(STR)),
        FieldDef("items", ListType(ITEM)),
    ),
)


def candidates(guard: str) -> dict[tuple[str, ...], list[object]]:
    return guard_candidates(parse_guard(guard, SPAN), CONTEXT)


def test_float_literal_and_its_neighbours() -> None:
    """`score >= 0.8` aims at 0.8 and the floats right beside it."""
    found = candidates("score >= 0.8")[("context", "score")]
    assert {0.8, math.nextafter(0.8, 0), math.nextafter(0.8, 1)} <= set(found)


def test_int_literal_neighbours_and_extremes() -> None:
    """`count < 3` aims at 2, 3, 4 and the int extremes."""
    found = set(candidates("3 > count")[("context", "count")])
    assert {2, 3, 4, 0, -1, 2**53} <= found


def test_len_comparison_gives_values_of_those_lengths() -> None:
    """`len(tags) == 3` aims at lists of 2, 3 and 4 items."""
    found = candidates("len(tags) == 3")[("context", "tags")]
    assert {len(v) for v in found if isinstance(v, list)} >= {2, 3, 4}


def test_membership_in_literal_list_and_in_a_list_place() -> None:
    """`name in [...]` aims at each member; `'x' in tags` at lists holding 'x'."""
    assert {"a", "b"} <= set(candidates("name in ['a', 'b']")[("context", "name")])
    assert ["urgent"] in candidates("'urgent' in tags")[("context", "tags")]


def test_counters_get_candidates() -> None:
    """`visits.x < 3` and `steps <= 5` aim at the counters' boundaries."""
    found = candidates("visits.x < 3 and steps <= 5")
    assert {2, 3, 4} <= set(found[("visits", "x")])
    assert {4, 5, 6} <= set(found[("steps",)])


def test_string_method_variants() -> None:
    """`name.lower() == 'vip'` aims at case variants of the literal."""
    assert {"vip", "VIP", "Vip"} <= set(candidates("name.lower() == 'vip'")[("context", "name")])


def test_minimal_values_are_valid_or_unbuildable() -> None:
    """`minimal` builds small valid values, pattern strings included."""
    item = minimal(ITEM)
    assert isinstance(item, dict)
    assert len(str(item["code"])) == 3
    assert minimal(INT, Constraints(minimum=5)) == 5
    assert minimal(STR, Constraints(pattern=r"a\bb")) is UNBUILDABLE  # matches nothing


def test_spec_candidates_are_per_state() -> None:
    """Candidates of a checked spec come from its states' guards, keyed by routing paths."""
    found = boundary_candidates(scoring(), "reviewing")
    assert 0.8 in found[("context", "review", "score")]
    assert {2, 3, 4} <= set(found[("visits", "reviewing")])
