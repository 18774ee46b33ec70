"""One transition of one run: the unit every driver (sync, async, a worker loop) is built on.

A step is three phases so the agent call in the middle can be made blocking or awaited:
``prepare`` (step limit, the agent's input record and ``AgentCall``), the call itself
(``fsm.runtime.invoke``), and ``commit``: stage the validated output on the context instance
the guards read, route, append the snapshot and the new head in one store call, and only then
write the JSON context. If routing finds no transition or the store refuses the append, the
staged values are taken back, so the live run always equals what the store holds.

Everything a state's step looks up in the spec is resolved once per workflow
(``fsm.runtime.plans``): a step runs thousands of times, the spec never changes.
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

import attrs

from fsm.errors import RoutingError
from fsm.runtime.agents import AgentCall
from fsm.runtime.compiled import CompiledWorkflow
from fsm.runtime.engine import GuardRaisedError
from fsm.runtime.invoke import Outcome, Validate
from fsm.runtime.merge import Merge, check_writes, compute_merge
from fsm.runtime.plans import AgentPlan
from fsm.store import Frame, RunRecord, RunStatus, Snapshot, Store
from fsm.store.records import unchecked_run_record, unchecked_snapshot


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


Started = tuple[float, float]
"""When a step started: wall time for the record, a ``perf_counter`` reading for its duration."""


def started() -> Started:
    return time.time(), time.perf_counter()


class AgentStep(NamedTuple):
    """A prepared agent call: the state's plan, its validated input record, the call details,
    and the context the record was read from."""

    plan: AgentPlan
    inputs: object
    call: AgentCall
    context_json: dict[str, object]

    def rebuild(self) -> object:
        """The input record built afresh, for a retry: an attempt may change its own."""
        return self.plan.build_inputs(self.context_json)

    @property
    def validate(self) -> Validate:
        """The output check the agent's attempts go through: the plan's, and, when a field the
        state writes has constraints of its own, those too, so an output breaking them is a
        failed attempt (retried, then ``on_error``) and never reaches the context."""
        plan = self.plan
        if not plan.bounded:
            return plan.validate
        context_json = self.context_json

        def validate(output: object) -> tuple[object, object]:
            instance, data = plan.validate(output)
            check_writes(plan.writes, data, context_json)
            return instance, data

        return validate


class _Undo(NamedTuple):
    """What ``_stage`` changed on the context instance, so ``_revert`` can take it back."""

    values: dict[str, object]
    lengths: dict[str, int]


def prepare(workflow: CompiledWorkflow, live: LiveRun) -> AgentStep | None:
    """The agent call the current state needs, or None for a route state."""
    record = live.record
    plan = workflow.agent_plans.get(record.state)
    if plan is None:
        return None
    context_json = live.context_json
    inputs = plan.build_inputs(context_json)
    call = AgentCall(record.run_id, record.seq + 1, 1, record.state, plan.agent.definition.name)
    return AgentStep(plan, inputs, call, context_json)


def commit_agent(
    workflow: CompiledWorkflow,
    store: Store,
    live: LiveRun,
    outcome: Outcome | None,
    when: Started,
) -> Snapshot:
    """Finish an agent (or route) state: merge, route, persist. ``outcome`` is None for a
    route state. A failed outcome takes the state's ``on_error`` route, else fails the run.
    ``when`` is the step's ``started()``."""
    state = live.record.state
    retried: tuple[str, ...] = ()
    if outcome is None:
        attempt, output_json, merge = 1, None, None
    else:
        attempt, output_json = outcome.attempts, outcome.output_json
        retried = outcome.failed_attempts
        if outcome.error is not None:
            on_error = workflow.states[state].on_error
            if on_error is not None:
                entry = _Entry(
                    on_error, "on_error", None, outcome.error, attempt, None, None, retried
                )
                return _persist(workflow, store, live, entry, when)
            failed = _failed(live, outcome.error, attempt, retried=retried)
            return _fail(workflow, store, live, failed, when)
        plan = workflow.agent_plans[state]
        merge = compute_merge(plan.writes, output_json, outcome.output, live.context_json)
    undo = _stage(live, merge)
    try:
        transition = workflow.router.next(state, live.context, live.steps, live.visits)
    except GuardRaisedError as failure:
        _revert(live, undo)
        failed = _failed(live, str(failure), attempt, output_json, retried)
        return _fail(workflow, store, live, failed, when)
    if transition is None:
        _revert(live, undo)
        error = _no_route(workflow, state, None)
        return _fail(
            workflow, store, live, _failed(live, error, attempt, output_json, retried), when
        )
    entry = _Entry(
        transition.target, transition.label, None, None, attempt, output_json, merge, retried
    )
    return _persist(workflow, store, live, entry, when, undo=undo)


def commit_event(
    workflow: CompiledWorkflow, store: Store, live: LiveRun, event: str, data: object
) -> Snapshot:
    """Apply ``event`` (already accepted by the caller) with its data to a waiting run.

    Raises ``ContractError`` for invalid data and ``RoutingError`` when no transition fires;
    in both cases nothing is recorded and the run stays as it was."""
    when = started()
    state = workflow.states[live.record.state]
    definition = state.event(event)
    assert definition is not None
    merge = None
    data_json: object = None
    if definition.data_type is not None:
        converter = workflow.converter
        # ``validate``: data may be JSON or an instance of the contract's class, as for agents
        instance = converter.validate({} if data is None else data, definition.data_type, event)
        data_json = converter.unstructure(instance)
        plans = workflow.event_writes.get((state.name, event), ())
        check_writes(plans, data_json, live.context_json)
        merge = compute_merge(plans, data_json, instance, live.context_json)
    elif data not in (None, {}):
        raise RoutingError(
            f"event '{event}' of state '{state.name}' carries no data, but data was given; "
            f"send it without data (or declare `data: Contract` for it in the spec)"
        )
    undo = _stage(live, merge)
    try:
        transition = workflow.router.next(state.name, live.context, live.steps, live.visits, event)
    except GuardRaisedError as failure:
        _revert(live, undo)
        raise RoutingError(f"{failure}; nothing was recorded") from failure
    if transition is None:
        _revert(live, undo)
        raise RoutingError(_no_route(workflow, state.name, event) + "; nothing was recorded")
    entry = _Entry(transition.target, transition.label, event, None, 1, data_json, merge)
    return _persist(workflow, store, live, entry, when, undo=undo)


def status_after(
    workflow: CompiledWorkflow,
    target: str,
    steps: int,
    max_steps: int,
    at: tuple[str, int] | None = None,
) -> tuple[RunStatus, tuple[str, ...], str | None]:
    """(status, waiting_for, error) of a run that just entered ``target`` after ``steps``;
    ``at`` = (run id, seq) of the record, so a step-limit error can say how to continue."""
    state = workflow.states[target]
    if state.final:
        return "completed", (), None
    if steps >= max_steps:
        if at is None:
            fork = "fork it at its last seq with `--max-steps N`"
        else:
            fork = f"`fsm fork {at[0]} --at {at[1]} --max-steps {2 * max_steps}`"
        return (
            "failed",
            (),
            f"step limit reached: {steps} transitions taken (max_steps {max_steps}) without "
            f"reaching a final state, now in '{target}'; raise max_steps in the spec or pass "
            f"--max-steps (to continue this run with a higher limit: {fork}), or check the "
            f"loop for a missing visits.<state> bound",
        )
    if state.kind == "wait":
        return "waiting", tuple(event.name for event in state.events), None
    return _RUNNING


_RUNNING: tuple[RunStatus, tuple[str, ...], None] = ("running", (), None)


class _Entry(NamedTuple):
    """What a record says beyond the run's head: where to, why, and what the agent said."""

    target: str
    rule: str | None
    event: str | None
    error: str | None
    attempt: int
    output: object
    merge: Merge | None
    failed_attempts: tuple[str, ...] = ()


def _failed(
    live: LiveRun,
    error: str | None,
    attempt: int,
    output: object = None,
    retried: tuple[str, ...] = (),
) -> _Entry:
    """A record that ends the run where it stands (no route, no context change)."""
    return _Entry(live.record.state, None, None, error, attempt, output, None, retried)


def _fail(
    workflow: CompiledWorkflow,
    store: Store,
    live: LiveRun,
    entry: _Entry,
    when: Started,
) -> Snapshot:
    return _persist(workflow, store, live, entry, when, status=("failed", (), entry.error))


def _persist(
    workflow: CompiledWorkflow,
    store: Store,
    live: LiveRun,
    entry: _Entry,
    when: Started,
    *,
    undo: _Undo | None = None,
    status: tuple[RunStatus, tuple[str, ...], str | None] | None = None,
) -> Snapshot:
    """Append the record and the new head in one store call, then move the live run."""
    head = live.record
    steps = live.steps + 1
    target = entry.target
    if status is not None:
        run_status, waiting_for, run_error = status
    elif target in workflow.plain_states and steps < live.max_steps:
        run_status, waiting_for, run_error = _RUNNING  # the common case, without a call
    else:
        run_status, waiting_for, run_error = status_after(
            workflow, target, steps, live.max_steps, (head.run_id, head.seq + 1)
        )
    merge = entry.merge
    error = run_error if entry.error is None else _both(entry.error, run_error)
    seq = head.seq + 1
    started_at, started = when
    # Unchecked constructors: these values meet the records' checks by construction (seq > 0,
    # a source, a known status, an attempt from 1, changes and appended on distinct fields).
    snapshot = unchecked_snapshot(
        run_id=head.run_id,
        seq=seq,
        source=head.state,
        target=target,
        event=entry.event,
        rule=entry.rule,
        changes=merge.changes if merge is not None else {},
        appended=merge.appended if merge is not None else {},
        output=entry.output,
        error=error,
        attempt=entry.attempt,
        failed_attempts=entry.failed_attempts,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - started) * 1000.0, 3),  # to the µs
        spec_hash=workflow.spec_hash,
        status=run_status,
        frame=_frame(live, merge, target, steps) if seq % store.frame_interval == 0 else None,
    )
    record = unchecked_run_record(
        run_id=head.run_id,
        workflow=head.workflow,
        spec_hash=head.spec_hash,
        spec_path=head.spec_path,
        status=run_status,
        state=target,
        seq=seq,
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
        _revert(live, undo)
        raise
    if merge is not None:
        _merge_json(live.context_json, merge)
    live.record = record
    live.steps = steps
    visits = live.visits
    visits[target] = visits.get(target, 0) + 1
    return snapshot


def for_caller(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` as handed to a caller (``step()``, ``on_transition``): without the frame
    a later record carries for the store, and with its own copy of a start record's (which
    always has one). A frame's records and list items are the live context's own: a caller
    editing them (redacting a logged frame, say) edited the run itself and every frame stored
    after; copying every frame instead cost a walk of the whole context on each frame seq
    (~7 ms at 20,000 items). The state is ``handle.context_json`` or ``Workflow.state_at``."""
    frame = snapshot.frame
    if frame is None:
        return snapshot
    if snapshot.seq:
        return attrs.evolve(snapshot, frame=None)
    owned = Frame(
        context={name: _owned(value) for name, value in frame["context"].items()},
        state=frame["state"],
        steps=frame["steps"],
        visits=dict(frame["visits"]),
    )
    return attrs.evolve(snapshot, frame=owned)


def _both(step_error: str | None, run_error: str | None) -> str | None:
    """The record's error: what went wrong in the step (an agent's failure taking its
    ``on_error`` route), and why that ends the run (the step limit), when both happened."""
    if step_error is None or run_error is None or run_error == step_error:
        return step_error if step_error is not None else run_error
    return f"{step_error}; then {run_error}"


def _frame(live: LiveRun, merge: Merge | None, target: str, steps: int) -> Frame:
    """The full state after this step, for a frame seq: the store would otherwise rebuild it
    by replaying up to K records inside the append. Lists are copied because the live run's
    ``append`` fields keep growing in place after the record is handed over."""
    context = {
        name: list(value) if isinstance(value, list) else value
        for name, value in live.context_json.items()
    }
    if merge is not None:
        _merge_json(context, merge)
    visits = dict(live.visits)
    visits[target] = visits.get(target, 0) + 1
    return Frame(context=context, state=target, steps=steps, visits=visits)


def _stage(live: LiveRun, merge: Merge | None) -> _Undo | None:
    """Merge into the context instance that guards read (tentatively: ``_revert`` takes it
    back); the JSON context follows only once the store has the record (``_merge_json``).

    The instance is changed in place, although its class is frozen: it is private to this
    ``LiveRun`` (``RunHandle.context`` hands out fresh copies), and replacing it with
    ``attrs.evolve`` would cost a full validation of every field on every step."""
    if merge is None:
        return None
    values, items = merge.values, merge.items
    if not values and not items:
        return None
    context = live.context
    undo = _Undo(
        {name: getattr(context, name) for name in values},
        {name: len(getattr(context, name)) for name in items} if items else {},
    )
    for name, value in values.items():
        object.__setattr__(context, name, value)
    for name, added in items.items():
        getattr(context, name).extend(added)
    return undo


def _revert(live: LiveRun, undo: _Undo | None) -> None:
    if undo is None:
        return
    context = live.context
    for name, value in undo.values.items():
        object.__setattr__(context, name, value)
    for name, length in undo.lengths.items():
        del getattr(context, name)[length:]


def _merge_json(context_json: dict[str, object], merge: Merge) -> None:
    """Write a merge into a JSON context, copying lists and dicts: the merge's values are also
    the snapshot's ``changes``, ``appended`` and ``output``, which ``step()`` returns and
    ``on_transition`` receives, so whatever a caller does to those never reaches the run."""
    changes = merge.changes
    context_json.update(changes)  # scalars, nearly all changes: no copy needed
    for name, value in changes.items():
        if type(value) is dict or type(value) is list:
            context_json[name] = _owned(value)
    for name, added in merge.appended.items():
        current = context_json[name]
        assert isinstance(current, list)
        current.extend([_owned(item) for item in added])


def _owned(value: object) -> object:
    """A copy of JSON ``value``'s lists and dicts (scalars cannot change): a few times
    cheaper than ``copy.deepcopy``, which keeps a memo JSON trees never need."""
    if type(value) is dict:
        return {key: _owned(item) for key, item in value.items()}
    if type(value) is list:
        return [_owned(item) for item in value]
    return value


def _no_route(workflow: CompiledWorkflow, state: str, event: str | None) -> str:
    tried = workflow.checked.outgoing(state, event)
    guards = "; ".join(t.definition.guard or "default" for t in tried) or "none declared"
    on = f" on event '{event}'" if event is not None else ""
    return (
        f"no transition of state '{state}'{on} fired: every guard was false ({guards}); "
        f"add a default transition (no `when`) as the last one of '{state}'"
    )
