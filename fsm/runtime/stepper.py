"""One transition of one run: the unit every driver (sync, async, a worker loop) is built on.

A step is three phases so the agent call in the middle can be made blocking or awaited:
``prepare`` (step limit, the agent's input record and ``AgentCall``), the call itself
(``fsm.runtime.invoke``), and ``commit``: merge the validated output into the live context,
route, and append the snapshot and the new head in one store call. If routing finds no
transition or the store refuses the append, the merge is undone, so the live run always equals
what the store holds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import attrs

from fsm.errors import RoutingError
from fsm.runtime.agents import AgentCall, LoadedAgent
from fsm.runtime.compiled import CompiledWorkflow
from fsm.runtime.invoke import Outcome
from fsm.runtime.merge import Merge, compute_merge
from fsm.store import Frame, RunRecord, RunStatus, Snapshot, Store


@attrs.define
class LiveRun:
    """A run's current state in memory; mirrors the store's head exactly after every step.

    ``context_json`` and the lists inside it are owned by this object (never shared with the
    store or the user), so ``append`` fields grow in place."""

    record: RunRecord
    context_json: dict[str, object]
    context: Any
    steps: int
    visits: dict[str, int]
    max_steps: int


@attrs.frozen
class AgentStep:
    """A prepared agent call: which agent, its validated input record, and the call details."""

    agent: LoadedAgent
    inputs: object
    call: AgentCall


@attrs.frozen
class _Undo:
    context: object
    replaced: Mapping[str, object]
    lengths: Mapping[str, int]


def prepare(workflow: CompiledWorkflow, live: LiveRun) -> AgentStep | None:
    """The agent call the current state needs, or None for a route state."""
    state = workflow.states[live.record.state]
    if state.agent is None:
        return None
    agent = workflow.agents[state.agent]
    definition = agent.definition
    data = {item.name: _json_path(live.context_json, item.path) for item in definition.inputs}
    codec = workflow.inputs[definition.name]
    inputs = codec.structure(data, workflow.converter, f"{definition.name}.input")
    call = AgentCall(live.record.run_id, live.record.seq + 1, 1, state.name, definition.name)
    return AgentStep(agent, inputs, call)


def output_validator(workflow: CompiledWorkflow, agent: LoadedAgent) -> Any:
    """Output → (instance, JSON); raises ``ContractError`` for output breaking its contract."""
    output_type = agent.definition.output_type
    converter = workflow.converter
    codec = workflow.outputs[agent.name]
    check, engine, annotation = codec.check, codec.engine, codec.python_type

    def validate(output: object) -> tuple[object, object]:
        if type(output) is dict and check(output):  # the common case, checked once
            instance = engine.structure(output, annotation)
        else:  # instances, and anything invalid: the full path reports every problem
            instance = converter.validate(output, output_type, agent.name)
        return instance, engine.unstructure(instance)

    return validate


@attrs.frozen
class Clock:
    """When a step started: wall time for the record, a monotonic reading for its duration."""

    started_at: float
    started: float

    @classmethod
    def now(cls) -> Clock:
        return cls(time.time(), time.perf_counter())


@attrs.frozen(kw_only=True)
class _Entry:
    """What a record says beyond the run's head: where to, why, and what the agent said."""

    target: str
    rule: str | None = None
    event: str | None = None
    error: str | None = None
    attempt: int = 1
    output: object = None
    merge: Merge | None = None


def commit_agent(
    workflow: CompiledWorkflow, store: Store, live: LiveRun, outcome: Outcome | None, clock: Clock
) -> Snapshot:
    """Finish an agent (or route) state: merge, route, persist. ``outcome`` is None for a
    route state. A failed outcome takes the state's ``on_error`` route, else fails the run."""
    state = workflow.states[live.record.state]
    attempt = outcome.attempts if outcome is not None else 1
    if outcome is not None and not outcome.ok:
        if state.on_error is not None:
            entry = _Entry(
                target=state.on_error, rule="on_error", error=outcome.error, attempt=attempt
            )
            return _persist(workflow, store, live, entry, clock)
        return _fail(workflow, store, live, _failed(live, outcome.error, attempt), clock)
    output_json = outcome.output_json if outcome is not None else None
    merge = None
    if outcome is not None:
        plans = workflow.state_writes.get(state.name, ())
        merge = compute_merge(plans, output_json, outcome.output, live.context_json)
    undo = _apply(live, merge)
    transition = workflow.router.next(state.name, live.context, live.steps, live.visits)
    if transition is None:
        _revert(live, merge, undo)
        error = _no_route(workflow, state.name, None)
        entry = _failed(live, error, attempt, output_json)
        return _fail(workflow, store, live, entry, clock)
    entry = _Entry(
        target=transition.target,
        rule=transition.label,
        attempt=attempt,
        output=output_json,
        merge=merge,
    )
    return _persist(workflow, store, live, entry, clock, undo=undo)


def commit_event(
    workflow: CompiledWorkflow, store: Store, live: LiveRun, event: str, data: object
) -> Snapshot:
    """Apply ``event`` (already accepted by the caller) with its data to a waiting run.

    Raises ``ContractError`` for invalid data and ``RoutingError`` when no transition fires;
    in both cases nothing is recorded and the run stays as it was."""
    clock = Clock.now()
    state = workflow.states[live.record.state]
    definition = state.event(event)
    assert definition is not None
    merge = None
    data_json: object = None
    if definition.data_type is not None:
        converter = workflow.converter
        instance = converter.structure({} if data is None else data, definition.data_type, event)
        data_json = converter.unstructure(instance)
        plans = workflow.event_writes.get((state.name, event), ())
        merge = compute_merge(plans, data_json, instance, live.context_json)
    elif data not in (None, {}):
        raise RoutingError(
            f"event '{event}' of state '{state.name}' carries no data, but data was given; "
            f"send it without data (or declare `data: Contract` for it in the spec)"
        )
    undo = _apply(live, merge)
    transition = workflow.router.next(state.name, live.context, live.steps, live.visits, event)
    if transition is None:
        _revert(live, merge, undo)
        raise RoutingError(_no_route(workflow, state.name, event) + "; nothing was recorded")
    entry = _Entry(
        target=transition.target, rule=transition.label, event=event, output=data_json, merge=merge
    )
    return _persist(workflow, store, live, entry, clock, undo=undo)


def status_after(
    workflow: CompiledWorkflow, target: str, steps: int, max_steps: int
) -> tuple[RunStatus, tuple[str, ...], str | None]:
    """(status, waiting_for, error) of a run that just entered ``target`` after ``steps``."""
    state = workflow.states[target]
    if state.final:
        return "completed", (), None
    if steps >= max_steps:
        return (
            "failed",
            (),
            f"step limit reached: {steps} transitions taken (max_steps {max_steps}) without "
            f"reaching a final state, now in '{target}'; raise max_steps in the spec or pass "
            f"--max-steps, or check the loop for a missing visits.<state> bound",
        )
    if state.kind == "wait":
        return "waiting", tuple(event.name for event in state.events), None
    return "running", (), None


def _failed(live: LiveRun, error: str | None, attempt: int, output: object = None) -> _Entry:
    """A record that ends the run where it stands (no route, no context change)."""
    return _Entry(target=live.record.state, error=error, attempt=attempt, output=output)


def _fail(
    workflow: CompiledWorkflow, store: Store, live: LiveRun, entry: _Entry, clock: Clock
) -> Snapshot:
    return _persist(workflow, store, live, entry, clock, status=("failed", (), entry.error))


def _persist(
    workflow: CompiledWorkflow,
    store: Store,
    live: LiveRun,
    entry: _Entry,
    clock: Clock,
    *,
    undo: _Undo | None = None,
    status: tuple[RunStatus, tuple[str, ...], str | None] | None = None,
) -> Snapshot:
    """Append the record and the new head in one store call, then move the live run."""
    head = live.record
    steps = live.steps + 1
    run_status, waiting_for, run_error = status or status_after(
        workflow, entry.target, steps, live.max_steps
    )
    merge = entry.merge
    error = entry.error if entry.error is not None else run_error
    seq = head.seq + 1
    snapshot = Snapshot(
        run_id=head.run_id,
        seq=seq,
        source=head.state,
        target=entry.target,
        event=entry.event,
        rule=entry.rule,
        changes=merge.changes if merge is not None else {},
        appended=merge.appended if merge is not None else {},
        output=entry.output,
        error=error,
        attempt=entry.attempt,
        started_at=clock.started_at,
        duration_ms=round((time.perf_counter() - clock.started) * 1000.0, 3),  # to the µs
        spec_hash=workflow.spec_hash,
        status=run_status,
        frame=_frame(live, entry.target, steps) if seq % store.frame_interval == 0 else None,
    )
    # Spelled out rather than ``attrs.evolve(head, ...)``: half the cost on every step.
    record = RunRecord(
        run_id=head.run_id,
        workflow=head.workflow,
        spec_hash=head.spec_hash,
        spec_path=head.spec_path,
        status=run_status,
        state=entry.target,
        seq=snapshot.seq,
        waiting_for=waiting_for,
        error=error if run_status == "failed" else None,
        created_at=head.created_at,
        updated_at=time.time(),
        parent_run_id=head.parent_run_id,
        parent_seq=head.parent_seq,
        lease_owner=head.lease_owner,
        lease_expires_at=head.lease_expires_at,
    )
    try:
        store.append(snapshot, record)
    except BaseException:
        _revert(live, merge, undo)
        raise
    live.record = record
    live.steps = steps
    live.visits[entry.target] = live.visits.get(entry.target, 0) + 1
    return snapshot


def _frame(live: LiveRun, target: str, steps: int) -> Frame:
    """The full state after this step, for a frame seq: the store would otherwise rebuild it
    by replaying up to K records inside the append. Lists are copied because the live run's
    ``append`` fields keep growing in place after the record is handed over."""
    context = {
        name: list(value) if isinstance(value, list) else value
        for name, value in live.context_json.items()
    }
    visits = dict(live.visits)
    visits[target] = visits.get(target, 0) + 1
    return Frame(context=context, state=target, steps=steps, visits=visits)


def _apply(live: LiveRun, merge: Merge | None) -> _Undo | None:
    """Merge into the live context (tentatively: ``_revert`` takes it back)."""
    if merge is None or (not merge.changes and not merge.appended):
        return None
    json = live.context_json
    undo = _Undo(
        live.context,
        {name: json[name] for name in merge.changes},
        {name: len(json[name]) for name in merge.appended},  # type: ignore[arg-type]
    )
    json.update(merge.changes)
    if merge.values:
        live.context = attrs.evolve(live.context, **merge.values)
    for name, added in merge.appended.items():
        current = json[name]
        assert isinstance(current, list)
        current.extend(added)
        getattr(live.context, name).extend(merge.items[name])
    return undo


def _revert(live: LiveRun, merge: Merge | None, undo: _Undo | None) -> None:
    if merge is None or undo is None:
        return
    json = live.context_json
    json.update(undo.replaced)
    live.context = undo.context
    for name, length in undo.lengths.items():
        current = json[name]
        assert isinstance(current, list)
        del current[length:]
        del getattr(live.context, name)[length:]


def _no_route(workflow: CompiledWorkflow, state: str, event: str | None) -> str:
    tried = workflow.checked.outgoing(state, event)
    guards = "; ".join(t.definition.guard or "default" for t in tried) or "none declared"
    on = f" on event '{event}'" if event is not None else ""
    return (
        f"no transition of state '{state}'{on} fired: every guard was false ({guards}); "
        f"add a default transition (no `when`) as the last one of '{state}'"
    )


def _json_path(data: Mapping[str, object], path: tuple[str, ...]) -> object:
    current: object = data
    for name in path:
        if type(current) is not dict and not isinstance(current, Mapping):  # dict: fast path
            return None
        current = current.get(name)
    return current
