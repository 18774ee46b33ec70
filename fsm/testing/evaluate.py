"""Evaluating routing on one case, three ways, and comparing them.

``Evaluator.observe`` builds the context instance the runtime would hold (contract classes and
the strict converter), then evaluates the routing point's guards in order (the reference: first
true guard wins, a guard that raises before a winner is a bug), again on the same instance,
again on a JSON round trip of it, and through the runtime's own ``Router``. Any disagreement is
non-determinism. Every guard is also evaluated past the winner, errors caught, so the checker
can say which earlier transitions win whenever a shadowed one's guard holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from fsm.contracts import ContractConverter, build_classes, make_converter
from fsm.datatypes import DataType, OptionalType
from fsm.runtime import Router
from fsm.runtime.checks import Check, compile_check
from fsm.spec.checked import CheckedSpec, CheckedTransition
from fsm.testing.contexts import RoutingCase


@attrs.frozen
class GuardResult:
    """A guard's value on a case (``None`` for a default transition), or the error it raised."""

    transition: CheckedTransition
    value: bool | None
    error: str | None = None

    def describe(self) -> str:
        definition = self.transition.definition
        head = f"{definition.index + 1}. -> {definition.target} [{self.transition.label}]"
        if self.transition.guard is None:
            return f"{head}: default"
        if self.error is not None:
            return f"{head}: raised {self.error}"
        return f"{head}: {'true' if self.value else 'false'}"


@attrs.frozen
class Outcome:
    """The guards in routing order and what routing chose; ``raised`` is a guard that raised
    before any transition fired (routing itself fails there)."""

    results: tuple[GuardResult, ...]
    winner: CheckedTransition | None
    raised: GuardResult | None

    @property
    def key(self) -> str:
        """A comparable summary: the index that fired, ``none``, or ``raised``."""
        if self.raised is not None:
            return "raised"
        return "none" if self.winner is None else str(self.winner.definition.index)


@attrs.frozen
class Observation:
    """One case evaluated every way; ``disagreement`` explains any non-determinism."""

    case: RoutingCase
    context_json: Mapping[str, object]
    outcome: Outcome
    disagreement: str | None


def evaluate(
    transitions: tuple[CheckedTransition, ...],
    context: object,
    steps: int,
    visits: Mapping[str, int],
) -> Outcome:
    """Every guard of one routing point, and the first-true-wins decision."""
    results: list[GuardResult] = []
    winner: CheckedTransition | None = None
    raised: GuardResult | None = None
    for transition in transitions:
        result = _guard_result(transition, context, steps, visits)
        results.append(result)
        if winner is None and raised is None:
            if result.error is not None:
                raised = result
            elif result.value is None or result.value:
                winner = transition
    return Outcome(tuple(results), winner, raised)


def _guard_result(
    transition: CheckedTransition, context: object, steps: int, visits: Mapping[str, int]
) -> GuardResult:
    if transition.guard_fn is None:
        return GuardResult(transition, None)
    try:
        value = transition.guard_fn(context, steps, visits)
    except Exception as error:  # any exception is the finding itself
        return GuardResult(transition, None, f"{type(error).__name__}: {error}")
    if not isinstance(value, bool):
        return GuardResult(transition, None, f"returned {value!r}, not a bool")
    return GuardResult(transition, value)


class Evaluator:
    """Observes routing cases of one spec; builds the spec's contract classes once.

    A routing point's cases share most of their context: the fields its guards do not read
    hold one fixed value, and the sweep's grid varies a few places of one base context. Those
    shared values are registered with ``hold``; a context is then assembled field by field,
    and each held value is checked and structured once per point instead of once per case
    (rebuilding a context of a hundred fields for each of thousands of cases made `fsm check`
    grow with states x fields)."""

    def __init__(self, checked: CheckedSpec) -> None:
        self._checked = checked
        self._converter: ContractConverter = make_converter(build_classes([checked.context_type]))
        self._check = compile_check(checked.context_type)
        self._router = Router(checked)
        context_type = checked.context_type
        self._context_class: Any = self._converter.classes.python_type(context_type)
        self._fields: dict[str, tuple[bool, Check, DataType]] = {
            field.name: (
                not field.has_default and not isinstance(field.type, OptionalType),
                compile_check(field.type, field.constraints),
                field.type,
            )
            for field in context_type.fields
        }
        self._held: dict[tuple[str, int], tuple[object, object]] = {}

    def hold(self, *shared: Mapping[str, object]) -> None:
        """Register the values the next cases share by reference (replacing those held
        before). The caller promises never to change them: a held value is recognised by
        identity, and its structured form is reused for every case that holds it. Invalid
        values are not held (a case holding one takes the checked path and its error)."""
        self._held = {}
        for values in shared:
            for name, raw in values.items():
                known = self._fields.get(name)
                if known is None or not known[1](raw):
                    continue
                structured = self._converter.structure_valid(raw, known[2])
                self._held[(name, id(raw))] = (raw, structured)

    def context_object(self, data: Mapping[str, object]) -> object:
        """The context instance the runtime would hold for this data (checked by the compiled
        check: the reference checker walked every field of every case, the bulk of `fsm
        check` on large contexts); invalid data raises ``ContractError`` as before. Values
        registered with ``hold`` are reused, not built again."""
        plain = dict(data)
        if self._held:
            assembled = self._assembled(plain)
            if assembled is not None:
                return assembled
        return self._built(plain)

    def _built(self, plain: dict[str, object]) -> object:
        """The whole context checked and structured at once (no held value reused)."""
        context_type = self._checked.context_type
        if self._check(plain):
            return self._converter.structure_valid(plain, context_type)
        return self._converter.structure(plain, context_type, "context")

    def _assembled(self, plain: dict[str, object]) -> object | None:
        """The context built field by field, held values taken as structured before; None
        when the data is not valid (the caller takes the checked path, which reports it).
        Field by field is what the structured record does too: each field by its type, then
        the class with those fields (absent ones take their defaults)."""
        fields = self._fields
        for name in plain:
            if name not in fields:
                return None
        held = self._held
        values: dict[str, object] = {}
        for name, (required, check, data_type) in fields.items():
            if name not in plain:
                if required:
                    return None
                continue
            raw = plain[name]
            hit = held.get((name, id(raw)))
            if hit is not None and hit[0] is raw:
                values[name] = hit[1]
            elif check(raw):
                values[name] = self._converter.structure_valid(raw, data_type)
            else:
                return None
        context: object = self._context_class(**values)
        return context

    def context_json(self, context: object) -> dict[str, object]:
        data = self._converter.unstructure(context)
        assert isinstance(data, dict)
        return data

    def round_trip(self, context: object, data: Mapping[str, object] | None = None) -> object:
        """Serialise and deserialise as a snapshot does (JSON text in between), the whole
        context structured again (no held value reused); ``data`` is ``context_json(context)``
        when the caller has it already."""
        as_json = self.context_json(context) if data is None else data
        text = json.dumps(as_json, allow_nan=False)
        return self._built(json.loads(text))

    def outcome(self, case: RoutingCase, context: object | None = None) -> Outcome:
        transitions = self._checked.outgoing(case.state, case.event)
        instance = self.context_object(case.context) if context is None else context
        return evaluate(transitions, instance, case.steps, dict(case.visits))

    def observe(self, case: RoutingCase) -> Observation:
        context = self.context_object(case.context)
        context_json = self.context_json(context)
        first = self.outcome(case, context)
        again = self.outcome(case, context)
        restored = self.outcome(case, self.round_trip(context, context_json))
        disagreement = None
        if again.key != first.key:
            disagreement = f"evaluating twice chose {first.key} then {again.key}"
        elif restored.key != first.key:
            disagreement = (
                f"after a JSON round trip of the context routing chose {restored.key}, "
                f"before it {first.key}"
            )
        elif first.raised is None:
            routed = self._router_key(case, context)
            if routed != first.key:
                disagreement = (
                    f"the runtime's router chose {routed}, the guards in order {first.key}"
                )
        return Observation(case, context_json, first, disagreement)

    def _router_key(self, case: RoutingCase, context: object) -> str:
        try:
            chosen = self._router.next(
                case.state, context, case.steps, dict(case.visits), case.event
            )
        except Exception:  # compared, not handled
            return "raised"
        return "none" if chosen is None else str(chosen.definition.index)
