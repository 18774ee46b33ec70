"""Run-level properties: whole workflows with fake agents that return arbitrary valid outputs.

Every agent is replaced by a fake drawing its output from ``fsm.testing.contexts.outputs``; a
waiting run is sent one of the events it accepts, with arbitrary valid event data. The run is
driven in memory until it completes, and must never raise a contract or routing error and
never hit the step limit. Hypothesis shrinks a failing run to a short one, printed as the trail
of states it went through.

A guard that raises while a run routes (on a context the routing cases did not cover: one the
flow analysis thought narrowed, say) fails that step in the runtime, with a record naming the
guard; each guard is wrapped here to note which transition raised, so that this becomes a
``guard-error`` finding at the guard. Anything escaping the runtime is a ``run-invariant``
finding, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import cast

import attrs
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from hypothesis.errors import HypothesisException

from fsm.datatypes import RecordType
from fsm.diagnostics import Severity
from fsm.errors import FsmError
from fsm.guards import GuardFn
from fsm.runtime import AgentCall, RunHandle, Workflow
from fsm.spec.checked import CheckedSpec, CheckedTransition
from fsm.spec.model import RetryPolicy
from fsm.store import MemoryStore
from fsm.testing.report import GUARD_ERROR_HINT, Finding
from fsm.testing.strategies import values

STEP_LIMIT_MARK = "step limit"
NO_ROUTE_MARK = "no transition of state"
"""How the runtime's record of a state where no transition fired begins."""


class RunInvariantError(Exception):
    """Raised inside the property so hypothesis shrinks the run that broke an invariant;
    ``guard`` is the transition whose guard raised, when that is what happened."""

    def __init__(
        self,
        message: str,
        trail: tuple[str, ...],
        step_limit: bool = False,
        guard: CheckedTransition | None = None,
        no_route_in: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.trail = trail
        self.step_limit = step_limit
        self.guard = guard
        self.no_route_in = no_route_in
        """The state where no transition fired, when that is how the run failed."""


@attrs.define
class _Draws:
    """The current example's data source; fake agents draw from it (one per ``check_runs``).
    ``raised`` is the guard that raised in the current run, and what it raised."""

    data: st.DataObject | None = None
    step_limit: RunInvariantError | None = None
    raised: tuple[CheckedTransition, Exception] | None = None

    def draw(self, strategy: st.SearchStrategy[object], label: str) -> object:
        assert self.data is not None, "fake agents only run inside check_runs"
        return self.data.draw(strategy, label=label)


def start_input_type(checked: CheckedSpec) -> RecordType:
    """The fields a run must be started with: required context fields only."""
    spec = checked.spec
    return RecordType("StartInput", tuple(f.field for f in spec.context if f.required))


def _instant(checked: CheckedSpec, draws: _Draws) -> CheckedSpec:
    """The spec with one attempt and no timeout per agent: fakes answer at once and never
    fail, so a retry would only hide a rejected output (and a timeout runs sync agents in a
    thread, where hypothesis cannot draw)."""
    agents = tuple(
        attrs.evolve(agent, retry=RetryPolicy(), timeout=None) for agent in checked.spec.agents
    )
    transitions = {
        state: tuple(_reporting(transition, draws) for transition in outgoing)
        for state, outgoing in checked.transitions.items()
    }
    spec = attrs.evolve(checked.spec, agents=agents)
    return attrs.evolve(checked, spec=spec, transitions=transitions)


def _reporting(transition: CheckedTransition, draws: _Draws) -> CheckedTransition:
    """The transition with a guard that notes in ``draws`` when it raises (and re-raises)."""
    guard = transition.guard_fn
    if guard is None:
        return transition

    def reporting_guard(context: object, steps: int, visits: Mapping[str, int]) -> bool:
        try:
            return guard(context, steps, visits)
        except Exception as error:
            if draws.raised is None:
                draws.raised = (transition, error)
            raise

    return attrs.evolve(transition, guard_fn=cast(GuardFn, reporting_guard))


def _fake_agents(checked: CheckedSpec, draws: _Draws) -> dict[str, object]:
    def fake(name: str, output_type: RecordType) -> Callable[[object, AgentCall], object]:
        strategy = values(output_type)

        def agent(_inputs: object, _call: AgentCall) -> object:
            return draws.draw(strategy, f"output of {name}")

        return agent

    return {a.name: fake(a.name, a.output_type) for a in checked.spec.agents}


def _drive(checked: CheckedSpec, workflow: Workflow, draws: _Draws) -> None:
    """Start a run and answer its waits until it ends; raise ``RunInvariantError`` on a broken
    invariant."""
    spec = checked.spec
    start = draws.draw(values(start_input_type(checked)), "start input")
    assert isinstance(start, dict)
    handle: RunHandle | None = None
    draws.raised = None
    try:
        handle = workflow.start(start, detach=True)  # a handle, so a failing run has a trail
        handle = handle.advance()
        for _ in range(spec.max_steps + 1):
            state = spec.state(handle.state)
            if handle.status != "waiting" or state is None:
                break
            name = draws.draw(st.sampled_from(handle.waiting_for), "event")
            assert isinstance(name, str)
            event = state.event(name)
            data = None
            if event is not None and event.data_type is not None:
                data = draws.draw(values(event.data_type), f"data of {name}")
            handle = handle.send(name, data)
    except FsmError as error:
        _guard_raised(draws, handle)
        trail = _trail(handle)
        # A refused event (no transition on it fired) raises instead of recording: it is the
        # same gap as a state's, and the routing cases report it there.
        stuck = (
            handle.state if handle is not None and str(error).startswith(NO_ROUTE_MARK) else None
        )
        message = f"{type(error).__name__}: {error}"
        raise RunInvariantError(message, trail, no_route_in=stuck) from None
    except HypothesisException:
        raise  # the search's own control flow (e.g. a draw from a frozen example)
    except Exception as error:  # escaped the runtime: a finding all the same, not a traceback
        trail = _trail(handle)
        raise RunInvariantError(f"{type(error).__name__}: {error}", trail) from None
    _guard_raised(draws, handle)
    history = handle.history()
    # A run the step limit ended has that limit as its last record's error: that is the
    # step-limit finding below (a warning), not a state that recorded an error.
    limit_only = handle.status == "failed" and (handle.error or "").startswith(STEP_LIMIT_MARK)
    recorded = history[:-1] if limit_only else history
    rejected = next((s for s in recorded if s.error), None)
    if rejected is not None:
        message = f"state '{rejected.source}' recorded an error: {rejected.error}"
        stuck = rejected.source if (rejected.error or "").startswith(NO_ROUTE_MARK) else None
        raise RunInvariantError(message, _trail(handle), no_route_in=stuck)
    if handle.status == "failed":
        text = handle.error or ""
        stuck = handle.state if text.startswith(NO_ROUTE_MARK) else None
        raise RunInvariantError(
            f"run failed: {text}", _trail(handle), STEP_LIMIT_MARK in text, no_route_in=stuck
        )
    if handle.status not in ("completed", "waiting"):
        message = f"run ended {handle.status} in state '{handle.state}'"
        raise RunInvariantError(message, _trail(handle))


def _guard_raised(draws: _Draws, handle: RunHandle | None) -> None:
    """Raise the guard-error finding if a guard raised in this run (the runtime failed the
    step, or refused the event, on it)."""
    if draws.raised is not None:
        transition, error = draws.raised
        message = f"{type(error).__name__}: {error}"
        raise RunInvariantError(message, _trail(handle), guard=transition)


def _trail(handle: RunHandle | None) -> tuple[str, ...]:
    """The states the run went through, events marked ``--name-->``."""
    if handle is None:
        return ()
    trail: list[str] = []
    for snapshot in handle.history():
        if snapshot.source is not None and snapshot.rule is None:
            continue  # a step that failed where it stood: no transition, no state to add
        if snapshot.event is not None:
            trail.append(f"--{snapshot.event}-->")
        trail.append(snapshot.target)
    return tuple(trail)


def check_runs(
    checked: CheckedSpec, *, runs: int, seed: int, strict: bool = False
) -> tuple[list[Finding], int]:
    """Drive ``runs`` random runs; findings (at most one, shrunk) and how many runs were made."""
    draws = _Draws()
    fakes = _fake_agents(checked, draws)
    workflow = Workflow.from_spec(_instant(checked, draws), agents=fakes, store=MemoryStore())
    count = 0
    shrinking = False  # after the first failing run, hypothesis only re-runs to shrink it

    @settings(
        max_examples=runs,
        database=None,
        deadline=None,
        phases=(Phase.generate, Phase.shrink),
        verbosity=Verbosity.quiet,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis_seed(seed)
    @given(st.data())
    def run_once(data: st.DataObject) -> None:
        nonlocal count, shrinking
        draws.data = data
        try:
            _drive(checked, workflow, draws)
        except RunInvariantError as violation:
            count += 0 if shrinking else 1
            if not violation.step_limit:
                shrinking = True
                raise
            # Long by nature and already explained by the unbounded-cycle finding: recorded,
            # not shrunk (shrinking a max_steps-long run costs hundreds of runs).
            if draws.step_limit is None:
                draws.step_limit = violation
        else:
            # Counted once driven to its end: hypothesis also starts examples it abandons
            # when their data runs out, which are not runs of the workflow; and the runs
            # that shrink a failure are not counted either.
            count += 0 if shrinking else 1

    try:
        run_once()
    except RunInvariantError as violation:
        return [_finding(checked, violation, strict)], count
    finally:
        workflow.close()
    if draws.step_limit is not None:
        return [_finding(checked, draws.step_limit, strict)], count
    return [], count


def _finding(checked: CheckedSpec, violation: RunInvariantError, strict: bool) -> Finding:
    severity: Severity = "warning" if violation.step_limit and not strict else "error"
    trail = _compress(violation.trail) if violation.trail else "(no transition)"
    if violation.guard is not None:
        definition = violation.guard.definition
        where = f"state '{definition.source}'"
        if definition.event is not None:
            where += f" on event '{definition.event}'"
        message = (
            f"the guard of transition {definition.index + 1} [{violation.guard.label}] in {where} "
            f"raised during a run with fake agents: {violation.message}; path: {trail}"
        )
        return Finding(
            "guard-error",
            "error",
            message,
            definition.guard_span or definition.span,
            GUARD_ERROR_HINT,
            definition.source,
            definition.event,
        )
    message = f"a run with fake agents broke an invariant: {violation.message}; path: {trail}"
    hint = (
        "bound the cycle the run kept going round (see the unbounded-cycle finding)"
        if violation.step_limit
        else "every contract-valid agent output must lead to a final or waiting state"
    )
    return Finding(
        "run-invariant", severity, message, checked.spec.span, hint, violation.no_route_in
    )


def _compress(trail: tuple[str, ...], keep: int = 8) -> str:
    """The trail, its middle elided when long: runs that hit the step limit repeat a cycle."""
    if len(trail) <= 2 * keep:
        return " ".join(trail)
    skipped = sum(not item.startswith("--") for item in trail[keep:-keep])  # not events
    return f"{' '.join(trail[:keep])} ... ({skipped} more states) ... {' '.join(trail[-keep:])}"
