"""Validation driver: run every rule over a parsed spec and collect all diagnostics.

Phases: local rules → graph rules → guards (parse, facts) → context flow → guards (typed under
what the flow proved) → agent inputs. Only a spec without errors becomes a ``CheckedSpec``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import attrs

from fsm.diagnostics import Diagnostic, sort_diagnostics
from fsm.errors import GuardError, SpecError
from fsm.guards import CheckedGuard, Expr, GuardEnv, check_guard, compile_guard, parse_guard
from fsm.spec import graph, rules
from fsm.spec.checked import CheckedSpec, CheckedTransition
from fsm.spec.flow import GuardFacts, analyse_flow
from fsm.spec.inputs import build_input_records
from fsm.spec.model import Spec, TransitionDef
from fsm.spec.parse import load_spec, parse_spec

SpecRule = Callable[[Spec], list[Diagnostic]]

LOCAL_RULES: tuple[SpecRule, ...] = (
    rules.check_default_transition_last,
    rules.check_event_transitions,
    rules.check_error_routes,
    rules.check_unused_declarations,
    rules.check_generated_names_are_free,
    graph.check_has_final_state,
    graph.check_final_states_have_no_transitions,
    graph.check_states_have_exits,
    graph.check_reachability,
    graph.check_final_reachable,
)


@attrs.frozen
class ValidationResult:
    spec: Spec
    diagnostics: tuple[Diagnostic, ...]
    checked: CheckedSpec | None

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def ok(self) -> bool:
        return self.checked is not None


def validate(spec: Spec) -> ValidationResult:
    """Check everything about ``spec`` that can be known before a run; never raises SpecError."""
    diagnostics: list[Diagnostic] = []
    for rule in LOCAL_RULES:
        diagnostics.extend(rule(spec))

    parsed = _parse_guards(spec, diagnostics)
    env_fields = {field.name: field.type for field in spec.context}
    states = tuple(state.name for state in spec.states)
    permissive = GuardEnv(env_fields, states, frozenset(env_fields))
    guard_texts = {(t.source, t.index): t.guard for t in spec.transitions}
    first_checks = {
        key: _try_check(expr, permissive, guard_texts[key]) for key, expr in parsed.items()
    }
    facts = {key: _facts(checked) for key, checked in first_checks.items()}
    flow = analyse_flow(spec, facts)

    checked_guards: dict[tuple[str, int], CheckedGuard] = {}
    for key, expr in parsed.items():
        assumed = flow.guard_assumptions.get(key, frozenset())
        first = first_checks[key]
        if first is not None and _reads_only_assumed(first, assumed, flow.optional_fields):
            checked_guards[key] = first  # same verdict under the real assumptions
            continue
        env = GuardEnv(env_fields, states, assumed)
        try:
            checked_guards[key] = check_guard(expr, env, text=guard_texts[key])
        except GuardError as error:
            diagnostics.extend(error.diagnostics)

    input_records, input_problems = build_input_records(spec, flow)
    diagnostics.extend(input_problems)

    ordered = tuple(sort_diagnostics(diagnostics))
    if any(d.severity == "error" for d in ordered):
        return ValidationResult(spec, ordered, None)
    checked = CheckedSpec(
        spec=spec,
        transitions=_compile_transitions(spec, checked_guards),
        assigned_on_entry=dict(flow.assigned_on_entry),
        agent_inputs=input_records,
        context_type=spec.context_type(),
    )
    return ValidationResult(spec, ordered, checked)


def _parse_guards(spec: Spec, diagnostics: list[Diagnostic]) -> dict[tuple[str, int], Expr]:
    parsed: dict[tuple[str, int], Expr] = {}
    for transition in spec.transitions:
        if transition.guard is None:
            continue
        span = transition.guard_span or transition.span
        try:
            parsed[(transition.source, transition.index)] = parse_guard(
                transition.guard, span, transition.guard_positions
            )
        except GuardError as error:
            diagnostics.extend(error.diagnostics)
    return parsed


def _try_check(expr: Expr, permissive: GuardEnv, text: str | None) -> CheckedGuard | None:
    """The guard checked as if every optional field were present, or None if it fails even
    so (its errors are reported by the real check)."""
    try:
        return check_guard(expr, permissive, text=text)
    except GuardError:
        return None


def _facts(checked: CheckedGuard | None) -> GuardFacts:
    """What a guard proves about None-ness does not depend on what is assumed before it, so it
    is read from the check under the most permissive assumptions."""
    if checked is None:
        return (frozenset(), frozenset())
    return (checked.not_none_if_true, checked.not_none_if_false)


def _reads_only_assumed(
    checked: CheckedGuard, assumed: frozenset[str], optional: frozenset[str]
) -> bool:
    """A guard whose optional top-level reads are all assumed present checks the same under
    the real assumptions as under the permissive ones, so its first check stands."""
    return all(path[0] in assumed for path in checked.reads if path[0] in optional)


def _compile_transitions(
    spec: Spec, guards: dict[tuple[str, int], CheckedGuard]
) -> dict[str, tuple[CheckedTransition, ...]]:
    def checked(transition: TransitionDef) -> CheckedTransition:
        guard = guards.get((transition.source, transition.index))
        return CheckedTransition(transition, guard, compile_guard(guard) if guard else None)

    return {
        state.name: tuple(checked(t) for t in spec.transitions_from(state.name))
        for state in spec.states
    }


def check_spec(spec: Spec) -> CheckedSpec:
    """Validate or raise ``SpecError`` listing every error (warnings do not fail)."""
    result = validate(spec)
    if result.checked is None:
        raise SpecError(result.errors, {spec.path: spec.source})
    return result.checked


def load_checked(path: str | Path) -> CheckedSpec:
    """Load, parse and validate a spec file: the one entry point for every consumer."""
    return check_spec(load_spec(path))


def checked_from_text(text: str, path: str = "<spec>") -> CheckedSpec:
    return check_spec(parse_spec(text, path))
