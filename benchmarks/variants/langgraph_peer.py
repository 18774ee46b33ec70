"""LangGraph: a ``StateGraph`` with a conditional edge, checkpointed by ``SqliteSaver``.

The saver gets a connection we opened in WAL mode at the benchmark's ``synchronous`` level
(its own ``setup`` only sets WAL). ``durability="sync"`` makes every super-step's checkpoint
durable before the next step starts: one node per super-step here, so one checkpoint per step.
The notes list uses an ``operator.add`` reducer, LangGraph's way to append. The saver's
``setup`` (its tables) runs before any timing, as the other variants create or check theirs
when they open: otherwise LangGraph would pay it lazily in its first timed step or load.
"""

from __future__ import annotations

import operator
import time
from pathlib import Path
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import CheckpointTuple
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph

from benchmarks.measure import LoadRun, StepRun, connect, intervals, pragmas, time_load
from benchmarks.workloads import PUBLISH_SCORE, Workload, initial_context, review, write

THREAD: RunnableConfig = {"configurable": {"thread_id": "bench"}}


class LoopState(TypedDict):
    topic: str
    target: int
    title: str
    revision: int
    score: float


class NotesState(LoopState):
    notes: Annotated[list[str], operator.add]


def build_graph(workload: Workload, saver: SqliteSaver) -> Any:
    notes = workload.notes

    def drafting(state: Any) -> dict[str, Any]:
        return _as_update(write(state["topic"], state["revision"], notes))

    def reviewing(state: Any) -> dict[str, Any]:
        return _as_update(review(state["revision"], state["target"], notes))

    def after_review(state: Any) -> str:
        return "published" if state["score"] >= PUBLISH_SCORE else "drafting"

    graph = StateGraph(NotesState if notes else LoopState)
    graph.add_node("drafting", drafting)
    graph.add_node("reviewing", reviewing)
    graph.add_edge(START, "drafting")
    graph.add_edge("drafting", "reviewing")
    graph.add_conditional_edges(
        "reviewing", after_review, {"published": END, "drafting": "drafting"}
    )
    return graph.compile(checkpointer=saver)


def _as_update(output: dict[str, Any]) -> dict[str, Any]:
    update = dict(output)
    if "note" in update:
        update["notes"] = [update.pop("note")]
    return update


def run_steps(db_path: Path, workload: Workload, sync: str) -> StepRun:
    db = connect(db_path, sync, check_same_thread=False)
    saver = SqliteSaver(db)
    saver.setup()
    app = build_graph(workload, saver)
    config: RunnableConfig = {**THREAD, "recursion_limit": workload.steps + 10}
    clock = time.perf_counter
    marks = []
    began = clock()
    for _ in app.stream(
        initial_context(workload), config, stream_mode="updates", durability="sync"
    ):
        marks.append(clock())
    marks[-1] = clock()  # the stream ends after the last checkpoint is written
    assert len(marks) == workload.steps, len(marks)
    final = dict(app.get_state(THREAD).values)
    journal, synchronous = pragmas(db)
    db.close()
    return StepRun(intervals(began, marks), journal, synchronous, final)


def _found(loaded: CheckpointTuple | None) -> CheckpointTuple:
    assert loaded is not None, "the saver holds no checkpoint for the benchmark thread"
    return loaded


def load_head(db_path: Path, workload: Workload) -> LoadRun:
    db = connect(db_path, "normal", check_same_thread=False)
    saver = SqliteSaver(db)
    saver.setup()
    try:
        return time_load(
            lambda: saver.get_tuple(THREAD),
            lambda loaded: dict(_found(loaded).checkpoint["channel_values"]),
        )
    finally:
        db.close()
