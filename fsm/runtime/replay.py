"""Replay: a run's recorded agent outputs and events fed through a spec's contracts and routing
again, without calling any agent.

Routing is a pure function of (state, context, event), so a run replayed against the spec it
ran under reproduces every record: a check of the store and of that promise. Replayed against
an edited spec, it finds the first transition the edit would have changed (a guard that now
routes elsewhere, a contract the recorded output no longer meets): a regression test on real
runs before the edit reaches them. Replay stops there, because every later record depends on
the route it took.

A record is compared by what routing and merging decide: target, rule, event, status and the
context change. An agent's failure is replayed as recorded (it is what the agent did, not what
the spec decides), and times and attempt counts are not compared.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence

import attrs

from fsm.errors import ContractError, RoutingError, RunError
from fsm.runtime.compiled import CompiledWorkflow
from fsm.runtime.invoke import Outcome
from fsm.runtime.merge import check_writes
from fsm.runtime.stepper import LiveRun, commit_agent, commit_event, started, status_after
from fsm.store import MemoryStore, RunRecord, Snapshot
from fsm.store.records import JsonValue

_FRAME_INTERVAL_NEVER = 1 << 62
"""The scratch store of a replay keeps no frames: the replayed run is never loaded back."""


@attrs.frozen
class Divergence:
    """The first record the spec does not reproduce: what was recorded, what the spec does."""

    seq: int
    state: str
    recorded: str
    replayed: str
    spec_hash: str  # the spec the record was written under: another after --allow-spec-change


@attrs.frozen
class ReplayReport:
    """How a run's records compare with what the spec makes of their outputs and events.

    ``records`` counts the records after the start record; ``matched`` those reproduced
    before the divergence (all of them when there is none)."""

    run_id: str
    spec_hash: str
    pinned: bool  # the spec replayed against is the one the run started with
    records: int
    matched: int
    divergence: Divergence | None

    @property
    def matches(self) -> bool:
        return self.divergence is None


def replay_records(
    workflow: CompiledWorkflow,
    records: Iterable[Snapshot],
    max_steps: int,
    count: int | None = None,
) -> ReplayReport:
    """Replay ``records`` (a run's history from its start record) through ``workflow``.

    ``records`` may be an iterator reading the run a batch at a time, so a long run is never
    held whole; ``count`` is then how many records follow the start record (without it the
    records are read into a list to count them)."""
    if count is None:
        records = list(records)
        count = len(records) - 1
    remaining = iter(records)
    start = next(remaining, None)
    if start is None or start.frame is None:
        raise RunError(
            "a replay starts from a run's start record (seq 0, a full frame)",
            run_id=start.run_id if start is not None else None,
        )
    report = ReplayReport(
        run_id=start.run_id,
        spec_hash=workflow.spec_hash,
        pinned=start.spec_hash == workflow.spec_hash,
        records=count,
        matched=0,
        divergence=None,
    )
    scratch = _scratch_run(workflow, start, max_steps)
    if isinstance(scratch, str):
        divergence = Divergence(0, start.target, describe(start), scratch, start.spec_hash)
        return attrs.evolve(report, divergence=divergence)
    live, sink = scratch
    for matched, recorded in enumerate(remaining):
        replayed = _replay_one(workflow, sink, live, recorded)
        if isinstance(replayed, str) or not _same(workflow, replayed, recorded):
            what = replayed if isinstance(replayed, str) else _contrasted(replayed, recorded)
            divergence = Divergence(
                recorded.seq, recorded.source or "", describe(recorded), what, recorded.spec_hash
            )
            return attrs.evolve(report, matched=matched, divergence=divergence)
    return attrs.evolve(report, matched=report.records)


def describe(snapshot: Snapshot) -> str:
    """A record's decision in one line: ``on 'go' → done by `ack.by == 'boss'` (completed)``."""
    on = f"on '{snapshot.event}' " if snapshot.event is not None else ""
    rule = f" by `{snapshot.rule}`" if snapshot.rule is not None else ""
    changed = [*snapshot.changes, *(f"{name}+" for name in snapshot.appended)]
    changes = f", changed {', '.join(changed)}" if changed else ""
    return f"{on}→ {snapshot.target}{rule} ({snapshot.status}{changes})"


def _contrasted(replayed: Snapshot, recorded: Snapshot) -> str:
    """``describe(replayed)``, and where that reads like the record, the first context field
    whose change differs in value (an edited ``writes`` can move other data into a field)."""
    text = describe(replayed)
    if text != describe(recorded):
        return text
    for name in [*replayed.changes, *replayed.appended]:
        now = replayed.changes.get(name, replayed.appended.get(name))
        then = recorded.changes.get(name, recorded.appended.get(name))
        if now != then:
            return f"{text}: {name} gets {_short(now)}, recorded {_short(then)}"
    return text


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _scratch_run(
    workflow: CompiledWorkflow, start: Snapshot, max_steps: int
) -> tuple[LiveRun, MemoryStore] | str:
    """The run as its start record left it, in a store of its own; or why the spec cannot
    start it so (the start record is a decision too: the status its state has in the spec)."""
    frame = start.frame
    assert frame is not None
    state, steps = frame["state"], frame["steps"]
    if state not in workflow.states:
        return f"the spec does not declare state '{state}', where the run starts"
    context_json = copy.deepcopy(frame["context"])
    try:
        context = workflow.context_instance(context_json)
    except ContractError as error:
        return f"the run's start context does not fit the spec: {error}"
    if start.spec_hash != workflow.spec_hash:  # as a run continued under it holds it
        context_json = workflow.context_json(context)
    status, waiting_for, error_text = status_after(workflow, state, steps, max_steps)
    replayed = attrs.evolve(start, spec_hash=workflow.spec_hash, status=status, error=error_text)
    if status != start.status:
        return describe(replayed)
    record = RunRecord(
        run_id=start.run_id,
        workflow=workflow.checked.spec.workflow,
        spec_hash=workflow.spec_hash,
        spec_path=workflow.checked.spec.path,
        status=status,
        state=state,
        waiting_for=waiting_for,
        error=error_text,
        created_at=start.started_at,
        updated_at=start.started_at,
    )
    sink = MemoryStore(frame_interval=_FRAME_INTERVAL_NEVER)
    sink.create_run(record, replayed)
    live = LiveRun(record, context_json, context, steps, dict(frame["visits"]), max_steps)
    return live, sink


def _replay_one(
    workflow: CompiledWorkflow, sink: MemoryStore, live: LiveRun, recorded: Snapshot
) -> Snapshot | str:
    """The record the spec makes of ``recorded``'s output or event, or why it makes none."""
    state = live.record.state
    if recorded.source != state:
        return f"the replayed run is in '{state}', the record starts from '{recorded.source}'"
    if state not in workflow.states:
        return f"the spec does not declare state '{state}'"
    if live.record.status not in ("running", "waiting"):
        return f"the replayed run has already {live.record.status} in '{state}'"
    if recorded.event is not None:
        if workflow.states[state].event(recorded.event) is None:
            return f"state '{state}' takes no event '{recorded.event}' in the spec"
        try:
            return commit_event(workflow, sink, live, recorded.event, recorded.output)
        except (ContractError, RoutingError) as refusal:
            return f"the spec refuses the recorded event: {refusal}"
    if live.record.status == "waiting":
        return f"the spec makes '{state}' wait for an event; the record took a step instead"
    plan = workflow.agent_plans.get(state)
    # An agent state's record always holds the output or the failure: without either, the
    # state called no agent when it was recorded (else the replay would read as a failure).
    if plan is not None and recorded.output is None and recorded.error is None:
        return (
            f"the spec calls agent '{plan.agent.definition.name}' in '{state}', but the record "
            f"holds no output of it (the state called no agent when it was recorded)"
        )
    if plan is None and recorded.output is not None:
        return f"the spec calls no agent in '{state}', but the record holds an agent's output"
    outcome: Outcome | None = None
    if plan is not None:
        if recorded.output is not None:
            try:
                instance, output_json = plan.validate(recorded.output)
                check_writes(plan.writes, output_json, live.context_json)
            except ContractError as error:
                return f"the recorded output breaks the spec's contract: {error}"
            outcome = Outcome(recorded.attempt, instance, output_json)
            allowed = plan.agent.definition.retry.attempts
            if recorded.attempt > allowed:
                # Every attempt before the recorded one failed, so with fewer attempts the step
                # fails at the last one the spec allows: that failure is what the spec decides.
                failed = Outcome(allowed, error="the agent failed")
                snapshot = commit_agent(workflow, sink, live, failed, started())
                return (
                    f"{describe(snapshot)}: the spec gives agent '{plan.agent.definition.name}' "
                    f"{allowed} attempt{'s' if allowed != 1 else ''}, and the recorded output "
                    f"came at attempt {recorded.attempt}"
                )
        else:
            outcome = Outcome(recorded.attempt, error=recorded.error or "the agent failed")
    return commit_agent(workflow, sink, live, outcome, started())


def _same(workflow: CompiledWorkflow, replayed: Snapshot, recorded: Snapshot) -> bool:
    """Whether the spec decides what ``recorded`` says. A record written under another spec
    is read as this one reads its values: a contract the edit gave a field with a default
    holds that default in the values written before (as in the context of a run continued
    under the edit), so the default alone is no difference."""
    decided = _decision(replayed)
    if decided == _decision(recorded):
        return True
    return recorded.spec_hash != workflow.spec_hash and decided == _decision(
        _read_as(workflow, recorded)
    )


def _read_as(workflow: CompiledWorkflow, recorded: Snapshot) -> Snapshot:
    """``recorded`` with each context change as the spec's field types read it back."""
    context_type, converter = workflow.context_type, workflow.converter

    def read(name: str, value: object) -> object:
        field = context_type.field(name)
        if field is None:
            return value
        try:
            return converter.unstructure(converter.structure(value, field.type, name))
        except ContractError:
            return value  # the spec refuses it: the difference stands

    def read_items(name: str, items: Sequence[JsonValue]) -> Sequence[JsonValue]:
        read_back = read(name, list(items))
        return read_back if isinstance(read_back, list) else items

    return attrs.evolve(
        recorded,
        changes={name: read(name, value) for name, value in recorded.changes.items()},
        appended={name: read_items(name, items) for name, items in recorded.appended.items()},
    )


def _decision(snapshot: Snapshot) -> tuple[object, ...]:
    """What routing and merging decided for a record (``changes`` compared as JSON data)."""
    appended = {name: list(items) for name, items in snapshot.appended.items()}
    return (
        snapshot.target,
        snapshot.rule,
        snapshot.event,
        snapshot.status,
        dict(snapshot.changes),
        appended,
    )
