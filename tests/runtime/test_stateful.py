"""Hypothesis state machine: steps, crashes (before or after a commit) and resumes in any order
end exactly like one uninterrupted run."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from fsm.runtime import AgentCall, RunHandle, Workflow
from fsm.store import MemoryStore, RunRecord, Snapshot

from .specs import gated


class SimulatedCrashError(Exception):
    """The process 'dies' inside the store call."""


class CrashingStore(MemoryStore):
    """A memory store whose next append can die before or after it commits."""

    crash: str | None = None

    def append(self, snapshot: Snapshot, run: RunRecord) -> None:
        mode, self.crash = self.crash, None
        if mode == "before":
            raise SimulatedCrashError
        super().append(snapshot, run)
        if mode == "after":
            raise SimulatedCrashError


def work(inputs: Any, call: AgentCall) -> dict[str, object]:
    return {"n": inputs.n + 1, "tag": f"t{inputs.n + 1}"}


def answer(handle: RunHandle) -> tuple[str, dict[str, str]]:
    """The scripted event: the first gate visit gets an intern, the second the boss."""
    return "go", {"by": "intern" if handle.visits.get("gate", 0) == 1 else "boss"}


def drive(handle: RunHandle) -> None:
    while handle.status in ("running", "waiting"):
        if handle.status == "waiting":
            handle.send(*answer(handle))
        else:
            handle.advance()


def reference() -> tuple[list[tuple[object, ...]], dict[str, object]]:
    workflow = Workflow.from_spec(gated(), agents={"worker": work}, store=MemoryStore())
    handle = workflow.start(run_id="ref", detach=True)
    drive(handle)
    return [_summary(s) for s in handle.history()], handle.context_json


def _summary(snapshot: Snapshot) -> tuple[object, ...]:
    return (snapshot.seq, snapshot.source, snapshot.target, snapshot.rule, dict(snapshot.changes))


SPEC = gated()
EXPECTED_HISTORY, EXPECTED_CONTEXT = reference()


class CrashResume(RuleBasedStateMachine):
    """One run under steps, crashes and resumes; the store never diverges from the reference."""

    def __init__(self) -> None:
        super().__init__()
        self.store = CrashingStore(frame_interval=3)
        self.handle: RunHandle | None = self._workflow().start(run_id="r", detach=True)

    def _workflow(self) -> Workflow:
        return Workflow.from_spec(SPEC, agents={"worker": work}, store=self.store)

    @precondition(lambda self: self.handle is not None)
    @rule()
    def step(self) -> None:
        assert self.handle is not None
        if self.handle.status == "waiting":
            self.handle.send(*answer(self.handle))
        else:
            self.handle.step()

    @precondition(lambda self: self.handle is not None)
    @rule(when=st.sampled_from(["before", "after"]))
    def crash_inside_a_step(self, when: str) -> None:
        assert self.handle is not None
        if self.handle.status not in ("running", "waiting"):
            return
        self.store.crash = when
        try:
            self.step()
        except SimulatedCrashError:
            self.handle = None  # the process is gone; only the store remains
        self.store.crash = None

    @rule()
    def crash_between_steps(self) -> None:
        self.handle = None

    @precondition(lambda self: self.handle is None)
    @rule()
    def resume(self) -> None:
        self.handle = self._workflow().run("r")

    @invariant()
    def store_holds_a_prefix_of_the_uninterrupted_run(self) -> None:
        history = [_summary(s) for s in self.store.history("r")]
        assert history == EXPECTED_HISTORY[: len(history)]
        if self.handle is not None:
            assert self.handle.seq == len(history) - 1
            assert self.handle.context_json == self.store.load_state("r").context

    def teardown(self) -> None:
        handle = self.handle or self._workflow().run("r")
        drive(handle)
        assert [_summary(s) for s in self.store.history("r")] == EXPECTED_HISTORY
        assert handle.context_json == EXPECTED_CONTEXT


CrashResume.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestCrashResume = CrashResume.TestCase
