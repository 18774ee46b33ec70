"""``check_routing``: prove, by property-based search, that a spec routes soundly.

Phases, per routing point (a state, or a wait state's event): explore with hypothesis over
contract-valid routing cases (boundary candidates mixed in) and tally which transition fires;
then sweep the point's grid of boundary candidates (``fsm.testing.sweep``), which reaches rare
regions that random draws miss, at every seed. For each anomaly seen (no transition fires, a
guard raises, routing disagrees with itself) hypothesis ``find``s a minimal case to print as the
counterexample (the sweep shrinks its own); each transition that never fired gets a search aimed
at it before it is called shadowed. Then, over the graph of the transitions that can fire:
reachability and termination (``fsm.testing.termination``). Finally, whole runs with fake agents
(``fsm.testing.runs``).

Random search proves existence (a transition *can* fire) but only suggests absence; the
boundary candidates and the sweep make the suggestion strong for guards that compare with
literals, which is what the mutation test in tests/mutation measures.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from random import Random

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, find, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample, Unsatisfiable

from fsm.datatypes import FieldDef, RecordType
from fsm.diagnostics import Severity
from fsm.errors import FsmError
from fsm.spec.checked import CheckedSpec, CheckedTransition
from fsm.spec.graph import reachable_from
from fsm.testing.contexts import (
    RoutingCase,
    SpecLike,
    as_checked,
    focused_routing_cases,
    routing_points,
)
from fsm.testing.evaluate import Evaluator, Observation, Outcome
from fsm.testing.report import (
    GUARD_ERROR_HINT,
    Counterexample,
    Finding,
    FindingKind,
    PointSummary,
    RoutingReport,
)
from fsm.testing.sweep import SWEEP_CAP, Grid, routing_grid, shrink
from fsm.testing.termination import (
    CycleSearchBudgetExceededError,
    WalkBudgetExceededError,
    find_unbounded_cycles,
    graph_edges,
    run_to_step_limit,
)

DEFAULT_EXAMPLES = 200
"""Routing cases explored per routing point."""
DEFAULT_RUNS = 30
"""Whole runs with fake agents."""

Anomaly = FindingKind


@attrs.frozen
class CheckOptions:
    examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    strict: bool = False
    runs: int = DEFAULT_RUNS


@attrs.define
class _PointStats:
    """Mutable tallies of one exploration; local to ``_check_point``."""

    examples: int = 0
    fired: Counter[int] = attrs.field(factory=Counter)
    winners_when_true: dict[int, Counter[int]] = attrs.field(factory=dict)
    anomalies: dict[Anomaly, Observation] = attrs.field(factory=dict)
    swept: set[Anomaly] = attrs.field(factory=set)
    """Anomalies only the sweep found (their cases are already shrunk by the sweep)."""
    exhaustive: bool = False
    """The sweep evaluated its whole grid (not a sample)."""
    grid_size: int = 0
    """Combinations in the sweep's grid (0: no grid); more than ``SWEEP_CAP`` are sampled."""
    swept_cases: int = 0
    """Grid combinations the sweep evaluated."""

    def add(self, observation: Observation) -> None:
        self.examples += 1
        kind = anomaly_of(observation)
        if kind is not None:
            self.anomalies.setdefault(kind, observation)
        self.tally(observation.outcome)

    def tally(self, outcome: Outcome) -> None:
        """Count which transition fired and which guards held alongside it."""
        if outcome.winner is None:
            return
        won = outcome.winner.definition.index
        self.fired[won] += 1
        for result in outcome.results:
            if result.value:
                index = result.transition.definition.index
                self.winners_when_true.setdefault(index, Counter())[won] += 1


def anomaly_of(observation: Observation) -> Anomaly | None:
    """The property a single observation breaks, if any (non-determinism first)."""
    if observation.disagreement is not None:
        return "nondeterministic"
    if observation.outcome.raised is not None:
        return "guard-error"
    if observation.outcome.winner is None:
        return "incomplete"
    return None


def _settings(examples: int, shrink: bool) -> settings:
    phases = (Phase.generate, Phase.shrink) if shrink else (Phase.generate,)
    return settings(
        max_examples=max(examples, 1),
        database=None,
        deadline=None,
        phases=phases,
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def check_routing(
    spec: SpecLike,
    *,
    examples: int = DEFAULT_EXAMPLES,
    seed: int = 0,
    strict: bool = False,
    runs: int = DEFAULT_RUNS,
) -> RoutingReport:
    """Check every routing property of ``spec``; never raises for a failing property.

    Raises ``FsmError`` when no values meeting the contracts can be drawn (hypothesis gives
    up: a ``pattern`` only some of whose matches fit ``min_len``/``max_len``), and
    ``ValueError`` for ``examples`` below 1 or ``runs`` below 0."""
    if isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be an integer of at least 1; got {examples!r}")
    if isinstance(runs, bool) or not isinstance(runs, int) or runs < 0:
        raise ValueError(f"runs must be an integer of at least 0; got {runs!r}")
    checked = as_checked(spec)
    try:
        return _check_routing(checked, CheckOptions(examples, seed, strict, runs))
    except Unsatisfiable:
        raise FsmError(_undrawable_message(checked)) from None


def _undrawable_message(checked: CheckedSpec) -> str:
    """Why the search gave up, naming the fields whose constraints are the likely cause."""
    suspects = sorted(
        {
            f"{contract}.{field.name}"
            for contract, field in _all_fields(checked)
            if field.constraints.pattern is not None
            and (field.constraints.min_len is not None or field.constraints.max_len is not None)
        }
    )
    message = (
        f"fsm check could not draw values that meet the contracts of {checked.spec.path}: "
        "too few of the values it tried were valid"
    )
    if suspects:
        message += (
            f"; likely {', '.join(suspects)}, whose pattern few strings of the allowed lengths "
            "match (write the length into the pattern, e.g. [0-9a-f]{40}, and drop "
            "min_len/max_len)"
        )
    return message


def _all_fields(checked: CheckedSpec) -> list[tuple[str, FieldDef]]:
    """(contract name, field) for every record field: contracts, the context, agent inputs."""
    records = [c.type for c in checked.spec.contracts if isinstance(c.type, RecordType)]
    records.append(checked.context_type)
    return [(record.name, field) for record in records for field in record.fields]


def _check_routing(checked: CheckedSpec, options: CheckOptions) -> RoutingReport:
    started = time.perf_counter()
    examples, seed, strict, runs = options.examples, options.seed, options.strict, options.runs
    evaluator = Evaluator(checked)
    findings: list[Finding] = []
    summaries: list[PointSummary] = []
    never_fire: set[tuple[str, int]] = set()
    for state, event in routing_points(checked):
        summary, point_findings, dead = _check_point(checked, evaluator, state, event, options)
        summaries.append(summary)
        findings.extend(point_findings)
        never_fire |= {(state, index) for index in dead}
    findings.extend(_graph_findings(checked, never_fire, options))
    ran = 0
    if runs > 0:
        from fsm.testing.runs import check_runs  # noqa: PLC0415  # runtime only when asked

        run_findings, ran = check_runs(checked, runs=runs, seed=seed, strict=strict)
        raising = {f.span for f in findings if f.kind == "guard-error"}
        gaps = {f.state for f in findings if f.kind == "incomplete"}
        findings.extend(  # what the routing cases already showed (a raising guard, a gap): once
            f
            for f in run_findings
            if not (f.kind == "guard-error" and f.span in raising)
            and not (f.kind == "run-invariant" and f.state is not None and f.state in gaps)
        )
    return RoutingReport(
        path=checked.spec.path,
        workflow=checked.spec.workflow,
        seed=seed,
        examples=examples,
        strict=strict,
        findings=tuple(sorted(findings, key=_finding_order)),
        points=tuple(summaries),
        runs=ran,
        seconds=time.perf_counter() - started,
        source=checked.spec.source,
    )


def _finding_order(finding: Finding) -> tuple[int, int, str]:
    return (finding.span.line, finding.span.column, finding.kind)


def _check_point(
    checked: CheckedSpec, evaluator: Evaluator, state: str, event: str | None, options: CheckOptions
) -> tuple[PointSummary, list[Finding], set[int]]:
    """Explore one routing point; its findings and the transitions that never fire."""
    transitions = checked.outgoing(state, event)
    strategy, held = focused_routing_cases(checked, state, event)
    stats = _PointStats()
    if all(t.guard is None for t in transitions):
        stats.fired[transitions[0].definition.index] = 1  # a lone default always fires
        evaluator.hold(held)
    else:
        grid = routing_grid(checked, state, event)
        # the point's cases share these values; each is built once, not once per case
        evaluator.hold(held, grid.base_context if grid is not None else {})
        _explore(strategy, evaluator, stats, options)
        _sweep(grid, evaluator, stats, options)
    findings = [
        _anomaly_finding(
            checked, evaluator, strategy, kind, first, options=options, shrunk=kind in stats.swept
        )
        for kind, first in stats.anomalies.items()
    ]
    dead: set[int] = set()
    for transition in transitions:
        index = transition.definition.index
        if stats.fired[index] or _can_fire(
            strategy, evaluator, transition, options, stats.exhaustive
        ):
            continue
        dead.add(index)
        if transition.guard is not None:
            findings.append(_shadowed_finding(transitions, transition, stats))
    fired = {t.label: stats.fired[t.definition.index] for t in transitions}
    sampled = stats.grid_size > 0 and not stats.exhaustive
    summary = PointSummary(state, event, stats.examples + stats.swept_cases, fired, sampled)
    return summary, findings, dead


def _explore(
    strategy: st.SearchStrategy[RoutingCase],
    evaluator: Evaluator,
    stats: _PointStats,
    options: CheckOptions,
) -> None:
    @settings(_settings(options.examples, shrink=False))
    @hypothesis_seed(options.seed)
    @given(strategy)
    def explore(case: RoutingCase) -> None:
        stats.add(evaluator.observe(case))

    explore()


def _sweep(
    grid: Grid | None, evaluator: Evaluator, stats: _PointStats, options: CheckOptions
) -> None:
    """Evaluate the boundary grid of the point (``fsm.testing.sweep``); each anomaly it alone
    finds is shrunk on the grid and recorded."""
    if grid is None:
        return
    stats.exhaustive = grid.size <= SWEEP_CAP
    stats.grid_size = grid.size
    for choice in grid.choices(SWEEP_CAP, options.seed):
        stats.swept_cases += 1
        outcome = evaluator.outcome(grid.case(choice))
        stats.tally(outcome)
        kind = _outcome_anomaly(outcome)
        if kind is None or kind in stats.anomalies:
            continue

        def keeps(case: RoutingCase, wanted: Anomaly = kind) -> bool:
            return _outcome_anomaly(evaluator.outcome(case)) == wanted

        observation = evaluator.observe(grid.case(shrink(grid, choice, keeps)))
        stats.anomalies[kind] = observation
        stats.swept.add(kind)


def _outcome_anomaly(outcome: Outcome) -> Anomaly | None:
    if outcome.raised is not None:
        return "guard-error"
    return "incomplete" if outcome.winner is None else None


def _find(
    strategy: st.SearchStrategy[RoutingCase],
    condition: Callable[[RoutingCase], bool],
    examples: int,
    seed: int,
    *,
    shrink: bool = True,
) -> RoutingCase | None:
    try:
        return find(strategy, condition, settings=_settings(examples, shrink), random=Random(seed))  # noqa: S311  # reproducible search, not crypto
    except NoSuchExample:
        return None


def _can_fire(
    strategy: st.SearchStrategy[RoutingCase],
    evaluator: Evaluator,
    transition: CheckedTransition,
    options: CheckOptions,
    swept_all: bool,
) -> bool:
    """A second search aimed at one transition that never fired while exploring. After a
    whole-grid sweep missed it too it is most likely dead, so the search is shorter."""

    def fires(case: RoutingCase) -> bool:
        return evaluator.outcome(case).winner == transition

    budget = options.examples if swept_all else options.examples * 4
    found = _find(strategy, fires, budget, options.seed + 1, shrink=False)
    return found is not None


def _anomaly_finding(
    checked: CheckedSpec,
    evaluator: Evaluator,
    strategy: st.SearchStrategy[RoutingCase],
    kind: Anomaly,
    first: Observation,
    *,
    options: CheckOptions,
    shrunk: bool = False,
) -> Finding:
    def same_kind(case: RoutingCase) -> bool:
        return anomaly_of(evaluator.observe(case)) == kind

    found = None if shrunk else _find(strategy, same_kind, options.examples, options.seed)
    observation = evaluator.observe(found) if found is not None else first
    case = observation.case
    where = f"state '{case.state}'" + (f" on event '{case.event}'" if case.event else "")
    state_def = checked.spec.state(case.state)
    span = state_def.span if state_def is not None else checked.spec.span
    outcome = observation.outcome
    if kind == "incomplete":
        message = f"routing in {where} is not total: no transition fires for this context"
        hint = "add a default transition (no `when`) at the end, or widen the guards"
    elif kind == "guard-error":
        assert outcome.raised is not None
        definition = outcome.raised.transition.definition
        span = definition.guard_span or definition.span
        message = f"a guard in {where} raised on a contract-valid context: {outcome.raised.error}"
        hint = GUARD_ERROR_HINT
    else:
        message = f"routing in {where} is not deterministic: {observation.disagreement}"
        hint = "routing must be a pure function of (state, context, steps, visits, event)"
    return Finding(
        kind, "error", message, span, hint, case.state, case.event, _counterexample(observation)
    )


def _counterexample(observation: Observation) -> Counterexample:
    case, outcome = observation.case, observation.outcome
    lines: list[str] = []
    for result in outcome.results:
        lines.append(result.describe())
        if result.transition == outcome.winner or result is outcome.raised:
            break
    if outcome.winner is not None:
        lines.append(f"=> fires {outcome.winner.definition.index + 1} ({outcome.winner.label})")
    elif outcome.raised is None:
        lines.append("=> no transition fires")
    return Counterexample(
        case.state,
        case.event,
        observation.context_json,
        case.steps,
        dict(case.visits),
        tuple(lines),
    )


def _shadowed_finding(
    transitions: tuple[CheckedTransition, ...], transition: CheckedTransition, stats: _PointStats
) -> Finding:
    definition = transition.definition
    name = f"transition {definition.index + 1} [{transition.label}] ({definition.source} -> "
    name += f"{definition.target})"
    winners = stats.winners_when_true.get(definition.index, Counter())
    by_index = {t.definition.index: t for t in transitions}
    if winners:
        labels = ", ".join(
            f"{i + 1} [{by_index[i].label}]" for i in sorted(winners) if i != definition.index
        )
        message = f"{name} is shadowed: whenever its guard holds, earlier transitions win: {labels}"
        hint = "reorder the transitions, or narrow the earlier guards"
    else:
        message = f"{name} is dead: its guard `{transition.guard.text if transition.guard else ''}`"
        message += f" held for none of the {stats.examples + stats.swept_cases:,} valid contexts"
        message += " tried and a search aimed at it"
        if stats.grid_size > SWEEP_CAP:
            message += (
                f" (the boundary values make {stats.grid_size:,} combinations, of which"
                f" {stats.swept_cases:,} were tried: a search result, not a proof)"
            )
        hint = "check the comparison and its literal against the contract's bounds"
    return Finding(
        "shadowed",
        "error",
        message,
        definition.guard_span or definition.span,
        hint,
        definition.source,
        definition.event,
    )


def _graph_findings(
    checked: CheckedSpec, never_fire: set[tuple[str, int]], options: CheckOptions
) -> list[Finding]:
    """Reachability and termination over the transitions that can fire."""
    spec = checked.spec
    live = [e for e in graph_edges(checked) if (e.source, e.index) not in never_fire]
    graph: dict[str, list[str]] = {state.name: [] for state in spec.states}
    for edge in live:
        graph[edge.source].append(edge.target)
    reached = reachable_from(graph, spec.initial)
    findings: list[Finding] = []
    for state in spec.states:
        if state.name in reached:
            continue
        message = f"state '{state.name}' is never entered: every transition into it never fires"
        hint = "fix the shadowed or dead transitions into it, or remove the state"
        findings.append(Finding("unreachable", "error", message, state.span, hint, state.name))
    severity: Severity = "error" if options.strict else "warning"
    try:
        cycles = find_unbounded_cycles(live)
    except CycleSearchBudgetExceededError as gave_up:
        message = (
            f"whether every cycle is bounded was not decided: the search split the state graph"
            f" into {gave_up.args[0]:,} subproblems and gave up (many loops capped by each"
            f" other's visit counts)"
        )
        hint = "cap each loop by a state on it (`visits.<state> < N`), or by `steps < N`"
        findings.append(Finding("unbounded", severity, message, spec.span, hint))
        return findings
    finals = [state.name for state in spec.states if state.final]
    try:
        long_run = None if cycles else run_to_step_limit(live, spec.initial, finals, spec.max_steps)
    except WalkBudgetExceededError as gave_up:
        long_run = None
        message = (
            f"every cycle is bounded, but whether the bounds let a run take max_steps "
            f"({spec.max_steps}) transitions without finishing was not decided: the search "
            f"gave up after {gave_up.args[0]:,} combinations of visit counts (the loops' bounds "
            f"multiply)"
        )
        hint = "lower the visit bounds on the loops, or rely on max_steps to end such runs"
        findings.append(Finding("unbounded", severity, message, spec.span, hint))
    if long_run is not None:
        shown = " -> ".join(long_run[:12]) + (" -> ..." if len(long_run) > 12 else "")
        message = (
            f"every cycle is bounded, but the bounds still let a run take max_steps "
            f"({spec.max_steps}) transitions without finishing: {shown}"
        )
        hint = "lower the visit bounds on the cycles, or raise max_steps"
        findings.append(Finding("unbounded", severity, message, spec.span, hint))
    for cycle in cycles:
        first = cycle.edges[0]
        transition = next(
            (t for t in spec.transitions_from(first.source) if t.index == first.index), None
        )
        state_def = spec.state(first.source)
        span = transition.span if transition else (state_def.span if state_def else spec.span)
        hint = (
            f"cap one transition of the cycle with a visit count, e.g. `visits.{first.source} < 3`"
            ", or with `steps < N`"
        )
        event = transition.event if transition else None
        findings.append(
            Finding("unbounded", severity, cycle.describe(), span, hint, first.source, event)
        )
    return findings
