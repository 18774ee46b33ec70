"""Replay: recorded outputs and events through a spec again, calling no agent."""

from __future__ import annotations

from typing import Any

import pytest

from fsm.errors import RunError
from fsm.runtime import AgentCall, Workflow
from fsm.spec.validate import checked_from_text
from fsm.store import MemoryStore, Store

from .specs import GATED, counter, gated


class Worker:
    """GATED's worker: counts its calls; fails at n == 1 when told to (a failure record)."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.calls = 0
        self.fail_at = fail_at

    def __call__(self, inputs: Any, call: AgentCall) -> dict[str, object]:
        self.calls += 1
        if inputs.n == self.fail_at:
            raise ValueError("model unavailable")
        return {"n": inputs.n + 1, "tag": f"t{inputs.n}"}


def gated_run(store: Store, worker: Worker) -> str:
    """working x3 → gate; 'go' by an intern → working → gate; 'go' by the boss → done."""
    workflow = Workflow.from_spec(gated(), agents={"worker": worker}, store=store)
    handle = workflow.start()
    handle.send("go", {"by": "intern"})
    handle.send("go", {"by": "boss"})
    assert handle.record.status == "completed"
    return handle.run_id


def edited(text: str, old: str, new: str) -> Any:
    assert old in text
    return checked_from_text(text.replace(old, new, 1), "edited.yaml")


def test_a_run_replays_as_recorded_against_its_own_spec_without_calling_agents(
    store: Store,
) -> None:
    worker = Worker()
    run_id = gated_run(store, worker)
    calls = worker.calls
    workflow = Workflow.from_spec(gated(), agents={"worker": worker}, store=store)
    report = workflow.replay(run_id)
    assert worker.calls == calls  # outputs come from the records
    assert (report.matches, report.pinned) == (True, True)
    assert report.records == report.matched == store.get_run(run_id).seq == 6
    assert report.divergence is None


def test_a_replay_reads_the_run_a_batch_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long run is never held whole: the records are read in batches as the replay goes,
    and a divergence stops the reading (the edit changes seq 4: no batch past it is read)."""
    from fsm.runtime import workflow as workflow_module

    run_id = gated_run(store, Worker())
    reads: list[tuple[int, int | None]] = []

    class Counted(MemoryStore):
        def history(self, run: str, start: int = 0, end: int | None = None) -> Any:
            reads.append((start, end))
            return store.history(run, start, end)

        def get_run(self, run: str) -> Any:
            return store.get_run(run)

    monkeypatch.setattr(workflow_module, "REPLAY_BATCH", 2)
    counted = Counted()
    report = Workflow.from_spec(gated(), agents={"worker": Worker()}, store=counted).replay(run_id)
    assert (report.matches, report.records, report.matched) == (True, 6, 6)
    # (0, 1): the start record's options (its step limit)
    assert reads == [(0, 1), (0, 2), (2, 4), (4, 6), (6, 7)]
    reads.clear()
    spec = edited(GATED, "ack.by == 'boss'", "ack.by == 'intern'")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=counted).replay(run_id)
    assert (report.records, report.matched) == (6, 3)
    assert reads == [(0, 1), (0, 2), (2, 4), (4, 6)]


def test_an_edited_guard_is_found_at_the_first_record_it_changes(store: Store) -> None:
    run_id = gated_run(store, Worker())
    spec = edited(GATED, "ack.by == 'boss'", "ack.by == 'intern'")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(run_id)
    assert (report.pinned, report.matches, report.matched) == (False, False, 3)
    divergence = report.divergence
    assert divergence is not None
    assert (divergence.seq, divergence.state) == (4, "gate")
    assert divergence.recorded == "on 'go' → working by `back_to_work` (running, changed ack)"
    assert divergence.replayed == "on 'go' → done by `boss_says_go` (completed, changed ack)"


def test_an_output_the_edited_contract_refuses_is_a_divergence(store: Store) -> None:
    run_id = gated_run(store, Worker())
    spec = edited(GATED, "Step: {n: int, tag: str}", "Step: {n: {type: int, max: 1}, tag: str}")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(run_id)
    assert report.divergence is not None
    assert report.divergence.seq == 2
    assert report.divergence.replayed.startswith("the recorded output breaks the spec's contract")
    assert "n" in report.divergence.replayed


def test_an_output_an_edited_context_field_refuses_is_a_divergence(store: Store) -> None:
    """The edit bounds the context field the output is written to, not the output's contract:
    the run it replays would now fail at its second step instead of storing n = 2."""
    run_id = gated_run(store, Worker())
    spec = edited(GATED, "n: {type: int, default: 0}", "n: {type: int, default: 0, max: 1}")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(run_id)
    assert report.divergence is not None
    assert report.divergence.seq == 2
    assert report.divergence.replayed == (
        "the recorded output breaks the spec's contract: Context: context.n: expected int <= 1,"
        " got 2"
    )


def test_a_field_the_edit_adds_with_a_default_is_no_divergence(store: Store) -> None:
    """The edit gives Ack, written whole into ``ack``, a field with a default: the recorded
    ``ack`` read under the edit holds that default, exactly what the replay writes, so the
    run replays as recorded (it diverged at the first 'go': "ack gets {'by': 'intern',
    'note': ''}, recorded {'by': 'intern'}")."""
    run_id = gated_run(store, Worker())
    spec = edited(GATED, "Ack: {by: str}", "Ack: {by: str, note: {type: str, default: ''}}")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(run_id)
    assert (report.divergence, report.matched, report.records) == (None, 6, 6)


def test_event_data_the_edited_contract_refuses_is_a_divergence(store: Store) -> None:
    run_id = gated_run(store, Worker())
    spec = edited(GATED, "Ack: {by: str}", "Ack: {by: {type: str, pattern: 'b.*'}}")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(run_id)
    assert report.divergence is not None
    assert (report.divergence.seq, report.divergence.state) == (4, "gate")
    assert report.divergence.replayed.startswith("the spec refuses the recorded event")


def test_an_event_the_edited_state_no_longer_takes_is_a_divergence(store: Store) -> None:
    run_id = gated_run(store, Worker())
    renamed = GATED.replace("go: {data: Ack", "went: {data: Ack").replace("on: go,", "on: went,")
    spec = checked_from_text(renamed, "edited.yaml")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(run_id)
    assert report.divergence is not None
    assert (report.divergence.seq, report.matched) == (4, 3)
    assert report.divergence.replayed == "state 'gate' takes no event 'go' in the spec"


def test_agent_failures_replay_as_recorded(store: Store) -> None:
    """A failed call took the state's on_error route: replay takes the recorded failure."""
    workflow = Workflow.from_spec(gated(), agents={"worker": Worker(fail_at=1)}, store=store)
    handle = workflow.start()
    assert (handle.record.status, handle.record.state) == ("completed", "broken")
    assert workflow.history(handle.run_id)[-1].rule == "on_error"
    report = workflow.replay(handle.run_id)
    assert (report.matches, report.records) == (True, 2)


def test_the_step_limit_and_a_fork_with_its_own_limit_replay_as_recorded(store: Store) -> None:
    def bump(inputs: Any, call: AgentCall) -> dict[str, object]:
        return {"value": inputs.value + 1}

    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    limited = workflow.start(max_steps=4)
    assert limited.record.status == "failed"
    assert workflow.replay(limited.run_id).matches
    # Under the spec's own limit (40) the run would have gone on: replay uses the run's limit.
    fork = workflow.fork(limited.run_id, at=2, max_steps=30)
    fork.resume()
    assert fork.record.status == "completed"
    report = workflow.replay(fork.run_id)
    assert (report.matches, report.records) == (True, fork.record.seq)


def test_a_value_moved_by_an_edited_writes_is_named(store: Store) -> None:
    spec_text = """
workflow: pairs
contracts:
  Pair: {a: str, b: str}
context:
  x: {type: str, default: ""}
agents:
  pick: {input: {}, output: Pair}
states:
  picking: {agent: pick, writes: {x: a}}
  done: {final: true}
initial: picking
transitions:
  picking: [{to: done}]
"""
    agents = {"pick": lambda inputs, call: {"a": "first", "b": "second"}}
    original = checked_from_text(spec_text, "pairs.yaml")
    run_id = Workflow.from_spec(original, agents=agents, store=store).start().run_id
    spec = edited(spec_text, "writes: {x: a}", "writes: {x: b}")
    report = Workflow.from_spec(spec, agents=agents, store=store).replay(run_id)
    assert report.divergence is not None
    assert report.divergence.recorded == "→ done by `default` (completed, changed x)"
    assert report.divergence.replayed == (
        "→ done by `default` (completed, changed x): x gets 'second', recorded 'first'"
    )


def test_a_run_of_another_workflow_is_refused(store: Store) -> None:
    run_id = gated_run(store, Worker())
    workflow = Workflow.from_spec(counter(), agents={"bump": Worker()}, store=store)
    with pytest.raises(RunError, match="belongs to workflow 'gated'"):
        workflow.replay(run_id)


def test_a_start_whose_status_the_edited_spec_changes_is_a_divergence_at_seq_0(
    store: Store,
) -> None:
    """A fork of a completed run starts in 'done'; the edit makes 'done' wait for an event.
    The start record's status is the spec's decision too (the scratch store refused the
    mismatched start with a ValueError, and a run of no later record matched)."""
    run_id = gated_run(store, Worker())
    workflow = Workflow.from_spec(gated(), agents={"worker": Worker()}, store=store)
    fork = workflow.fork(run_id, at=store.get_run(run_id).seq)
    assert fork.record.status == "completed"
    waits = GATED.replace("done: {final: true}", "done: {wait: {again: null}}").replace(
        "  gate:\n    - {on: go", "  done: [{on: again, to: working}]\n  gate:\n    - {on: go"
    )
    spec = checked_from_text(waits, "edited.yaml")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(fork.run_id)
    assert (report.records, report.matched) == (0, 0)
    assert report.divergence is not None
    assert (report.divergence.seq, report.divergence.state) == (0, "done")
    assert report.divergence.recorded == "→ done by `fork` (completed)"
    assert report.divergence.replayed == "→ done by `fork` (waiting)"


def test_a_start_the_edited_spec_cannot_take_is_a_divergence_at_seq_0(store: Store) -> None:
    """A start state the edit removed, or a start context its contracts refuse, is reported
    like any other record the edit changes (it was a RunError: no report, no --json)."""
    run_id = gated_run(store, Worker())
    workflow = Workflow.from_spec(gated(), agents={"worker": Worker()}, store=store)
    fork = workflow.fork(run_id, at=3)
    assert fork.record.state == "gate"
    renamed = GATED.replace("gate", "checkpoint").replace("checkpointd", "gated")
    spec = checked_from_text(renamed, "edited.yaml")
    report = Workflow.from_spec(spec, agents={"worker": Worker()}, store=store).replay(fork.run_id)
    assert report.divergence is not None
    assert report.divergence.seq == 0
    expected = "the spec does not declare state 'gate', where the run starts"
    assert report.divergence.replayed == expected
    tightened = edited(GATED, "n: {type: int, default: 0}", "n: {type: int, default: 0, max: 1}")
    report = Workflow.from_spec(tightened, agents={"worker": Worker()}, store=store).replay(
        fork.run_id
    )
    assert report.divergence is not None
    assert report.divergence.seq == 0
    assert report.divergence.replayed.startswith("the run's start context does not fit the spec")


ROUTED = """
workflow: routed
contracts:
  Out: {x: int}
context:
  x: {type: int, default: 0}
agents:
  a: {input: {x: x}, output: Out}
states:
  s: {agent: a, writes: {x: x}, on_error: done}
  r: {}
  done: {final: true}
initial: s
transitions:
  s: [{to: r}]
  r: [{to: done}]
"""


def test_a_state_that_gains_or_loses_its_agent_is_named(store: Store) -> None:
    """A route state given an agent read as that agent failing (`by on_error`), and an agent
    state made a route state whose output changed nothing matched as if nothing changed."""
    agents = {"a": lambda inputs, call: {"x": 0}}
    original = checked_from_text(ROUTED, "routed.yaml")
    run_id = Workflow.from_spec(original, agents=agents, store=store).start().run_id
    gains = edited(ROUTED, "  r: {}", "  r: {agent: a, writes: {x: x}, on_error: done}")
    report = Workflow.from_spec(gains, agents=agents, store=store).replay(run_id)
    assert report.divergence is not None
    assert (report.divergence.seq, report.divergence.state) == (2, "r")
    assert report.divergence.replayed == (
        "the spec calls agent 'a' in 'r', but the record holds no output of it (the state "
        "called no agent when it was recorded)"
    )
    loses = edited(ROUTED, "  s: {agent: a, writes: {x: x}, on_error: done}", "  s: {}")
    report = Workflow.from_spec(loses, agents=agents, store=store).replay(run_id)
    assert report.divergence is not None
    assert (report.divergence.seq, report.divergence.state) == (1, "s")
    assert report.divergence.replayed == (
        "the spec calls no agent in 's', but the record holds an agent's output"
    )


def test_an_output_from_an_attempt_the_edited_retry_no_longer_allows_is_a_divergence(
    store: Store,
) -> None:
    """The worker succeeds at attempt 3; with `attempts: 2` the step fails and takes its
    on_error route (as a live run under the edit does), which replay matched as recorded."""

    def third_time(inputs: Any, call: AgentCall) -> dict[str, object]:
        if call.attempt < 3:
            raise ValueError("flaky")
        return {"n": inputs.n + 1, "tag": "t"}

    workflow = Workflow.from_spec(gated(), agents={"worker": third_time}, store=store)
    run_id = workflow.start().run_id
    assert workflow.history(run_id)[1].attempt == 3
    spec = edited(GATED, "retry: {attempts: 3}", "retry: {attempts: 2}")
    live = Workflow.from_spec(spec, agents={"worker": third_time}, store=MemoryStore()).start()
    assert (live.record.state, workflow.history(run_id)[1].seq) == ("broken", 1)
    report = Workflow.from_spec(spec, agents={"worker": third_time}, store=store).replay(run_id)
    assert report.divergence is not None
    assert (report.divergence.seq, report.matched) == (1, 0)
    assert report.divergence.replayed == (
        "→ broken by `on_error` (completed): the spec gives agent 'worker' 2 attempts, and the "
        "recorded output came at attempt 3"
    )
    own = Workflow.from_spec(gated(), agents={"worker": third_time}, store=store)
    assert own.replay(run_id).matches
