"""Merging a validated agent output (or event data) into the context.

A ``WriteDef`` copies a value from the output (``source`` path; empty = the whole output) into a
context field, by the field's policy: ``replace`` sets it, ``append`` adds one item or extends by
a list. ``plan_writes`` resolves each write against the types once per spec; ``compute_merge``
turns one output into a ``Merge``: the changed fields and appended items, as JSON for the
snapshot and as instances for the live context. Computing a merge never mutates anything.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import attrs

from fsm.datatypes import (
    FLOAT,
    DataType,
    DictType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
    strip_optional,
)
from fsm.errors import ContractError, ContractProblem
from fsm.spec.model import MergePolicy, Spec, WriteDef
from fsm.values import check_value, describe_expected


@attrs.frozen
class WritePlan:
    """One write, resolved: where to read, where to write, and how."""

    field: str
    source: tuple[str, ...]
    policy: MergePolicy
    extend: bool
    """For ``append``: the source is a list whose items are appended (else one item)."""
    nested_floats: bool = False
    """The field is a list, dict or record that may hold a float: an equal value written over
    it may still change a zero's sign inside, so equality is checked deeper."""
    bounded: FieldDef | None = None
    """The context field, when it has constraints of its own (``min``, ``max_len``, a
    ``pattern``, …): a value the output's contract allows may still break them."""


class Merge(NamedTuple):
    """What one output changes: ``changes``/``appended`` as JSON (what the snapshot stores) and
    ``values``/``items`` as instances (what the live context gets)."""

    changes: Mapping[str, object]
    appended: Mapping[str, list[object]]
    values: Mapping[str, object]
    items: Mapping[str, list[object]]


def plan_writes(
    spec: Spec, writes: Sequence[WriteDef], source_type: RecordType
) -> tuple[WritePlan, ...]:
    """Resolve ``writes`` (of a state or an event) against the output's type."""
    plans: list[WritePlan] = []
    for write in writes:
        context_field = spec.context_field(write.field)
        if context_field is None:  # the spec checker rejects this; keep the runtime honest
            raise ValueError(f"write to unknown context field {write.field!r}")
        extend = False
        if context_field.merge == "append":
            value_type = _type_at(source_type, write.source)
            extend = isinstance(strip_optional(value_type), ListType) and strip_optional(
                value_type
            ) == strip_optional(context_field.type)
        nested = _nested_floats(strip_optional(context_field.type))
        field = context_field.field
        bounded = None if field.constraints.is_empty() else field
        plans.append(
            WritePlan(write.field, write.source, context_field.merge, extend, nested, bounded)
        )
    return tuple(plans)


def check_writes(
    plans: Sequence[WritePlan], output_json: object, context_json: Mapping[str, object]
) -> None:
    """Raise ``ContractError`` when writing this validated output would break a context
    field's own constraints: a value the output's contract allows (``score: float``) can be
    out of the field's bounds (``min: 0, max: 1``), and an ``append`` can grow a list past
    its ``max_len``. Such a context could be neither stored as valid nor loaded again."""
    problems: list[ContractProblem] = []
    for plan in plans:
        field = plan.bounded
        if field is None:
            continue
        data = _json_at(output_json, plan.source)
        path = f"context.{plan.field}"
        if plan.policy == "replace":
            problems.extend(check_value(data, field.type, path, field.constraints))
            continue
        if data is None:
            continue
        old = context_json.get(plan.field)
        size = (len(old) if isinstance(old, list) else 0) + (
            len(data) if plan.extend and isinstance(data, list) else 1
        )
        low, high = field.constraints.min_len, field.constraints.max_len
        if (low is not None and size < low) or (high is not None and size > high):
            expected = describe_expected(field.type, field.constraints)
            problems.append(ContractProblem(path, expected, f"{size} items after the append"))
    if problems:
        raise ContractError("Context", problems)


def compute_merge(
    plans: Sequence[WritePlan],
    output_json: object,
    output: object,
    context_json: Mapping[str, object],
) -> Merge:
    """The merge of one validated output. Replaced fields whose value does not change are left
    out, so a snapshot stores only what changed."""
    changes: dict[str, object] = {}
    values: dict[str, object] = {}
    appended: dict[str, list[object]] = {}
    items: dict[str, list[object]] = {}
    for plan in plans:
        source = plan.source
        if len(source) == 1 and type(output_json) is dict:  # a field of the output: most writes
            data = output_json.get(source[0])
            value = getattr(output, source[0])
        else:
            data = _json_at(output_json, source)
            value = _attr_at(output, source)
        if plan.policy == "replace":
            old = context_json.get(plan.field)
            if plan.field in changes or _changes(old, data, deep=plan.nested_floats):
                changes[plan.field] = data
                values[plan.field] = value
            continue
        if data is None:
            continue  # an absent optional value appends nothing
        if plan.extend:
            assert isinstance(data, list)
            assert isinstance(value, list)
            appended.setdefault(plan.field, []).extend(data)
            items.setdefault(plan.field, []).extend(value)
        else:
            appended.setdefault(plan.field, []).append(data)
            items.setdefault(plan.field, []).append(value)
    if not appended:
        return Merge(changes, appended, values, items)  # both empty
    return Merge(
        changes,
        {name: added for name, added in appended.items() if added},
        values,
        {name: added for name, added in items.items() if added},
    )


def _changes(old: object, new: object, *, deep: bool) -> bool:
    """Whether writing ``new`` over ``old`` changes the context: ``!=``, except that ``-0.0``
    differs from ``0.0`` (equal as numbers, not as the JSON a record stores), inside lists,
    dicts and records too when ``deep``."""
    if old != new:
        return True
    if type(new) is float or deep:  # equal: only a zero's sign can differ
        return not _same_zeros(old, new)
    return False


def _nested_floats(data_type: DataType) -> bool:
    """Whether a list, dict or record of this type may hold a float somewhere inside."""
    match data_type:
        case ListType(item=inner) | DictType(value=inner) | OptionalType(inner=inner):
            return inner == FLOAT or _nested_floats(inner)
        case RecordType(fields=fields):
            return any(
                strip_optional(field.type) == FLOAT or _nested_floats(field.type)
                for field in fields
            )
    return False


def _same_zeros(old: object, new: object) -> bool:
    """For equal JSON values: whether every float in them has the same sign as its twin."""
    if type(new) is float:
        return type(old) is not float or math.copysign(1.0, new) == math.copysign(1.0, old)
    if type(new) is dict and type(old) is dict:
        return all(_same_zeros(old[key], value) for key, value in new.items())
    if type(new) is list and type(old) is list:
        return all(_same_zeros(before, after) for before, after in zip(old, new, strict=True))
    return True


def _type_at(record: RecordType, path: tuple[str, ...]) -> DataType:
    current: DataType = record
    for name in path:
        inner = strip_optional(current)
        field = inner.field(name) if isinstance(inner, RecordType) else None
        if field is None:
            raise ValueError(f"{record.name} has no field at {'.'.join(path)!r}")
        current = (
            OptionalType(strip_optional(field.type))
            if isinstance(current, OptionalType)
            else field.type
        )
    return current


def _json_at(data: object, path: tuple[str, ...]) -> object:
    for name in path:
        if data is None:
            return None
        assert type(data) is dict or isinstance(data, Mapping)  # dict first: no ABC check
        data = data.get(name)
    return data


def _attr_at(value: object, path: tuple[str, ...]) -> Any:
    for name in path:
        if value is None:
            return None
        value = getattr(value, name)
    return value
