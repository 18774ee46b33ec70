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
import operator
import sys
from collections.abc import Callable, Mapping
from itertools import compress, repeat
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


_INVALID = object()
"""A held value whose JSON round trip the contract refuses (never in practice)."""


@attrs.frozen
class _Held:
    """Values the cases of a routing point share by reference (``Evaluator.hold``), each
    checked, structured and round-tripped through JSON once."""

    names: tuple[str, ...]
    raws: tuple[object, ...]
    """The shared data, by field."""
    structured: tuple[object, ...]
    """Each value as the context class holds it."""
    restored: tuple[object, ...]
    """Each structured value after a JSON round trip, as ``Evaluator.round_trip`` makes it."""
    present: frozenset[str]

    def matches(self, found: tuple[object, ...]) -> list[bool]:
        """Per field, whether ``found`` holds the very object shared there (C-level loop)."""
        return list(map(operator.is_, found, self.raws))


class Evaluator:
    """Observes routing cases of one spec; builds the spec's contract classes once.

    A routing point's cases share most of their context: the fields its guards do not read
    hold one fixed value, and the sweep's grid varies a few places of one base context. Those
    shared values are registered with ``hold``; a context is then assembled from the held
    values, built once per point, and the few fields a case changes, instead of checking and
    structuring every field of every case (a context of a hundred fields rebuilt for each of
    thousands of cases made `fsm check` grow with states x fields). The result is the same
    instance: a record is structured field by field by its fields' types either way."""

    def __init__(self, checked: CheckedSpec) -> None:
        self._checked = checked
        self._converter: ContractConverter = make_converter(build_classes([checked.context_type]))
        self._check = compile_check(checked.context_type)
        self._router = Router(checked)
        context_type = checked.context_type
        self._context_class: Any = self._converter.classes.python_type(context_type)
        # Names as the class's __init__ spells them (identifiers in compiled code are
        # interned): keyword arguments whose names are the same objects match at once, others
        # by comparing text with every parameter, which cost 6x the rest of building a
        # context of a hundred fields.
        self._fields: dict[str, tuple[Check, DataType]] = {
            sys.intern(field.name): (compile_check(field.type, field.constraints), field.type)
            for field in context_type.fields
        }
        self._interned = {name: name for name in self._fields}
        self._names = frozenset(self._fields)
        self._required = frozenset(
            field.name
            for field in context_type.fields
            if not field.has_default and not isinstance(field.type, OptionalType)
        )
        self._held: tuple[_Held, ...] = ()

    def hold(self, *shared: Mapping[str, object]) -> None:
        """Register the values the next cases share by reference (replacing those held
        before). The caller promises never to change them: a held value is recognised by
        identity, and its structured form is reused for every case that holds it. Invalid
        values are not held (a case holding one takes the checked path and its error)."""
        held: list[_Held] = []
        for values in shared:
            kept: list[tuple[str, object, object, object]] = []
            for given, raw in values.items():
                name = self._interned.get(given)
                if name is None:
                    continue
                check, data_type = self._fields[name]
                if not check(raw):
                    continue
                structured = self._converter.structure_valid(raw, data_type)
                restored = self._restored_field(name, structured)
                if restored is not _INVALID:
                    kept.append((name, raw, structured, restored))
            if kept:
                names, raws, structured_values, restored_values = zip(*kept, strict=True)
                held.append(
                    _Held(names, raws, structured_values, restored_values, frozenset(names))
                )
        self._held = tuple(held)

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
        """The context from the held values that ``plain`` shares and its other fields checked
        and structured; None when the data is not valid or shares nothing (the caller takes
        the whole path, which reports any problem)."""
        return self._assemble(
            plain,
            lambda held: held.matches(tuple(map(plain.__getitem__, held.names))),
            lambda held: held.structured,
        )

    def _restored_field(self, name: str, value: object) -> object:
        """One structured field after a JSON round trip, as the whole context's would be;
        ``_INVALID`` when the trip breaks it (not held then: the whole trip reports it)."""
        check, data_type = self._fields[name]
        try:
            data = json.loads(json.dumps(self._converter.unstructure(value), allow_nan=False))
        except ValueError:
            return _INVALID
        return self._converter.structure_valid(data, data_type) if check(data) else _INVALID

    def context_json(self, context: object) -> dict[str, object]:
        data = self._converter.unstructure(context)
        assert isinstance(data, dict)
        return data

    def round_trip(self, context: object, data: Mapping[str, object] | None = None) -> object:
        """Serialise and deserialise as a snapshot does (JSON text in between); ``data`` is
        ``context_json(context)`` when the caller has it already. A field whose value is a
        held one (the very instance ``hold`` built) takes the round trip made of it then: a
        record's JSON is its fields' JSON side by side, so each field's trip is its own."""
        as_json = self.context_json(context) if data is None else data
        loaded = json.loads(json.dumps(as_json, allow_nan=False))
        if self._held:
            assembled = self._restored(context, loaded)
            if assembled is not None:
                return assembled
        return self._built(loaded)

    def _restored(self, context: object, loaded: dict[str, object]) -> object | None:
        """``loaded`` (the context after a JSON round trip) assembled from the held values'
        own round trips where ``context`` holds a held instance; None as ``_assembled``."""
        return self._assemble(
            loaded,
            lambda held: list(
                map(operator.is_, map(getattr, repeat(context), held.names), held.structured)
            ),
            lambda held: held.restored,
        )

    def _assemble(
        self,
        data: dict[str, object],
        sharing: Callable[[_Held], list[bool]],
        reused: Callable[[_Held], tuple[object, ...]],
    ) -> object | None:
        """A context of ``data``: the ``reused`` values of the held set it shares most with
        (``sharing``: per held field, whether the case holds it), its other fields checked and
        structured; None when a field is missing, unknown or invalid, or nothing is held."""
        keys = data.keys()
        if not keys <= self._names or not self._required <= keys:
            return None
        best: tuple[_Held, list[bool]] | None = None
        for held in self._held:
            if held.present <= keys:
                same = sharing(held)
                if best is None or sum(same) > sum(best[1]):
                    best = (held, same)
        if best is None:
            return None
        held, same = best
        values = dict(zip(compress(held.names, same), compress(reused(held), same), strict=True))
        for name in keys - values.keys():
            check, data_type = self._fields[name]
            raw = data[name]
            if not check(raw):
                return None
            values[self._interned[name]] = self._converter.structure_valid(raw, data_type)
        context: object = self._context_class(**values)
        return context

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
