"""``fsm copy``: move runs with their whole history to another store (SQLite to PostgreSQL).

Thin: opens both stores and calls ``fsm.store.copy_run`` per run, one run's error not stopping
the others. Copying again is safe: a complete copy is reported as already there, an interrupted
one is finished.
"""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import click

from fsm.cli.output import EXIT_FAILED, counted, fail, handled, print_json
from fsm.cli.run_commands import dead_holder, ended_here
from fsm.errors import FsmError, NotFoundError
from fsm.store import MemoryStore, RunRecord, RunStatus, Store, copy_run, open_store
from fsm.store.transfer import COPY_LEASE_SECONDS, COPY_PREFIX, copy_owner
from fsm.worker.options import PARKED

_UNFINISHED: tuple[RunStatus, ...] = ("running", "waiting")


@click.command("copy")
@click.argument("run_ids", nargs=-1, metavar="[RUN_ID]...")
@click.option(
    "--to",
    "target_url",
    required=True,
    metavar="URL",
    help="The store to copy into, e.g. postgresql://user@host/db.",
)
@click.option("--unfinished", is_flag=True, help="Copy every running and waiting run.")
@click.option("--all", "every_run", is_flag=True, help="Copy every run, finished ones too.")
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="The store to copy from (default: $FSM_STORE, else sqlite:///<cwd>/.fsm/runs.db).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one entry per run.")
@handled
def copy_command(
    *,
    run_ids: tuple[str, ...],
    target_url: str,
    unfinished: bool,
    every_run: bool,
    store_url: str | None,
    as_json: bool,
) -> None:
    """Copy runs with their whole history into the store at --to (from SQLite to PostgreSQL
    when one machine is no longer enough).

    \b
    Name the runs, or take every running and waiting one (--unfinished) or every run (--all):
      fsm copy --unfinished --to postgresql://fsm@db.internal/flows

    Each copy keeps its run id and every record, so history, show, replay, fork and send work
    on it as on the original; workers serving --to take a copied running run up once it is
    complete. The original stays as it was: stop every process using it first, and afterwards
    continue each run in one store only (advanced in both, its agents would be called twice).
    Copying again is safe: a run copied whole before is reported as already there, and a copy
    that was interrupted is finished. Exits 1 if any run could not be copied.
    """
    chosen = sum((bool(run_ids), unfinished, every_run))
    if chosen != 1:
        raise click.UsageError("name the runs to copy, or pass --unfinished or --all (one of them)")
    cwd = Path.cwd()
    with (
        closing(open_store(store_url, cwd=cwd, existing=True)) as source,
        closing(open_store(target_url, cwd=cwd)) as target,
    ):
        if isinstance(target, MemoryStore):
            # Why: every run was reported "copied" into a store that ended with the command.
            raise click.UsageError(
                "--to names a memory:// store, which ends with this command: nothing copied"
                " there would remain; copy into a sqlite or postgresql store"
            )
        if not run_ids:
            run_ids = tuple(run.run_id for run in _runs(source, unfinished))
        outcomes: list[dict[str, object]] = []
        try:
            for run_id in run_ids:
                outcomes.append(_copy_one(source, target, run_id))
        except KeyboardInterrupt:
            # Why: click's bare "Aborted!" left the user wondering what the target now holds.
            done = len(outcomes)
            fail(
                f"interrupted while copying run {run_ids[done]} ({done} of {len(run_ids)}"
                " done); the original is unchanged: run the same `fsm copy` again, which"
                " reports the runs already there and finishes the half copy"
            )
    failed = [outcome for outcome in outcomes if outcome["result"] == "failed"]
    if as_json:
        print_json(outcomes)
    elif not outcomes:
        click.echo("no running or waiting runs to copy" if unfinished else "no runs to copy")
    else:
        for outcome in outcomes:
            click.echo(_line(outcome))
        copied = sum(outcome["result"] == "copied" for outcome in outcomes)
        click.echo(f"{counted(copied, 'run')} copied of {len(outcomes)}")
    if failed:
        raise SystemExit(EXIT_FAILED)


def _runs(store: Store, unfinished: bool) -> list[RunRecord]:
    """Oldest first, so the target lists them in the order the source does."""
    statuses: tuple[RunStatus | None, ...] = _UNFINISHED if unfinished else (None,)
    runs = [run for status in statuses for run in store.list_runs(status, limit=2**63 - 1)]
    return sorted(runs, key=lambda run: (run.created_at, run.run_id))


def _copy_one(source: Store, target: Store, run_id: str) -> dict[str, object]:
    """Copy one run; what happened, as a JSON-ready record (an error is a result too: the
    other runs are still copied)."""
    try:
        before = _head_or_none(target, run_id)  # first: a failure here leaves no lease behind
        _free_abandoned_lease(source, run_id)
        head = copy_run(source, target, run_id)
    except FsmError as error:
        return {"run_id": run_id, "result": "failed", "error": str(error)}
    return _outcome(head, "already there" if head == before else "copied")


def _head_or_none(store: Store, run_id: str) -> RunRecord | None:
    try:
        return store.get_run(run_id)
    except NotFoundError:
        return None


def _free_abandoned_lease(store: Store, run_id: str) -> None:
    """A lease left by a killed command or copy, or by a worker that parked the run, holds
    nothing back: hand it to this copy, as `fsm resume` takes such a lease over (in one write,
    so no worker claims the run in between)."""
    holder = store.get_run(run_id).lease_owner
    if holder is not None and _abandoned(holder):
        store.hand_over(run_id, holder, copy_owner(), COPY_LEASE_SECONDS)


def _abandoned(holder: str) -> bool:
    if holder.startswith(COPY_PREFIX):  # ``fsm-copy:host:pid``: a copy killed half-way
        host, _, pid = holder.removeprefix(COPY_PREFIX).partition(":")
        return ended_here(host, pid)
    return holder.startswith(PARKED) or dead_holder(holder)


def _outcome(head: RunRecord, result: str) -> dict[str, object]:
    return {
        "run_id": head.run_id,
        "result": result,
        "workflow": head.workflow,
        "status": head.status,
        "state": head.state,
        "seq": head.seq,
    }


def _line(outcome: dict[str, object]) -> str:
    if outcome["result"] == "failed":
        return f"{outcome['run_id']}  not copied: {outcome['error']}"
    return (
        f"{outcome['run_id']}  {outcome['result']}: {outcome['workflow']} {outcome['status']} "
        f"in {outcome['state']} at seq {outcome['seq']}"
    )


def register(group: click.Group) -> None:
    group.add_command(copy_command)
