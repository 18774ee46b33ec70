"""``check_writes`` directly: what an ``append`` does to a bounded list field's length."""

from __future__ import annotations

import pytest

from fsm.datatypes import SCALARS, Constraints, FieldDef, ListType, OptionalType
from fsm.errors import ContractError
from fsm.runtime.merge import WritePlan, check_writes

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
