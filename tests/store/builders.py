"""Records for store tests: a run's start and its next transitions, consistent by construction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from fsm.store import Frame, JsonValue, RunRecord, RunStatus, Snapshot, new_run_id

SPEC_HASH = "ab" * 32


def new_run(
    run_id: str | None = None,
    *,
    context: Mapping[str, JsonValue] | None = None,
    state: str = "drafting",
    status: RunStatus = "running",
    created_at: float = 1000.0,
) -> tuple[RunRecord, Snapshot]:
    """A run at seq 0 and its start record (initial context as a frame, one visit)."""
    run_id = run_id or new_run_id()
    run = RunRecord(
        run_id=run_id,
        workflow="content_pipeline",
        spec_hash=SPEC_HASH,
        spec_path="specs/content_pipeline.yaml",
        status=status,
        state=state,
        created_at=created_at,
        updated_at=created_at,
    )
    frame = Frame(context=dict(context or {}), state=state, steps=0, visits={state: 1})
    start = Snapshot(
        run_id=run_id,
        seq=0,
        source=None,
        target=state,
        started_at=created_at,
        spec_hash=SPEC_HASH,
        status=status,
        frame=frame,
    )
    return run, start


def step(
    run: RunRecord,
    target: str,
    *,
    changes: Mapping[str, JsonValue] | None = None,
    appended: Mapping[str, Sequence[JsonValue]] | None = None,
    status: RunStatus | None = None,
    output: JsonValue = None,
    event: str | None = None,
    waiting_for: tuple[str, ...] = (),
    error: str | None = None,
    frame: Frame | None = None,
) -> tuple[Snapshot, RunRecord]:
    """The record of one transition from ``run``'s head and the head after it."""
    seq = run.seq + 1
    status = status or run.status
    snapshot = Snapshot(
        run_id=run.run_id,
        seq=seq,
        source=run.state,
        target=target,
        event=event,
        rule="default",
        changes=dict(changes or {}),
        appended={name: list(items) for name, items in (appended or {}).items()},
        output=output,
        error=error,
        started_at=run.updated_at,
        duration_ms=1.25,
        spec_hash=SPEC_HASH,
        status=status,
        frame=frame,
    )
    head = attrs.evolve(
        run,
        seq=seq,
        state=target,
        status=status,
        waiting_for=waiting_for,
        error=error,
        updated_at=run.updated_at + 1.0,
    )
    return snapshot, head
