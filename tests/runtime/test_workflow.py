"""Workflow and RunHandle: runs, retries, error routes, contracts, limits, events, pinning."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fsm.errors import AgentError, ContractError, CorruptionError, RoutingError, RunError
from fsm.runtime import AgentCall, Workflow
from fsm.spec.checked import CheckedSpec
from fsm.spec.validate import checked_from_text
from fsm.store import MemoryStore, SqliteStore, Store

from .specs import COUNTER, GATED, counter, gated

SPECS = Path(__file__).parents[2] / "specs"


def bump(inputs: Any, call: AgentCall) -> dict[str, object]:
    return {"value": inputs.value + 1}


def work(inputs: Any, call: AgentCall) -> dict[str, object]:
    return {"n": inputs.n + 1, "tag": f"t{inputs.n + 1}"}


class Flaky:
    """Fails the first ``failures`` attempts of every call, then behaves like ``work``."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.calls: list[AgentCall] = []

    def __call__(self, inputs: Any, call: AgentCall) -> dict[str, object]:
        self.calls.append(call)
        if call.attempt <= self.failures:
            raise ConnectionError(f"flaky attempt {call.attempt}")
        return work(inputs, call)


def test_content_pipeline_runs_end_to_end_with_its_shipped_agents(store: Store) -> None:
    """The example spec drafts three times, waits for approval, then publishes."""
    workflow = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=store)
    handle = workflow.start({"brief": {"topic": "durable snapshots", "audience": "technical"}})
    assert (handle.status, handle.state, handle.waiting_for) == (
        "waiting",
        "approval",
        ("approve", "reject"),
    )
    assert handle.context.draft.revision == 3
    assert len(handle.context_json["log"]) == 3
    handle.send("approve", {"editor": "ada"})
    assert (handle.status, handle.state, handle.steps) == ("completed", "published", 7)
    assert handle.context.decision.editor == "ada"
    assert [s.seq for s in handle.history()] == list(range(8))


def test_reject_loops_back_and_is_bounded_by_visits(store: Store) -> None:
    """Rejecting at approval re-drafts while visits.drafting < 3, else fails the content."""
    workflow = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=store)
    handle = workflow.start({"brief": {"topic": "durable snapshots"}})
    handle.send("reject", {"editor": "grace", "comment": "no"})
    assert (handle.status, handle.state) == ("completed", "failed")
    assert handle.history()[-1].rule == "on reject"


def test_retries_recover_and_record_the_attempt(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """An agent failing twice then succeeding uses attempts 1..3 with a stable idempotency key;
    the record keeps the two failures (they were lost once the last attempt succeeded), and
    each is logged as it is retried."""
    flaky = Flaky(failures=2)
    workflow = Workflow.from_spec(gated(), agents={"worker": flaky}, store=store)
    with caplog.at_level("WARNING", logger="fsm.runtime"):
        handle = workflow.start()
    assert handle.state == "gate"
    first = handle.history()[1]
    assert first.attempt == 3
    assert first.error is None
    assert [failure.split(": ", 1)[1] for failure in first.failed_attempts] == [
        "ConnectionError: flaky attempt 1",
        "ConnectionError: flaky attempt 2",
    ]
    assert "(attempt 1 of 3)" in first.failed_attempts[0]
    retried = [r.getMessage() for r in caplog.records if r.name == "fsm.runtime"]
    assert len(retried) == 2 * len(flaky.calls) // 3  # every step's agent failed twice
    assert retried[0].startswith(f"run {handle.run_id} seq 1: agent 'worker' failed (attempt 1")
    assert retried[0].endswith("flaky attempt 1; retrying in 0 s")
    keys = [c.idempotency_key for c in flaky.calls[:3]]
    assert keys == [f"{handle.run_id}:1:{attempt}" for attempt in (1, 2, 3)]


@pytest.mark.parametrize("driver", ["blocking", "async"])
def test_retries_wait_the_backoff_between_attempts_and_not_after_the_last(
    store: Store, monkeypatch: pytest.MonkeyPatch, driver: str
) -> None:
    """Backoff 0.5 s x 3 per attempt: waits 0.5 then 1.5 s before attempts 2 and 3, none after
    the last; both drivers follow the same schedule (the async one without blocking)."""
    text = GATED.replace(
        "retry: {attempts: 3}", "retry: {attempts: 3, backoff: 0.5, multiplier: 3}"
    )
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr("fsm.runtime.invoke.time.sleep", waits.append)
    monkeypatch.setattr("fsm.runtime.invoke.asyncio.sleep", no_wait)
    workflow = Workflow.from_spec(
        checked_from_text(text, "g.yaml"), agents={"worker": Flaky(failures=5)}, store=store
    )
    handle = workflow.start() if driver == "blocking" else asyncio.run(workflow.async_start())
    assert (handle.state, handle.history()[-1].attempt) == ("broken", 3)
    assert len(handle.history()[-1].failed_attempts) == 2
    assert waits == [0.5, 1.5]


def test_a_backoff_longer_than_time_sleep_takes_waits_as_long_as_it_can(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``backoff``/``max_backoff`` are any finite number to ``fsm validate``; the blocking
    driver once passed 1e300 s to ``time.sleep``, which raised OverflowError out of the step.
    It now waits the longest time ``time.sleep`` takes."""
    text = GATED.replace(
        "retry: {attempts: 3}", "retry: {attempts: 2, backoff: 1e300, max_backoff: 1e300}"
    )
    waits: list[float] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if seconds > threading.TIMEOUT_MAX:
            real_sleep(seconds)  # raises OverflowError, without waiting
        waits.append(seconds)

    monkeypatch.setattr("fsm.runtime.invoke.time.sleep", sleep)
    workflow = Workflow.from_spec(
        checked_from_text(text, "g.yaml"), agents={"worker": Flaky(failures=5)}, store=store
    )
    handle = workflow.start()
    assert (handle.state, handle.history()[-1].attempt) == ("broken", 2)
    assert waits == [threading.TIMEOUT_MAX]


def test_exhausted_retries_take_the_error_route_and_record_the_error(store: Store) -> None:
    """After the last attempt the state's on_error transition fires, error in its snapshot."""
    workflow = Workflow.from_spec(gated(), agents={"worker": Flaky(failures=5)}, store=store)
    handle = workflow.start()
    assert (handle.state, handle.status) == ("broken", "completed")
    last = handle.history()[-1]
    assert (last.rule, last.attempt, last.changes) == ("on_error", 3, {})
    assert last.error is not None
    assert "ConnectionError: flaky attempt 3" in last.error
    assert len(last.failed_attempts) == 2
    assert "ConnectionError: flaky attempt 2" in last.failed_attempts[1]


def test_failure_without_error_route_ends_the_run_failed(store: Store) -> None:
    """No on_error: a final record with status failed and the error; the run is failed."""

    def broken(inputs: Any, call: AgentCall) -> dict[str, object]:
        raise ValueError("model unavailable")

    workflow = Workflow.from_spec(counter(), agents={"bump": broken}, store=store)
    handle = workflow.start()
    assert (handle.status, handle.state, handle.seq) == ("failed", "run", 1)
    assert handle.error is not None
    assert "model unavailable" in handle.error
    record = handle.history()[-1]
    assert (record.status, record.source, record.target) == ("failed", "run", "run")
    assert store.get_run(handle.run_id).status == "failed"
    assert handle.step() is None  # a failed run does not move


def test_contract_violation_is_never_merged(store: Store) -> None:
    """Output breaking its contract is retried, then recorded as the error; context unchanged."""
    outputs: list[object] = [{"value": 1}, {"value": "two"}, {"value": 2, "extra": True}]

    def liar(inputs: Any, call: AgentCall) -> object:
        return outputs.pop(0)

    workflow = Workflow.from_spec(counter(), agents={"bump": liar}, store=store)
    handle = workflow.start()
    assert handle.status == "failed"
    assert handle.context_json == {"value": 1, "items": [1]}
    failure = handle.history()[-1]
    assert (failure.changes, failure.appended, failure.output) == ({}, {}, None)
    assert failure.error is not None
    assert "attempt 2 of 2" in failure.error
    assert "unknown field 'extra'" in failure.error
    assert store.load_state(handle.run_id).context == {"value": 1, "items": [1]}


def test_step_limit_fails_the_run_at_the_limit(store: Store) -> None:
    """A run that has not reached a final state after max_steps transitions is failed."""
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    handle = workflow.start(max_steps=4)
    assert (handle.status, handle.steps, handle.seq) == ("failed", 4, 4)
    assert handle.error is not None
    assert "step limit reached" in handle.error
    # the whole command that continues it, for this run and seq
    assert f"`fsm fork {handle.run_id} --at 4 --max-steps 8`" in handle.error
    reopened = workflow.run(handle.run_id)
    assert reopened.max_steps == 4


RECOVERING = """
workflow: recovering
max_steps: 1
contracts:
  Out: {v: int}
context:
  v: {type: int, default: 0}
agents:
  a: {input: {}, output: Out}
states:
  trying: {agent: a, writes: {v: v}, on_error: recovering}
  recovering: {agent: a, writes: {v: v}}
  done: {final: true}
initial: trying
transitions:
  trying: [{to: done}]
  recovering: [{to: done}]
"""


def test_an_error_route_that_reaches_the_step_limit_records_both_errors(store: Store) -> None:
    """The agent's failure took the on_error route and that transition hit max_steps: the
    run fails for the limit, and its error says both (the limit's hint included)."""

    def fails_first(inputs: Any, call: AgentCall) -> dict[str, object]:
        if call.state == "trying":
            raise ValueError("upstream down")
        return {"v": 1}

    checked = checked_from_text(RECOVERING, "recovering.yaml")
    workflow = Workflow.from_spec(checked, agents={"a": fails_first}, store=store)
    handle = workflow.start()
    assert (handle.status, handle.state, handle.steps) == ("failed", "recovering", 1)
    record = handle.history()[-1]
    for error in (handle.error, record.error, store.get_run(handle.run_id).error):
        assert error is not None
        assert "ValueError: upstream down; then step limit reached" in error
        assert "raise max_steps" in error


HUGE = """
workflow: huge
max_steps: 10
contracts:
  Out: {n: int}
context:
  n: {type: int, default: 0}
agents:
  a: {input: {}, output: Out}
states:
  counting: {agent: a, writes: {n: n}}
  asking:
    wait:
      answer: {data: Out, writes: {n: n}}
  big: {final: true}
  small: {final: true}
initial: counting
transitions:
  counting:
    - {to: big, when: "n + 0.5 > 1"}
    - {to: asking}
  asking:
    - {on: answer, to: big, when: "n + 0.5 > 1"}
    - {on: answer, to: small}
"""


def test_a_guard_that_raises_fails_the_step_with_a_record_naming_it(store: Store) -> None:
    """An int too large for a float makes `n + 0.5` raise inside the guard: the run fails with
    a record that names the guard and where it is written, not with a traceback."""
    checked = checked_from_text(HUGE, "huge.yaml")
    workflow = Workflow.from_spec(checked, agents={"a": lambda i, c: {"n": 10**400}}, store=store)
    handle = workflow.start()
    assert (handle.status, handle.state) == ("failed", "counting")
    assert handle.error is not None
    assert handle.error.startswith("huge.yaml:20:24: guard `n + 0.5 > 1` of the transition")
    assert "OverflowError" in handle.error
    assert store.load_state(handle.run_id).context == {"n": 0}  # the output was not merged


def test_a_guard_that_raises_on_event_data_refuses_the_event(store: Store) -> None:
    """The same for `send`: nothing is recorded, the run still waits for a usable answer."""
    checked = checked_from_text(HUGE, "huge.yaml")
    workflow = Workflow.from_spec(checked, agents={"a": lambda i, c: {"n": 0}}, store=store)
    handle = workflow.start()
    assert handle.state == "asking"
    with pytest.raises(RoutingError, match=r"OverflowError.*nothing was recorded"):
        handle.send("answer", {"n": 10**400})
    assert (handle.status, handle.seq, handle.context_json) == ("waiting", 1, {"n": 0})
    assert handle.send("answer", {"n": 5}).state == "big"


def test_snapshot_stores_only_changes_and_appended_items(store: Store) -> None:
    """Unchanged replace fields are left out; append fields store only the new items."""

    def same(inputs: Any, call: AgentCall) -> dict[str, object]:
        return {"value": min(inputs.value + 1, 2)}

    workflow = Workflow.from_spec(counter(), agents={"bump": same}, store=store)
    handle = workflow.start(max_steps=4)
    records = handle.history()[1:]
    assert [dict(r.changes) for r in records] == [{"value": 1}, {"value": 2}, {}, {}]
    assert [dict(r.appended) for r in records] == [{"items": [v]} for v in (1, 2, 2, 2)]


def test_time_travel_is_exact_at_every_seq(store: Store) -> None:
    """The state rebuilt at each seq equals the context the live run had right after it."""
    workflow = Workflow.from_spec(SPECS / "content_pipeline.yaml", store=store)
    handle = workflow.start({"brief": {"topic": "time travel"}}, detach=True)
    observed = {0: (handle.context_json, handle.state, handle.visits)}
    while handle.step() is not None:
        observed[handle.seq] = (handle.context_json, handle.state, handle.visits)
    handle.send("approve", {"editor": "ada"})
    observed[handle.seq] = (handle.context_json, handle.state, handle.visits)
    for seq, (context, state, visits) in observed.items():
        rebuilt = store.load_state(handle.run_id, seq)
        assert (rebuilt.context, rebuilt.state, rebuilt.visits) == (context, state, visits)


def test_fork_starts_from_the_exact_state_and_runs_on(store: Store) -> None:
    """A fork's seq 0 is the parent's state at that seq; it records its parent and continues."""
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    parent = workflow.start()
    at = store.load_state(parent.run_id, 4)
    fork = workflow.fork(parent.run_id, 4)
    assert (fork.seq, fork.steps, fork.context_json, fork.visits) == (
        0,
        4,
        at.context,
        at.visits,
    )
    record = store.get_run(fork.run_id)
    assert (record.parent_run_id, record.parent_seq) == (parent.run_id, 4)
    fork.resume()
    assert fork.context_json == parent.context_json
    assert (fork.steps, fork.seq) == (parent.steps, parent.seq - 4)
    with pytest.raises(RunError, match="cannot fork at seq 99"):
        workflow.fork(parent.run_id, 99)


@pytest.mark.parametrize("at", [True, "1", 1.0, None])
def test_a_fork_seq_that_is_no_int_is_refused(store: Store, at: object) -> None:
    """`at` names a record: `True` is not seq 1 (bool is an int subclass) and `"1"` is no seq;
    both are a RunError naming the run, as `max_steps` is checked, and no fork is created."""
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    parent = workflow.start()
    with pytest.raises(RunError, match=f"cannot fork at seq {at!r}") as refused:
        workflow.fork(parent.run_id, at)  # type: ignore[arg-type]
    assert refused.value.run_id == parent.run_id
    assert [run.run_id for run in store.list_runs()] == [parent.run_id]


def test_the_start_record_names_the_spec_version_of_a_run_and_a_fork(store: Store) -> None:
    """`version:` is recorded in seq 0 of each run (and fork), beside the pinned spec hash;
    a spec without one records the default, "1"."""
    pipeline = SPECS / "content_pipeline.yaml"
    workflow = Workflow.from_spec(pipeline, store=store)
    run = workflow.start({"brief": {"topic": "versions"}})
    (start,) = store.history(run.run_id, 0, 1)
    assert start.output == {"max_steps": 40, "spec_version": "3"}
    fork = workflow.fork(run.run_id, 1)
    (forked,) = store.history(fork.run_id, 0, 1)
    assert isinstance(forked.output, dict)
    assert forked.output["spec_version"] == "3"
    plain = Workflow.from_spec(counter(), agents={"bump": bump}, store=store).start()
    (bare,) = store.history(plain.run_id, 0, 1)
    assert bare.output == {"max_steps": 40, "spec_version": "1"}


def test_events_validate_data_and_refuse_what_is_not_accepted(store: Store) -> None:
    """Bad event data or an unknown event changes nothing; the error lists accepted events."""
    workflow = Workflow.from_spec(gated(), agents={"worker": work}, store=store)
    handle = workflow.start()
    assert handle.waiting_for == ("go", "stop")
    with pytest.raises(RunError, match="waiting in state 'gate' for one of: go, stop"):
        handle.send("launch")
    with pytest.raises(ContractError, match=r"go\.by: expected str"):
        handle.send("go", {"by": 3})
    with pytest.raises(RoutingError, match="carries no data"):
        handle.send("stop", {"by": "x"})
    assert (handle.seq, handle.status) == (3, "waiting")
    assert store.get_run(handle.run_id).seq == 3
    handle.send("go", {"by": "boss"})
    assert (handle.state, handle.status) == ("done", "completed")
    assert handle.history()[-1].rule == "boss_says_go"
    with pytest.raises(RunError, match="not waiting"):
        handle.send("go", {"by": "boss"})


def test_an_event_for_a_running_run_says_how_to_resume_that_run(store: Store) -> None:
    workflow = Workflow.from_spec(gated(), agents={"worker": work}, store=store)
    handle = workflow.start(max_steps=30)
    running = workflow.fork(handle.run_id, at=1)
    with pytest.raises(RunError, match=f"resume it \\(`fsm resume {running.run_id}`\\)"):
        running.send("go", {"by": "boss"})


def test_event_route_order_second_transition_when_first_guard_is_false(store: Store) -> None:
    """'go' from someone else skips the guarded transition and takes the next one."""
    workflow = Workflow.from_spec(gated(), agents={"worker": work}, store=store)
    handle = workflow.start().send("go", {"by": "intern"})
    assert handle.history()[4].rule == "back_to_work"
    assert handle.state == "gate"  # worked one more step, back at the gate


def test_no_route_on_an_event_raises_and_records_nothing(store: Store) -> None:
    """An event whose guards are all false is a RoutingError and leaves the run waiting."""
    text = (
        COUNTER.replace(
            "  end: {final: true}", "  hold: {wait: [poke]}\n  end: {final: true}"
        ).replace(
            '    - {to: end, when: "value >= 10", name: enough}',
            '    - {to: hold, when: "value >= 2"}\n'
            '    - {to: end, when: "value >= 10", name: enough}',
        )
        + "  hold:\n"
        + '    - {on: poke, to: end, when: "value > 100"}\n'
        + '    - {on: poke, to: run, when: "value > 50"}\n'
    )
    workflow = Workflow.from_spec(
        checked_from_text(text, "hold.yaml"), agents={"bump": bump}, store=store
    )
    handle = workflow.start()
    assert handle.state == "hold"
    with pytest.raises(RoutingError, match="nothing was recorded"):
        handle.send("poke")
    assert (handle.seq, handle.context_json["items"]) == (2, [1, 2])
    assert store.get_run(handle.run_id).seq == 2


def test_async_agents_are_awaited_by_both_drivers(store: Store) -> None:
    """async def agents work from the blocking API and from async_start."""

    async def slow_bump(inputs: Any, call: AgentCall) -> dict[str, object]:
        await asyncio.sleep(0)
        return {"value": inputs.value + 5}

    workflow = Workflow.from_spec(counter(), agents={"bump": slow_bump}, store=store)
    assert workflow.start().context_json["value"] == 10
    handle = asyncio.run(workflow.async_start())
    assert (handle.status, handle.context_json["items"]) == ("completed", [5, 10])


def test_async_timeout_counts_as_a_failed_attempt(store: Store) -> None:
    """An async agent slower than its timeout is cancelled and the run follows its failure."""
    text = COUNTER.replace("retry: {attempts: 2}", "retry: {attempts: 2}, timeout: 0.01")

    async def hang(inputs: Any, call: AgentCall) -> dict[str, object]:
        await asyncio.sleep(5)
        return {"value": 0}

    workflow = Workflow.from_spec(
        checked_from_text(text, "t.yaml"), agents={"bump": hang}, store=store
    )
    handle = workflow.start()
    assert handle.status == "failed"
    assert handle.error is not None
    assert "timeout of 0.01 s" in handle.error


@pytest.mark.parametrize("driver", ["blocking", "async"])
def test_an_async_agent_blocking_the_loop_past_its_timeout_has_failed(
    store: Store, driver: str
) -> None:
    """An async agent that never awaits cannot be cancelled; its result, arriving after the
    timeout, is late all the same (as a sync agent's is), not a success."""
    text = COUNTER.replace("retry: {attempts: 2}", "retry: 1, timeout: 0.05")

    async def blocks(inputs: Any, call: AgentCall) -> dict[str, object]:
        time.sleep(0.1)  # a blocking client inside async def: the event loop never runs
        return {"value": 10}

    workflow = Workflow.from_spec(
        checked_from_text(text, "t.yaml"), agents={"bump": blocks}, store=store
    )
    handle = workflow.start() if driver == "blocking" else asyncio.run(workflow.async_start())
    assert handle.status == "failed"
    assert "no result within its timeout of 0.05 s" in (handle.error or "")
    assert handle.context_json["value"] == 0


@pytest.mark.parametrize("driver", ["blocking", "async"])
def test_a_cancelled_error_the_agent_lets_escape_is_a_recorded_failed_attempt(
    store: Store, driver: str
) -> None:
    """Nobody cancelled the step: a CancelledError out of the agent (a task it awaited was
    cancelled) is its failure, retried and recorded. It used to escape the step, so the run
    stayed where it was and a worker would run that step again after every lease expiry."""

    async def awaits_a_cancelled_task(inputs: Any, call: AgentCall) -> dict[str, object]:
        inner = asyncio.ensure_future(asyncio.sleep(5))
        inner.cancel()
        await inner
        return {"value": 10}

    workflow = Workflow.from_spec(counter(), agents={"bump": awaits_a_cancelled_task}, store=store)
    handle = workflow.start() if driver == "blocking" else asyncio.run(workflow.async_start())
    assert (handle.status, handle.seq) == ("failed", 1)
    (failed,) = handle.history()[1:]
    assert failed.attempt == 2
    assert "agent 'bump' failed (attempt 2 of 2): a CancelledError escaped it" in (
        failed.error or ""
    )


def test_a_caller_cancelling_an_awaited_step_records_nothing_and_the_run_resumes(
    store: Store,
) -> None:
    """The caller's own cancel is not the agent's failure: it reaches the caller, no attempt
    is recorded, and the run continues from where it was."""
    started = asyncio.Event()

    async def slow(inputs: Any, call: AgentCall) -> dict[str, object]:
        if call.seq == 2 and not started.is_set():  # the first try only, not the resumed one
            started.set()
            await asyncio.sleep(5)
        return {"value": inputs.value + 5}

    workflow = Workflow.from_spec(counter(), agents={"bump": slow}, store=store)

    async def cancel_mid_step() -> str:
        handle = await workflow.async_start(detach=True)
        await handle.async_step()
        task = asyncio.ensure_future(handle.async_step())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert (handle.status, handle.seq) == ("running", 1)
        return handle.run_id

    run_id = asyncio.run(cancel_mid_step())
    assert store.get_run(run_id).seq == 1
    handle = asyncio.run(workflow.run(run_id).async_resume())
    assert (handle.status, handle.context_json["items"]) == ("completed", [5, 10])
    assert [record.attempt for record in handle.history()[1:]] == [1, 1]


@pytest.mark.parametrize("driver", ["blocking", "async"])
def test_an_agents_own_timeout_error_is_its_failure_not_the_specs_timeout(
    store: Store, driver: str
) -> None:
    """A TimeoutError the agent raises (a socket's, an HTTP client's) long before the spec's
    timeout is reported as that error, not as "no result within its timeout"."""
    text = COUNTER.replace("retry: {attempts: 2}", "retry: 1, timeout: 30")

    def upstream_timeout(inputs: Any, call: AgentCall) -> dict[str, object]:
        raise TimeoutError("upstream API: read timed out")

    workflow = Workflow.from_spec(
        checked_from_text(text, "t.yaml"), agents={"bump": upstream_timeout}, store=store
    )
    handle = workflow.start() if driver == "blocking" else asyncio.run(workflow.async_start())
    assert handle.status == "failed"
    assert handle.error is not None
    assert "TimeoutError: upstream API: read timed out" in handle.error
    assert "within its timeout" not in handle.error


@pytest.mark.parametrize("driver", ["blocking", "async"])
def test_a_sync_agent_returning_a_coroutine_is_awaited_under_a_timeout(
    store: Store, driver: str
) -> None:
    """A plain function that returns a coroutine (a lambda around an async def) works with a
    timeout from both drivers: the coroutine is awaited, not validated as the output."""
    text = COUNTER.replace("retry: {attempts: 2}", "retry: 1, timeout: 5")

    async def bump_later(inputs: Any, call: AgentCall) -> dict[str, object]:
        await asyncio.sleep(0)
        return {"value": inputs.value + 5}

    workflow = Workflow.from_spec(
        checked_from_text(text, "t.yaml"),
        agents={"bump": lambda inputs, call: bump_later(inputs, call)},  # noqa: PLW0108 - not async def
        store=store,
    )
    handle = workflow.start() if driver == "blocking" else asyncio.run(workflow.async_start())
    assert (handle.status, handle.context_json["items"]) == ("completed", [5, 10])


def test_sync_timeout_abandons_the_call(store: Store) -> None:
    """A sync agent over its timeout fails the attempt without blocking the run."""
    import threading

    text = COUNTER.replace("retry: {attempts: 2}", "retry: 1, timeout: 0.02")
    release = threading.Event()

    def stuck(inputs: Any, call: AgentCall) -> dict[str, object]:
        release.wait(2)
        return {"value": 1}

    workflow = Workflow.from_spec(
        checked_from_text(text, "t.yaml"), agents={"bump": stuck}, store=store
    )
    handle = workflow.start()
    release.set()
    assert handle.status == "failed"
    assert handle.error is not None
    assert "timeout" in handle.error


def test_spec_change_is_refused_unless_allowed(store: Store) -> None:
    """A run is pinned to its spec hash; another spec text needs allow_spec_change."""
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    handle = workflow.start(max_steps=2)
    changed = checked_from_text(COUNTER.replace("max_steps: 40", "max_steps: 41"), "counter.yaml")
    other = Workflow.from_spec(changed, agents={"bump": bump}, store=store)
    with pytest.raises(RunError, match="--allow-spec-change"):
        other.run(handle.run_id)
    with pytest.raises(RunError, match="allow-spec-change"):
        other.fork(handle.run_id, 1)
    reopened = other.run(handle.run_id, allow_spec_change=True)
    assert reopened.seq == 2


def test_a_run_error_names_the_run_it_is_about(store: Store) -> None:
    """Each RunError about an existing run carries its id in ``run_id`` (as StoreError
    does), so a caller handling many runs need not parse the message; one about a run not
    created yet (bad start options) has None."""
    workflow = Workflow.from_spec(gated(), agents={"worker": work}, store=store)
    handle = workflow.start()
    changed = checked_from_text(GATED.replace("max_steps: 30", "max_steps: 31"), "gated.yaml")
    other = Workflow.from_spec(changed, agents={"worker": work}, store=store)
    calls = [
        lambda: handle.send("launch"),
        lambda: workflow.fork(handle.run_id, 99),
        lambda: other.run(handle.run_id),
        lambda: other.fork(handle.run_id, 1),
    ]
    for call in calls:
        with pytest.raises(RunError) as caught:
            call()
        assert caught.value.run_id == handle.run_id, caught.value
    handle.send("go", {"by": "boss"})
    with pytest.raises(RunError, match="not waiting") as caught:
        handle.send("go", {"by": "boss"})
    assert caught.value.run_id == handle.run_id
    with pytest.raises(RunError, match="max_steps must be an integer") as caught:
        workflow.start(max_steps=0)
    assert caught.value.run_id is None


def test_fork_takes_its_own_step_limit(store: Store) -> None:
    """fork(max_steps=...) replaces the parent's limit; a bad one, or one the fork has already
    reached (it would stop at once), is refused before storing."""
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    parent = workflow.start(max_steps=4)
    assert parent.status == "failed"
    with pytest.raises(RunError, match="would stop at once") as refused:
        workflow.fork(parent.run_id, 4)
    assert refused.value.run_id == parent.run_id
    with pytest.raises(RunError, match="would stop at once"):
        workflow.fork(parent.run_id, 3, max_steps=3)
    assert workflow.fork(parent.run_id, 3).steps == 3  # one step left under the limit
    child = workflow.fork(parent.run_id, 4, max_steps=40).resume()
    assert (child.status, child.state, child.steps, child.max_steps) == ("completed", "end", 10, 40)
    for bad in (0, True, "9"):
        with pytest.raises(RunError, match="max_steps must be an integer"):
            workflow.fork(parent.run_id, 4, fork_id=f"bad-{bad}", max_steps=bad)  # type: ignore[arg-type]
    assert len(store.list_runs(None, 10)) == 3


def test_a_refused_forks_suggested_limit_lets_the_fork_run(store: Store) -> None:
    """A fork given a lower limit than the steps its seq had taken is refused with a command
    whose limit is past those steps: twice the given limit (8 here) would be refused again."""
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    parent = workflow.start(max_steps=40)
    with pytest.raises(RunError, match=r"--max-steps (\d+)`") as refused:
        workflow.fork(parent.run_id, 8, max_steps=4)
    match = re.search(r"--max-steps (\d+)`", str(refused.value))
    assert match is not None
    suggested = int(match[1])
    assert suggested == 12
    assert workflow.fork(parent.run_id, 8, max_steps=suggested).resume().status == "completed"


def test_fork_whose_context_breaks_the_changed_spec_creates_no_run(store: Store) -> None:
    """A fork under --allow-spec-change whose copied context the new spec refuses is an error
    saying the spec was edited, raised before anything is stored: no half-made run is left
    behind (leased, stuck at seq 0, for workers to trip over). Reopening the run says so too."""
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    handle = workflow.start(max_steps=3)
    changed = checked_from_text(
        COUNTER.replace("value: {type: int, default: 0}", "value: {type: int, default: 0, max: 1}"),
        "counter.yaml",
    )
    other = Workflow.from_spec(changed, agents={"bump": bump}, store=store)
    edited = r"context of run .* does not fit counter.yaml as edited since the run started"
    with pytest.raises(RunError, match=edited + r" \(Context: context.value: "):
        other.fork(handle.run_id, 2, fork_id="child", allow_spec_change=True, lease=("me", 60))
    assert [run.run_id for run in store.list_runs(None, 10)] == [handle.run_id]
    with pytest.raises(RunError, match=edited):
        other.run(handle.run_id, allow_spec_change=True)


UNWRITTEN = """
workflow: unwritten
contracts:
  Out: {v: int}
context:
  r: Out?
agents:
  w: {input: {}, output: Out}
  u: {input: {r: r?}, output: Out}
states:
  first: {agent: w}
  gate: {wait: [go]}
  using: {agent: u, writes: {r: .}}
  done: {final: true}
initial: first
transitions:
  first: [{to: gate}]
  gate: [{on: go, to: using}]
  using: [{to: done}]
"""


def test_a_run_missing_a_field_the_changed_spec_proves_set_is_refused(store: Store) -> None:
    """The edit makes 'first' write r and 'using' read it as certainly set; a run waiting at
    'gate' under the old spec holds r = None. Reopening or forking it under the edit is a
    RunError naming the field; it used to open, and its next step raised a bare ContractError
    ("UInput: u.input.r: expected an Out object, got None") on every resume."""
    agents = {"w": lambda i, c: {"v": 1}, "u": lambda i, c: {"v": 2}}
    handle = Workflow.from_spec(
        checked_from_text(UNWRITTEN, "unwritten.yaml"), agents=agents, store=store
    ).start()
    assert (handle.status, handle.state, handle.context_json) == ("waiting", "gate", {"r": None})
    edited = UNWRITTEN.replace("u: {input: {r: r?}", "u: {input: {r: r}").replace(
        "first: {agent: w}", "first: {agent: w, writes: r}"
    )
    other = Workflow.from_spec(
        checked_from_text(edited, "unwritten.yaml"), agents=agents, store=store
    )
    refused = (
        r"run .* is in state 'gate', where unwritten.yaml as edited since the run started has"
        r" 'r' set on every path, but the run's context holds None there"
    )
    with pytest.raises(RunError, match=refused):
        other.run(handle.run_id, allow_spec_change=True)
    with pytest.raises(RunError, match=refused):
        other.fork(handle.run_id, 1, fork_id="child", allow_spec_change=True)
    assert [run.run_id for run in store.list_runs(None, 10)] == [handle.run_id]
    completed = Workflow.from_spec(
        checked_from_text(UNWRITTEN, "unwritten.yaml"), agents=agents, store=store
    ).run(handle.run_id)
    completed.send("go")
    assert other.run(handle.run_id, allow_spec_change=True).status == "completed"


def _with_bonus(bonus: str, *edits: tuple[str, str]) -> CheckedSpec:
    """GATED edited to add a context field ``bonus`` (its declaration given), and more."""
    edited = GATED.replace("ack: Ack?", f"ack: Ack?\n  bonus: {bonus}")
    for old, new in edits:
        assert old in edited
        edited = edited.replace(old, new)
    return checked_from_text(edited, "gated.yaml")


def test_a_context_field_added_with_a_default_reaches_a_continued_runs_agent(
    store: Store,
) -> None:
    """The edit adds ``bonus`` (default 4) and feeds it to the worker. A run waiting under the
    old spec, reopened or forked under the edit, holds the default like a new run: its
    agent's input used to be read from the stored JSON, which has no ``bonus``, and every
    step failed with "WorkerInput: worker.input.n: expected int, got None"."""
    handle = Workflow.from_spec(gated(), agents={"worker": work}, store=store).start()
    assert (handle.status, handle.state) == ("waiting", "gate")
    seen: list[int] = []

    def worker(inputs: Any, call: AgentCall) -> dict[str, object]:
        seen.append(inputs.n)
        return {"n": 9, "tag": "x"}

    edited = _with_bonus("{type: int, default: 4}", ("input: {n: n}", "input: {n: bonus}"))
    other = Workflow.from_spec(edited, agents={"worker": worker}, store=store)
    child = other.fork(handle.run_id, handle.seq, fork_id="child", allow_spec_change=True)
    assert child.context_json["bonus"] == 4
    assert other.history("child")[0].frame["context"]["bonus"] == 4  # type: ignore[index]
    continued = other.run(handle.run_id, allow_spec_change=True)
    assert continued.context_json["bonus"] == 4
    for run in (continued, child):
        run.send("go", {"by": "intern"})
        assert (run.status, run.state) == ("waiting", "gate")
    assert seen == [4, 4]


def test_replay_under_an_edit_adding_a_field_matches_the_run_continued_under_it(
    store: Store,
) -> None:
    """The edit adds ``bonus`` (default "intern") and writes the sender of ``go`` into it. The
    run continued under the edit writes "intern" there, its value already: no change, as
    for a new run. Replayed against the edit, the start context holds the default too, so
    the replay agrees instead of reporting a change to ``bonus`` the run never recorded."""
    handle = Workflow.from_spec(gated(), agents={"worker": work}, store=store).start()
    edited = _with_bonus(
        '{type: str, default: "intern"}',
        ("go: {data: Ack, writes: ack}", "go: {data: Ack, writes: {ack: ., bonus: by}}"),
    )
    other = Workflow.from_spec(edited, agents={"worker": work}, store=store)
    continued = other.run(handle.run_id, allow_spec_change=True)
    continued.send("go", {"by": "intern"})
    assert other.history(handle.run_id)[4].changes == {"ack": {"by": "intern"}}
    report = other.replay(handle.run_id)
    assert report.divergence is None
    assert report.matched == report.records == continued.seq


_GATE_WAITS = "  gate:\n    wait:\n      go: {data: Ack, writes: ack}\n      stop: null\n"
_GATE_ROUTES = (
    "  gate:\n    - {on: go, to: done, when: \"ack is not None and ack.by == 'boss'\", "
    "name: boss_says_go}\n    - {on: go, to: working, name: back_to_work}\n"
    "    - {on: stop, to: broken}\n"
)


def test_a_run_whose_state_the_edit_no_longer_makes_wait_is_refused(store: Store) -> None:
    """The edit turns the wait state 'gate' into a route state. A run waiting there used to
    reopen as waiting for events nothing delivers (resume did nothing; ``send`` failed an
    internal assertion): reopening it is a RunError pointing to a fork, which takes 'gate'
    as the edit has it."""
    handle = Workflow.from_spec(gated(), agents={"worker": work}, store=store).start()
    assert (handle.status, handle.state, handle.seq) == ("waiting", "gate", 3)
    edited = GATED.replace(_GATE_WAITS, "  gate: {}\n").replace(
        _GATE_ROUTES, "  gate:\n    - {to: done}\n"
    )
    other = Workflow.from_spec(
        checked_from_text(edited, "gated.yaml"), agents={"worker": work}, store=store
    )
    refused = (
        r"run .* is waiting in 'gate' for go, stop, but gated.yaml as edited since the run started"
        r" makes 'gate' a route state, so the run could not go on; .* \(`fsm fork .* --at 3"
        r" --allow-spec-change`\)"
    )
    with pytest.raises(RunError, match=refused):
        other.run(handle.run_id, allow_spec_change=True)
    fork = other.fork(handle.run_id, 3, allow_spec_change=True).resume()
    assert (fork.status, fork.state) == ("completed", "done")
    assert store.get_run(handle.run_id).seq == 3


def test_a_running_run_whose_state_the_edit_makes_wait_is_refused(store: Store) -> None:
    """The edit makes 'working' wait for an event. A run queued there used to take its next
    step as a route with no transition, recording a failure that "no transition fired"."""
    handle = Workflow.from_spec(gated(), agents={"worker": work}, store=store).start(detach=True)
    edited = GATED.replace(
        "  working: {agent: worker, writes: {n: n, tag: tag, tags: tag}, on_error: broken}",
        "  working: {wait: [poke]}",
    ).replace(
        '    - {to: gate, when: "n >= 3", name: at_gate}\n'
        '    - {to: done, when: "n >= 3 and steps >= 0", name: shadowed}\n'
        "    - {to: working, name: again}\n",
        "    - {on: poke, to: gate}\n",
    )
    other = Workflow.from_spec(
        checked_from_text(edited, "gated.yaml"), agents={"worker": work}, store=store
    )
    with pytest.raises(
        RunError, match=r"is running in 'working', but .* makes 'working' wait for poke"
    ):
        other.run(handle.run_id, allow_spec_change=True)
    assert store.get_run(handle.run_id).seq == 0
    assert other.fork(handle.run_id, 0, allow_spec_change=True).waiting_for == ("poke",)


def test_an_event_the_edit_renamed_is_refused_not_an_internal_error(store: Store) -> None:
    """A run waiting for 'go' under a spec edited to call it 'proceed': sending 'go' is a
    RunError saying the edit takes no such event (it failed an assertion), nothing recorded."""
    handle = Workflow.from_spec(gated(), agents={"worker": work}, store=store).start()
    edited = GATED.replace("go: {data: Ack", "proceed: {data: Ack").replace(
        "on: go,", "on: proceed,"
    )
    other = Workflow.from_spec(
        checked_from_text(edited, "gated.yaml"), agents={"worker": work}, store=store
    )
    reopened = other.run(handle.run_id, allow_spec_change=True)
    with pytest.raises(
        RunError, match=r"takes no event 'go' there; .*`fsm fork .* --at 3"
    ) as caught:
        reopened.send("go", {"by": "boss"})
    assert caught.value.run_id == handle.run_id
    assert store.get_run(handle.run_id).seq == 3


def test_an_event_the_edit_added_to_a_waiting_state_names_the_fork_that_takes_it(
    store: Store,
) -> None:
    """A run waits for the events its state had when it started waiting. One the edit added
    is refused, saying so and naming the fork that takes it; it read only "'hold' is not
    one of them", though the spec in use declares it."""
    handle = Workflow.from_spec(gated(), agents={"worker": work}, store=store).start()
    edited = GATED.replace("      stop: null\n", "      stop: null\n      hold: null\n").replace(
        "    - {on: stop, to: broken}\n",
        "    - {on: stop, to: broken}\n    - {on: hold, to: broken}\n",
    )
    other = Workflow.from_spec(
        checked_from_text(edited, "gated.yaml"), agents={"worker": work}, store=store
    )
    reopened = other.run(handle.run_id, allow_spec_change=True)
    with pytest.raises(RunError, match=r"'hold' is not one of them \(the run started waiting"):
        reopened.send("hold")
    fork = other.fork(handle.run_id, 3, allow_spec_change=True)
    assert fork.send("hold").state == "broken"


def test_corrupted_record_is_reported_not_used(tmp_path: Path) -> None:
    """A record altered on disk fails its checksum: loading the run raises CorruptionError."""
    path = tmp_path / "runs.db"
    store = SqliteStore(path)
    workflow = Workflow.from_spec(counter(), agents={"bump": bump}, store=store)
    handle = workflow.start(max_steps=3)
    store.close()
    with sqlite3.connect(path) as db:
        payload = db.execute(
            "SELECT payload FROM snapshots WHERE run_id = ? AND seq = 3", (handle.run_id,)
        ).fetchone()[0]
        tampered = bytes(payload).replace(b'"value":3', b'"value":9')
        assert tampered != bytes(payload)
        db.execute(
            "UPDATE snapshots SET payload = ? WHERE run_id = ? AND seq = 3",
            (tampered, handle.run_id),
        )
    reopened = SqliteStore(path)
    try:
        with pytest.raises(CorruptionError, match="seq 3"):
            Workflow.from_spec(counter(), agents={"bump": bump}, store=reopened).run(handle.run_id)
    finally:
        reopened.close()


def test_python_agents_win_and_unknown_or_missing_agents_are_clear() -> None:
    """agents= overrides impl; a name the spec lacks or an agent without impl is an AgentError."""
    with pytest.raises(AgentError, match=r"agent 'bump' has no implementation.*agents="):
        Workflow.from_spec(counter(), store=MemoryStore())
    with pytest.raises(AgentError, match="declares no such agent"):
        Workflow.from_spec(counter(), agents={"bump": bump, "bumpp": bump}, store=MemoryStore())
    calls: list[str] = []

    def writer(inputs: Any, call: AgentCall) -> dict[str, object]:
        calls.append(call.agent)
        return {"title": "T", "body": "b", "word_count": 1, "revision": 1}

    workflow = Workflow.from_spec(
        SPECS / "content_pipeline.yaml", agents={"writer": writer}, store=MemoryStore()
    )
    workflow.start({"brief": {"topic": "override"}})
    assert calls[0] == "writer"
