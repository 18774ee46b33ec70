"""Burr: an ``ApplicationBuilder`` app with ``expr``/``default`` conditions, persisted by
``SQLitePersister`` after every step.

Two routings: ``expr("score >= 0.8")``, the conditions issue 6 names (``burr``), and
``Condition.lmda``, a Python function as LangGraph's and ``transitions``' routing is
(``burr-lmda``). Burr's ``expr`` compiles its expression again at every evaluation (~18 µs of
an ~84 µs W1 step); both are measured, and the targets name both.

The persister gets a connection we opened in WAL mode at the benchmark's ``synchronous`` level
(by default it would use SQLite's rollback journal). Each ``Application.step()`` runs one
action, picks the next by its conditions and saves the whole state: one row per step. The notes
list is appended with ``State.append``, Burr's way to grow a list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from burr.core import ApplicationBuilder, Condition, State, action, default, expr
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


def build_app(workload: Workload, persister: SQLitePersister, routing: str = "expr") -> Any:
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
            ("reviewing", "published", _condition(routing)),
            ("reviewing", "drafting", default),
        )
        .with_state(**initial_context(workload))
        .with_entrypoint("drafting")
        .with_identifiers(app_id=APP_ID)
        .with_state_persister(persister)
        .build()
    )


def _condition(routing: str) -> Condition:
    """The reviewing -> published condition: ``expr`` text or a Python function."""
    if routing == "lmda":
        return Condition.lmda(_publishable, ["score"])
    return expr(f"score >= {PUBLISH_SCORE}")


def _context(state: State[Any], workload: Workload) -> dict[str, Any]:
    values = state.get_all()
    return {k: values[k] for k in _FIELDS + (["notes"] if workload.notes else [])}


def _found(loaded: PersistedStateData | None) -> PersistedStateData:
    assert loaded is not None, "the persister holds no state for the benchmark app"
    return loaded


def run_steps(db_path: Path, workload: Workload, sync: str, routing: str = "expr") -> StepRun:
    db = connect(db_path, sync, check_same_thread=False)
    persister = SQLitePersister(str(db_path), connection=db)
    persister.initialize()  # type: ignore[no-untyped-call]  # Burr leaves it unannotated
    app = build_app(workload, persister, routing)
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
