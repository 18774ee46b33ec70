"""``RunHandle``: one run, driven step by step, blocking or on an event loop.

``step()`` (and ``async_step()``) advance the run by exactly one transition; ``advance``,
``resume`` and ``send`` are loops over it. Every step is persisted before the handle changes, so
dropping a handle at any point loses nothing: ``Workflow.run(run_id)`` reopens it from the store.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

from fsm.errors import BlockingCallInEventLoopError, ConflictError, RunError
from fsm.runtime.compiled import CompiledWorkflow
from fsm.runtime.invoke import call_agent, call_agent_async
from fsm.runtime.stepper import (
    LiveRun,
    commit_agent,
    commit_event,
    for_caller,
    prepare,
    started,
)
from fsm.spec.model import EventDef
from fsm.store import RunRecord, RunStatus, Snapshot, Store

OnTransition = Callable[[Snapshot], None]
"""Called with each record right after the store committed it (e.g. to print a line)."""

Loader = Callable[[str], LiveRun]


class RunHandle:
    """A run of a workflow. Not thread-safe: drive one run from one thread or task at a time."""

    def __init__(
        self,
        workflow: CompiledWorkflow,
        store: Store,
        live: LiveRun,
        load: Loader,
        on_transition: OnTransition | None = None,
    ) -> None:
        self._workflow = workflow
        self._store = store
        self._live = live
        self._load = load
        self._on_transition = on_transition
        self._stepping = False

    def __repr__(self) -> str:
        return f"<RunHandle {self.run_id} {self.status} in '{self.state}' after {self.steps} steps>"

    # What the run looks like now ------------------------------------------------------------

    @property
    def run_id(self) -> str:
        return self._live.record.run_id

    @property
    def record(self) -> RunRecord:
        return self._live.record

    @property
    def status(self) -> RunStatus:
        return self._live.record.status

    @property
    def state(self) -> str:
        return self._live.record.state

    @property
    def seq(self) -> int:
        return self._live.record.seq

    @property
    def steps(self) -> int:
        """Transitions taken (a fork counts its parent's too)."""
        return self._live.steps

    @property
    def visits(self) -> dict[str, int]:
        return dict(self._live.visits)

    @property
    def max_steps(self) -> int:
        return self._live.max_steps

    @property
    def waiting_for(self) -> tuple[str, ...]:
        return self._live.record.waiting_for

    @property
    def waiting_events(self) -> tuple[EventDef, ...]:
        """The events a waiting run accepts, with their data contracts (empty otherwise)."""
        if self.status != "waiting":
            return ()
        return self._workflow.states[self.state].events

    @property
    def error(self) -> str | None:
        return self._live.record.error

    @property
    def context_json(self) -> dict[str, object]:
        """The context as JSON-ready data (a copy: changing it changes nothing)."""
        return copy.deepcopy(self._live.context_json)

    @property
    def context(self) -> Any:
        """The context as an instance of the spec's ``Context`` class (a fresh copy)."""
        return self._workflow.context_instance(self._live.context_json)

    def history(self) -> list[Snapshot]:
        return self._store.history(self.run_id)

    def reload(self) -> RunHandle:
        """Re-read the run from the store (after another process advanced it)."""
        self._live = self._load(self.run_id)
        return self

    # Driving it ------------------------------------------------------------------------------

    def step(self) -> Snapshot | None:
        """Advance by one transition; None when the run is not ``running``."""
        snapshot = self._step()
        return None if snapshot is None else for_caller(snapshot)

    async def async_step(self) -> Snapshot | None:
        """``step`` on an event loop: async agents are awaited, backoff sleeps do not block."""
        snapshot = await self._async_step()
        return None if snapshot is None else for_caller(snapshot)

    def _step(self) -> Snapshot | None:
        """``step``, returning the record as committed (its frame is the live context's)."""
        live = self._live
        if live.record.status != "running":
            return None
        self._begin_step()
        try:
            when = started()
            prepared = prepare(self._workflow, live)
            outcome = None
            if prepared is not None:
                plan = prepared.plan
                outcome = call_agent(
                    plan.agent, prepared.inputs, prepared.call, prepared.validate, prepared.rebuild
                )
            snapshot = commit_agent(self._workflow, self._store, live, outcome, when)
        except ConflictError as error:
            raise self._conflict(error) from error
        except BlockingCallInEventLoopError as error:
            # ``start`` and ``send`` have already stored the run or the event by now: say which
            # run is left where, or the caller holds neither its id nor a way back to it.
            error.add_note(
                f"run {self.run_id} stays {self.status} in '{self.state}' at seq {self.seq}"
                f" (its records so far are kept); continue it from async code:"
                f" await workflow.run({self.run_id!r}).async_resume()"
            )
            raise
        finally:
            self._stepping = False
        return self._notify(snapshot)

    async def _async_step(self) -> Snapshot | None:
        live = self._live
        if live.record.status != "running":
            return None
        self._begin_step()
        try:
            when = started()
            prepared = prepare(self._workflow, live)
            outcome = None
            if prepared is not None:
                plan = prepared.plan
                outcome = await call_agent_async(
                    plan.agent, prepared.inputs, prepared.call, prepared.validate, prepared.rebuild
                )
            snapshot = commit_agent(self._workflow, self._store, live, outcome, when)
        except ConflictError as error:
            raise self._conflict(error) from error
        finally:
            self._stepping = False
        return self._notify(snapshot)

    def advance(self, max_steps: int | None = None) -> RunHandle:
        """Step until the run waits, completes or fails (or after ``max_steps`` transitions)."""
        taken = 0
        while max_steps is None or taken < max_steps:
            if self._step() is None:
                break
            taken += 1
        return self

    async def async_advance(self, max_steps: int | None = None) -> RunHandle:
        taken = 0
        while max_steps is None or taken < max_steps:
            if await self._async_step() is None:
                break
            taken += 1
        return self

    def resume(self) -> RunHandle:
        """Continue from the last committed transition. A step in flight when the previous
        process died is run again (its agent call included): at-least-once for agents, exactly
        once for transitions. Waiting, completed and failed runs are returned unchanged."""
        return self.advance()

    async def async_resume(self) -> RunHandle:
        return await self.async_advance()

    def send(self, event: str, data: object = None) -> RunHandle:
        """Deliver ``event`` (with ``data`` for its contract) to a waiting run, then advance."""
        self._deliver(event, data)
        return self.advance()

    def deliver(self, event: str, data: object = None) -> RunHandle:
        """``send`` without advancing: record the event's transition and leave the run where
        it lands (to workers, when they serve the store)."""
        self._deliver(event, data)
        return self

    async def async_send(self, event: str, data: object = None) -> RunHandle:
        self._deliver(event, data)
        return await self.async_advance()

    # Internals ---------------------------------------------------------------------------------

    def _deliver(self, event: str, data: object) -> None:
        live = self._live
        record = live.record
        if record.status != "waiting":
            hint = {
                "running": f"it is still running; resume it (`fsm resume {record.run_id}`)",
                "completed": "a completed run takes no more events; fork it to continue from an"
                " earlier step",
                "failed": "it has failed; fork it from an earlier step to try again",
            }.get(record.status, "")
            raise RunError(
                f"run {record.run_id} is {record.status} in state '{record.state}', not waiting "
                f"for an event: {hint}",
                run_id=record.run_id,
            )
        if event not in record.waiting_for:
            accepted = ", ".join(record.waiting_for)
            edited = ""
            if self._workflow.states[record.state].event(event) is not None:
                # Why: the edited spec takes it, so "not one of them" alone reads as a bug
                edited = (
                    f" (the run started waiting before its spec was edited to take it; fork it"
                    f" there under the edit to send it: `fsm fork {record.run_id} --at"
                    f" {record.seq} --allow-spec-change`)"
                )
            raise RunError(
                f"run {record.run_id} is waiting in state '{record.state}' for one of: "
                f"{accepted}; '{event}' is not one of them{edited}",
                run_id=record.run_id,
            )
        if self._workflow.states[record.state].event(event) is None:
            # Why: the run waits for what its spec said; one edited since (allow_spec_change)
            # may no longer take that event there, and routing it would have nothing to use.
            raise RunError(
                f"run {record.run_id} is waiting in state '{record.state}' for {event!r}, but"
                f" {self._workflow.checked.spec.path} as edited since the run started takes no"
                f" event {event!r} there; restore the spec the run was started with, or fork"
                f" the run under the edit (`fsm fork {record.run_id} --at {record.seq}"
                f" --allow-spec-change`)",
                run_id=record.run_id,
            )
        try:
            snapshot = commit_event(self._workflow, self._store, live, event, data)
        except ConflictError as error:
            raise self._conflict(error) from error
        self._notify(snapshot)

    def _begin_step(self) -> None:
        """Refuse a second step while one is in flight (two ``async_step`` calls gathered on
        one handle would record the second state's transition with the first one's output)."""
        if self._stepping:
            raise RunError(
                f"run {self.run_id}: a step of this handle is still in progress; await it before"
                " the next (one RunHandle drives one step at a time; use a handle per task)",
                run_id=self.run_id,
            )
        self._stepping = True

    def _notify(self, snapshot: Snapshot) -> Snapshot:
        if self._on_transition is not None:
            try:
                result = self._on_transition(for_caller(snapshot))
                if result is not None and inspect.isawaitable(result):
                    _refuse_awaitable(result)
            except Exception as error:
                error.add_note(
                    f"raised by on_transition after run {snapshot.run_id} seq {snapshot.seq} was"
                    f" committed; the run goes on from there (workflow.run({snapshot.run_id!r}))"
                )
                raise
        return snapshot

    def _conflict(self, error: ConflictError) -> ConflictError:
        """Reload after another process advanced the run, and say so."""
        seq = self.seq
        self.reload()
        return ConflictError(
            f"run {self.run_id} was advanced by another process (seq {seq} -> {self.seq}) "
            f"while this one was stepping; nothing was applied twice, and this handle has been "
            f"reloaded: the run is {self.status} in '{self.state}'",
            run_id=self.run_id,
            seq=error.seq,
        )


def _refuse_awaitable(result: object) -> None:
    """An ``on_transition`` that returned a coroutine (a lambda calling an ``async def``,
    which ``Workflow`` cannot tell from a plain function): nothing awaits it, so the hook
    would silently never run."""
    if inspect.iscoroutine(result):
        result.close()  # no "never awaited" warning on top of this error
    raise TypeError(
        "on_transition returned an awaitable, which the runtime never awaits (the hook would"
        " do nothing); make it a plain function that schedules its async work itself"
    )
