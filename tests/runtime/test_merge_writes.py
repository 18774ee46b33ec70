"""``check_writes`` directly: what an ``append`` does to a bounded list field's length."""

from __future__ import annotations

from typing import ClassVar

import pytest

from fsm.datatypes import FLOAT, SCALARS, Constraints, FieldDef, ListType, OptionalType, RecordType
from fsm.errors import ContractError
from fsm.runtime.merge import WritePlan, _nested_floats, check_writes, compute_merge

STRS = ListType(SCALARS["str"])


def _append(field: FieldDef, *, extend: bool) -> WritePlan:
    return WritePlan("log", ("tags",), "append", extend, bounded=field)


def test_an_absent_optional_value_appends_nothing_so_breaks_no_max_len() -> None:
    """A None output value appends no item: a list already at its max_len stays valid."""
    full = FieldDef("log", STRS, constraints=Constraints(max_len=2))
    check_writes([_append(full, extend=False)], {"tags": None}, {"log": ["a", "b"]})
    with pytest.raises(ContractError, match=r"context\.log: .*3 items after the append"):
        check_writes([_append(full, extend=False)], {"tags": "c"}, {"log": ["a", "b"]})


def test_an_append_leaving_an_unset_list_below_its_min_len_is_refused() -> None:
    """An optional list field that is None holds no items: extending it by fewer than
    ``min_len`` leaves it too short, and extending it by enough does not."""
    short = FieldDef("log", OptionalType(STRS), constraints=Constraints(min_len=2))
    with pytest.raises(ContractError, match=r"context\.log: .*1 items after the append"):
        check_writes([_append(short, extend=True)], {"tags": ["x"]}, {"log": None})
    check_writes([_append(short, extend=True)], {"tags": ["x", "y"]}, {"log": None})


class _Out:
    review: ClassVar[dict[str, float]] = {"score": -0.0}


def test_a_record_field_holding_a_float_is_compared_deeply() -> None:
    """Writing ``{score: -0.0}`` over ``{score: 0.0}`` changes the stored JSON: a record
    field with a float field is planned with ``nested_floats``, so the merge records it."""
    record = RecordType("Review", (FieldDef("score", FLOAT),))
    assert _nested_floats(record)
    assert _nested_floats(RecordType("Note", (FieldDef("score", OptionalType(FLOAT)),)))
    assert not _nested_floats(RecordType("Tag", (FieldDef("name", SCALARS["str"]),)))
    plan = WritePlan("review", ("review",), "replace", False, _nested_floats(record))
    merge = compute_merge([plan], {"review": {"score": -0.0}}, _Out(), {"review": {"score": 0.0}})
    assert merge.changes == {"review": {"score": -0.0}}
