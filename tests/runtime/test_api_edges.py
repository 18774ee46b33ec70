"""Edges of the Python API found by review: misuse is refused, retries start clean, numbers keep
their sign, and classes of another Workflow of the same spec are taken."""

from __future__ import annotations

import asyncio
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from fsm import BlockingCallInEventLoopError
from fsm.errors import ConflictError, RunError
from fsm.runtime import AgentCall, Workflow
from fsm.spec.model import RetryPolicy
from fsm.spec.validate import checked_from_text
from fsm.store import MemoryStore, SqliteStore, Store

TWO_AGENTS = checked_from_text(
    """
workflow: two
max_steps: 20
contracts:
  Out: {text: str, n: float, items: list[str]}
context:
  items: {type: list[str], default: [a, b]}
  first: Out?
  second: Out?
  n: {type: float, default: 0.0}
agents:
  one: {input: {items: items}, output: Out, retry: {attempts: 2, backoff: 0}}
  two: {input: {items: items}, output: Out, timeout: 0.3}
states:
  s1: {agent: one, writes: {first: ., n: n}}
  s2: {agent: two, writes: {second: .}}
  done: {final: true}
initial: s1
transitions:
  s1: [{to: s2}]
  s2: [{to: done}]
""",
    "two.yaml",
)


def out(text: str, n: float = 1.0) -> dict[str, object]:
    return {"text": text, "n": n, "items": ["x"]}


def test_two_steps_gathered_on_one_handle_are_refused_not_interleaved() -> None:
    """The second concurrent async_step is a RunError; the run records only real steps (it
    used to record state two's transition with agent one's output)."""
    called: list[str] = []

    async def one(inputs: Any, call: AgentCall) -> dict[str, object]:
        called.append("one")
        await asyncio.sleep(0.01)
        return out("one")

    async def two(inputs: Any, call: AgentCall) -> dict[str, object]:
        called.append("two")
        return out("two")

    async def race(store: Store) -> list[object]:
        workflow = Workflow.from_spec(TWO_AGENTS, agents={"one": one, "two": two}, store=store)
        handle = await workflow.async_start(detach=True)
        results = await asyncio.gather(
            handle.async_step(), handle.async_step(), return_exceptions=True
        )
        await handle.async_advance()
        assert handle.status == "completed"
        history = store.history(handle.run_id)
        assert [(s.source, s.target) for s in history[1:]] == [("s1", "s2"), ("s2", "done")]
        assert handle.context_json["second"]["text"] == "two"
        return results

    store = MemoryStore()
    first, second = asyncio.run(race(store))
    assert first is not None
    assert not isinstance(first, BaseException)
    assert isinstance(second, RunError)
    assert second.run_id == store.list_runs()[0].run_id
    assert "a step of this handle is still in progress" in str(second)
    assert called == ["one", "two"]


def test_each_retry_gets_inputs_built_afresh_from_the_context() -> None:
    """An attempt that changed its input record and failed does not hand the change on."""
    seen: list[list[str]] = []

    def one(inputs: Any, call: AgentCall) -> dict[str, object]:
        seen.append(list(inputs.items))
        inputs.items.clear()
        if call.attempt == 1:
            raise RuntimeError("flaky")
        return out("one")

    workflow = Workflow.from_spec(
        TWO_AGENTS, agents={"one": one, "two": lambda i, c: out("two")}, store=MemoryStore()
    )
    handle = workflow.start()
    assert seen == [["a", "b"], ["a", "b"]]
    assert handle.status == "completed"
    assert handle.context_json["items"] == ["a", "b"]


def test_a_long_retry_policy_runs_every_attempt_and_records_the_last() -> None:
    """`retry: 1100` used to crash the step with OverflowError after attempt 1025 (the
    backoff's power overflowed, even with no backoff at all): the run stayed running, and a
    resume started the attempts over. The delay saturates at max_backoff instead."""
    policy = RetryPolicy(attempts=5000, backoff=0.5, multiplier=2, max_backoff=30)
    assert (policy.delay(1), policy.delay(3), policy.delay(4000)) == (0.5, 2.0, 30.0)
    assert RetryPolicy(attempts=5000).delay(4000) == 0.0
    text = """
workflow: flaky
contracts:
  Out: {n: int}
context:
  n: {type: int, default: 0}
agents:
  a: {input: {n: n}, output: Out, retry: 1100}
states:
  s: {agent: a, writes: {n: n}}
  e: {final: true}
initial: s
transitions:
  s:
    - {to: e}
"""

    def down(inputs: Any, call: AgentCall) -> object:
        raise RuntimeError("upstream down")

    store = MemoryStore()
    workflow = Workflow.from_spec(
        checked_from_text(text, "flaky.yaml"), agents={"a": down}, store=store
    )
    handle = workflow.start()
    assert handle.status == "failed"
    assert handle.history()[-1].attempt == 1100
    assert "(attempt 1100 of 1100): RuntimeError: upstream down" in (handle.error or "")


def test_the_blocking_api_inside_an_event_loop_is_refused_and_names_the_run_left_behind() -> None:
    """An async agent under `start()` inside a running loop: a usage error to the caller, not
    three failed attempts and an error route recorded against the agent."""

    async def one(inputs: Any, call: AgentCall) -> dict[str, object]:
        return out("one")

    store = MemoryStore()
    workflow = Workflow.from_spec(TWO_AGENTS, agents={"one": one, "two": one}, store=store)

    async def misuse() -> None:
        workflow.start()

    with pytest.raises(BlockingCallInEventLoopError, match="use async_start") as raised:
        asyncio.run(misuse())
    (run,) = store.list_runs()
    assert (run.status, run.seq) == ("running", 0)
    assert raised.value.run_id == run.run_id
    # The run was stored before the step: the error must not say nothing was, and must name
    # it, since start() never returned its handle.
    assert "nothing was recorded" not in str(raised.value)
    (note,) = raised.value.__notes__
    assert f"run {run.run_id} stays running in 's1' at seq 0" in note
    assert f"workflow.run({run.run_id!r}).async_resume()" in note


def test_a_raising_on_transition_names_the_committed_run() -> None:
    """The callback's own error reaches the caller, with a note naming the run and seq that
    were committed (a start whose callback raised left an unnamed run behind)."""
    store = MemoryStore()

    def refuse(snapshot: object) -> None:
        raise ValueError("observer down")

    workflow = Workflow.from_spec(
        TWO_AGENTS,
        agents={"one": lambda i, c: out("one"), "two": lambda i, c: out("two")},
        store=store,
        on_transition=refuse,
    )
    with pytest.raises(ValueError, match="observer down") as caught:
        workflow.start()
    (run,) = store.list_runs()
    assert any(f"run {run.run_id} seq 0 was committed" in note for note in caught.value.__notes__)


class _AsyncObserver:
    async def __call__(self, snapshot: object) -> None:
        raise AssertionError("never awaited")


async def _async_observer(snapshot: object) -> None:
    raise AssertionError("never awaited")


@pytest.mark.parametrize("hook", [_async_observer, _AsyncObserver(), "print"])
def test_an_on_transition_that_cannot_run_is_refused_before_any_run(
    hook: Any, tmp_path: Path
) -> None:
    """The runtime calls the hook without awaiting: an ``async def`` one silently did nothing
    (a coroutine dropped per record, one RuntimeWarning at most), and a non-callable failed
    after the start record was stored. Both are refused, before a store is opened."""
    url = f"sqlite:{tmp_path / 'r.db'}"
    with pytest.raises(TypeError, match="on_transition must be a"):
        Workflow.from_spec(TWO_AGENTS, store=url, on_transition=hook)
    assert not (tmp_path / "r.db").exists()
    agents = {"one": lambda i, c: out("one"), "two": lambda i, c: out("two")}
    compiled = Workflow.from_spec(TWO_AGENTS, agents=agents, store=MemoryStore()).compiled
    with pytest.raises(TypeError, match="on_transition must be a"):
        Workflow(compiled, MemoryStore(), on_transition=hook)


def test_an_on_transition_returning_a_coroutine_is_an_error_not_a_silent_no_op() -> None:
    """A lambda calling an ``async def`` cannot be told from a plain function beforehand; its
    coroutine, never awaited, is closed and reported like a hook that raised."""
    seen: list[int] = []

    async def publish(snapshot: Any) -> None:
        seen.append(snapshot.seq)

    def schedule(snapshot: Any) -> Any:
        return publish(snapshot)

    store = MemoryStore()
    workflow = Workflow.from_spec(
        TWO_AGENTS,
        agents={"one": lambda i, c: out("one"), "two": lambda i, c: out("two")},
        store=store,
        on_transition=schedule,
    )
    with pytest.raises(TypeError, match="on_transition returned an awaitable") as caught:
        workflow.start()
    (run,) = store.list_runs()
    assert any(f"run {run.run_id} seq 0 was committed" in note for note in caught.value.__notes__)
    assert seen == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_steps": 1.5}, "max_steps must be an integer of at least 1; got 1.5"),
        ({"max_steps": "3"}, "max_steps must be an integer of at least 1; got '3'"),
        ({"max_steps": True}, "max_steps must be an integer"),
        ({"run_id": ""}, "a run id must be a non-empty string; got ''"),
        ({"run_id": "a\x00b"}, "a run id must be printable text"),
        ({"run_id": "two\nlines"}, "a run id must be printable text"),
        ({"run_id": "cut\ud83d"}, "a run id must be printable text"),
        ({"run_id": "-x"}, "a run id must not start with '-'"),
    ],
)
def test_start_options_of_the_wrong_kind_are_refused(options: dict[str, Any], message: str) -> None:
    store = MemoryStore()
    workflow = Workflow.from_spec(TWO_AGENTS, agents={"one": out, "two": out}, store=store)
    with pytest.raises(RunError, match=message):
        workflow.start(detach=True, **options)
    assert store.list_runs() == []


@pytest.mark.parametrize("given", [[], [("a", 1)], "ab", 3])
def test_an_input_that_is_not_a_mapping_is_refused(given: Any) -> None:
    """`dict(input or {})` took an empty list as no input and a list of pairs as a mapping."""
    store = MemoryStore()
    workflow = Workflow.from_spec(TWO_AGENTS, agents={"one": out, "two": out}, store=store)
    with pytest.raises(RunError, match="a run's input is a mapping of context fields to values"):
        workflow.start(given, detach=True)
    assert store.list_runs() == []


def test_negative_zero_written_over_zero_is_a_change() -> None:
    """-0.0 equals 0.0 as a number but not as what the context holds: it is merged and
    recorded (it used to be dropped as unchanged)."""
    store = MemoryStore()
    workflow = Workflow.from_spec(
        TWO_AGENTS,
        agents={"one": lambda i, c: out("one", -0.0), "two": lambda i, c: out("two")},
        store=store,
    )
    handle = workflow.start()
    assert str(handle.context_json["n"]) == "-0.0"
    assert str(store.load_state(handle.run_id).context["n"]) == "-0.0"
    assert "n" in store.history(handle.run_id)[1].changes


def test_an_instance_of_another_workflows_class_for_the_contract_is_taken() -> None:
    """One agent serving two workflows of the same spec may return either's instances."""
    other = Workflow.from_spec(TWO_AGENTS, agents={"one": out, "two": out}, store=MemoryStore())
    foreign = other.compiled.converter.structure(out("foreign"), _out_type(), "Out")
    workflow = Workflow.from_spec(
        TWO_AGENTS,
        agents={"one": lambda i, c: foreign, "two": lambda i, c: out("two")},
        store=MemoryStore(),
    )
    handle = workflow.start()
    assert handle.status == "completed"
    assert handle.context_json["first"]["text"] == "foreign"


def _out_type() -> Any:
    return TWO_AGENTS.spec.agent("one").output_type  # type: ignore[union-attr]


def test_a_sync_agent_returning_a_coroutine_has_one_timeout_for_both_parts() -> None:
    """0.2 s in the thread and 0.2 s in the coroutine break a 0.3 s timeout (the coroutine
    used to get a fresh 0.3 s of its own)."""

    def two(inputs: Any, call: AgentCall) -> object:
        time.sleep(0.2)

        async def rest() -> dict[str, object]:
            await asyncio.sleep(0.2)
            return out("two")

        return rest()

    store = MemoryStore()
    workflow = Workflow.from_spec(
        TWO_AGENTS, agents={"one": lambda i, c: out("one"), "two": two}, store=store
    )
    handle = workflow.start()
    assert handle.status == "failed"
    assert "no result within its timeout of 0.3 s" in (handle.error or "")
    handle_async = asyncio.run(
        Workflow.from_spec(
            TWO_AGENTS, agents={"one": lambda i, c: out("one"), "two": two}, store=MemoryStore()
        ).async_start()
    )
    assert "no result within its timeout of 0.3 s" in (handle_async.error or "")


def test_a_run_created_leased_shows_its_lease_on_the_handle() -> None:
    store = MemoryStore()
    workflow = Workflow.from_spec(TWO_AGENTS, agents={"one": out, "two": out}, store=store)
    handle = workflow.start(detach=True, lease=("me", 30))
    assert handle.record.lease_owner == "me"
    assert handle.record == store.get_run(handle.run_id)


def test_a_conflict_between_two_handles_names_the_run_and_seq() -> None:
    """A handle that lost a seq to another raises ConflictError whose ``run_id`` and ``seq``
    say where (StoreError's documented fields), not only its message."""
    agents = {"one": lambda inputs, call: out("one"), "two": lambda inputs, call: out("two")}
    workflow = Workflow.from_spec(TWO_AGENTS, agents=agents, store=MemoryStore())
    run = workflow.start(detach=True)
    late = workflow.run(run.run_id)
    run.step()
    with pytest.raises(ConflictError, match="advanced by another process") as caught:
        late.step()
    assert (caught.value.run_id, caught.value.seq) == (run.run_id, 1)
    assert late.seq == 1


def test_workflow_and_store_reprs_say_what_they_are(tmp_path: Path) -> None:
    """Reprs name the workflow, its spec and where its runs live (a log line or a debugger
    showed ``<... object at 0x...>``)."""
    store = MemoryStore()
    agents = {"one": lambda inputs, call: out("one"), "two": lambda inputs, call: out("two")}
    workflow = Workflow.from_spec(TWO_AGENTS, agents=agents, store=store)
    assert repr(workflow) == "<Workflow two version 1 (two.yaml) on <MemoryStore 0 runs>>"
    store.close()
    assert repr(store) == "<MemoryStore closed>"
    with closing(SqliteStore(tmp_path / "runs.db")) as sqlite:
        assert repr(sqlite) == f"<SqliteStore {tmp_path / 'runs.db'}>"


def test_a_start_cut_short_names_the_run_it_created() -> None:
    """start() stores the run, then advances it: a caller whose start is cancelled (or hit by
    Ctrl-C) never gets the handle, so the error itself names the run and how to go on."""
    store = MemoryStore()

    async def slow(inputs: Any, call: AgentCall) -> dict[str, object]:
        await asyncio.sleep(30)
        return out("slow")

    workflow = Workflow.from_spec(TWO_AGENTS, agents={"one": slow, "two": slow}, store=store)
    caught: list[BaseException] = []

    async def caller() -> None:
        try:
            await workflow.async_start()
        except asyncio.CancelledError as error:
            caught.append(error)
            raise

    async def cancel_it() -> None:
        task = asyncio.create_task(caller())
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_it())
    (run,) = store.list_runs()
    (note,) = caught[0].__notes__
    assert f"run {run.run_id} was created and is running in 's1' at seq 0" in note
    assert f"workflow.run({run.run_id!r}).resume()" in note

    def interrupted(inputs: Any, call: AgentCall) -> dict[str, object]:
        raise KeyboardInterrupt

    workflow = Workflow.from_spec(TWO_AGENTS, agents={"one": interrupted, "two": slow}, store=store)
    with pytest.raises(KeyboardInterrupt) as raised:
        workflow.start()
    newest = store.list_runs()[0]
    assert newest.run_id != run.run_id
    assert f"run {newest.run_id} was created" in raised.value.__notes__[0]
