"""Burr: an ``ApplicationBuilder`` app with ``Condition.lmda``/``default`` conditions, persisted
by ``SQLitePersister`` after every step.

The routing is a Python function, as LangGraph's and ``transitions``' are (and ours' compiled
guard runs as fast as one, W5): Burr's ``expr`` helper compiles its expression again at every
evaluation, work the others do not do (it made Burr's median W1 step ~83 instead of ~66 µs).

The persister gets a connection we opened in WAL mode at the benchmark's ``synchronous`` level
(by default it would use SQLite's rollback journal). Each ``Application.step()`` runs one
action, picks the next by its conditions and saves the whole state: one row per step. The notes
list is appended with ``State.append``, Burr's way to grow a list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from burr.core import ApplicationBuilder, Condition, State, action, default
from burr.core.persistence import PersistedStateData, SQLitePersister

from benchmarks.measure import LoadRun, StepRun, connect, pragmas, time_load, timed_steps
from benchmarks.workloads import PUBLISH_SCORE, Workload, initial_context, review, write

APP_ID = "bench"
_FIELDS = ["topic", "target", "title", "revision", "score"]


def _apply(state: State[Any], output: dict[str, Any]) -> State[Any]:
    update = dict(output)
    note = update.pop("note", None)
    state = state.update(**update)
    return state if note is None else state.append(notes=note)


def _drafting(state: State[Any], notes: bool) -> State[Any]:
    return _apply(state, write(state["topic"], state["revision"], notes))


def _reviewing(state: State[Any], notes: bool) -> State[Any]:
    return _apply(state, review(state["revision"], state["target"], notes))


def _publishable(state: State[Any]) -> bool:
    return bool(state["score"] >= PUBLISH_SCORE)


@action(reads=[], writes=[])
def published(state: State[Any]) -> State[Any]:
    return state


def build_app(workload: Workload, persister: SQLitePersister) -> Any:
    notes = workload.notes
    appends = ["notes"] if notes else []
    drafting = action(reads=["topic", "revision"], writes=["title", "revision", *appends])
    reviewing = action(reads=["revision", "target"], writes=["score", *appends])
    return (
        ApplicationBuilder()  # type: ignore[no-untyped-call]  # Burr leaves it unannotated
        .with_actions(
            drafting=drafting(_drafting).bind(notes=notes),
            reviewing=reviewing(_reviewing).bind(notes=notes),
            published=published,
        )
        .with_transitions(
            ("drafting", "reviewing", default),
            ("reviewing", "published", Condition.lmda(_publishable, ["score"])),
            ("reviewing", "drafting", default),
        )
        .with_state(**initial_context(workload))
        .with_entrypoint("drafting")
        .with_identifiers(app_id=APP_ID)
        .with_state_persister(persister)
        .build()
    )


def _context(state: State[Any], workload: Workload) -> dict[str, Any]:
    values = state.get_all()
    return {k: values[k] for k in _FIELDS + (["notes"] if workload.notes else [])}


def _found(loaded: PersistedStateData | None) -> PersistedStateData:
    assert loaded is not None, "the persister holds no state for the benchmark app"
    return loaded


def run_steps(db_path: Path, workload: Workload, sync: str) -> StepRun:
    db = connect(db_path, sync, check_same_thread=False)
    persister = SQLitePersister(str(db_path), connection=db)
    persister.initialize()  # type: ignore[no-untyped-call]  # Burr leaves it unannotated
    app = build_app(workload, persister)
    times = timed_steps(app.step, workload.steps)
    assert app.get_next_action().name == "published"
    final = _context(app.state, workload)
    journal, synchronous = pragmas(db)
    db.close()
    return StepRun(times, journal, synchronous, final)


def load_head(db_path: Path, workload: Workload) -> LoadRun:
    db = connect(db_path, "normal", check_same_thread=False)
    persister = SQLitePersister(str(db_path), connection=db)
    try:
        return time_load(
            lambda: persister.load("", APP_ID),
            lambda loaded: _context(_found(loaded)["state"], workload),
        )
    finally:
        db.close()
