"""``fsm worker``: claim runs from a shared store and advance them until stopped or idle.

Thin: opens the store, builds ``WorkerOptions`` from the flags, runs ``fsm.worker.Worker`` on an
asyncio loop. SIGTERM and SIGINT stop it gracefully (no new claims; each run in hand stops after
its current step and is released for another worker). Progress goes to stderr as log lines; the
summary goes to stdout (``--json`` for one object). A second Ctrl-C quits at once, without
waiting for the steps in flight (a slow agent call may take minutes).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from contextlib import closing
from pathlib import Path

import attrs
import click

from fsm.cli.output import counted, handled, print_json
from fsm.store import MemoryStore, open_store
from fsm.worker import Worker, WorkerOptions, WorkerReport, default_worker_id

_STORE_HELP = (
    "Store URL (default: $FSM_STORE, else sqlite:///<cwd>/.fsm/runs.db); use one"
    " postgresql:// URL for workers on several machines."
)


@click.command("worker")
@click.option("--store", "store_url", metavar="URL", help=_STORE_HELP)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Runs driven at once by this process.",
)
@click.option(
    "--lanes",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="Threads the runs are spread over, so several commits can be in flight at once.",
)
@click.option(
    "--lease",
    "lease_seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="Lease length; a dead worker's runs are taken over this long after its last heartbeat.",
)
@click.option(
    "--max-runs",
    type=click.IntRange(min=1),
    help="Exit after claiming this many runs (and finishing them).",
)
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0, min_open=True),
    metavar="SECONDS",
    help="Exit after this long with no runnable run (default: wait forever).",
)
@click.option("--worker-id", help="Name in leases (default: host:pid:random).")
@click.option("--quiet", "-q", is_flag=True, help="Log only warnings and errors.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@handled
def worker_command(
    *,
    store_url: str | None,
    concurrency: int,
    lanes: int,
    lease_seconds: float,
    max_runs: int | None,
    idle_exit: float | None,
    worker_id: str | None,
    quiet: bool,
    as_json: bool,
) -> None:
    """Claim runnable runs from the store and advance them, CONCURRENCY at a time.

    Start one per core, on as many machines as you like, against the same PostgreSQL store;
    runs of a worker that dies are taken over when its lease expires. Runs are created with
    `fsm run SPEC --detach`.
    """
    try:
        options = WorkerOptions(
            concurrency=concurrency,
            lanes=lanes,
            lease_seconds=lease_seconds,
            max_runs=max_runs,
            idle_exit=idle_exit,
            worker_id=worker_id or default_worker_id(),
        )
    except ValueError as error:  # the options' own checks, e.g. a worker id with a newline
        raise click.UsageError(str(error)) from None
    _configure_logging(quiet)
    with closing(open_store(store_url, cwd=Path.cwd())) as store:
        if isinstance(store, MemoryStore):
            # Why: runs are created by other processes, and none of them can reach it.
            raise click.UsageError(
                "a memory:// store is this process's alone, so no run would ever reach this"
                " worker; serve a sqlite or postgresql store"
            )
        report = asyncio.run(_work(Worker(store, options)))
    if as_json:
        print_json(attrs.asdict(report))
    else:
        click.echo(_summary(report))


EXIT_INTERRUPTED = 130
"""The shell's code for a process ended by Ctrl-C (128 + SIGINT)."""


async def _work(worker: Worker) -> WorkerReport:
    loop = asyncio.get_running_loop()
    stopping = False

    def on_signal(signum: int) -> None:
        """The first signal stops the worker gracefully and says so; a second Ctrl-C quits at
        once, since the graceful stop waits for every step in flight, however long."""
        nonlocal stopping
        if stopping and signum == signal.SIGINT:
            _quit_now(worker.worker_id)
        stopping = True
        _LOGGER.info(
            "%s: stopping: claiming nothing more, releasing each run after its current step"
            " (Ctrl-C again to quit at once)",
            worker.worker_id,
        )
        worker.stop()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        return await worker.run()
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


def _quit_now(worker_id: str) -> None:
    """End the process at once: the agent calls in flight run in threads that cannot be
    interrupted, and an orderly exit would wait for them. Their steps are not recorded; the
    runs stay leased until the lease lapses (another worker then takes them), or until
    `fsm resume` takes one over (at once under a default worker id: it names this process)."""
    _LOGGER.error(
        "%s: quit at once; the steps in flight were not recorded, and their runs go to another"
        " worker when the lease lapses",
        worker_id,
    )
    sys.stderr.flush()
    os._exit(EXIT_INTERRUPTED)


_LOGGER = logging.getLogger("fsm.worker")


def _configure_logging(quiet: bool) -> None:
    """Time-stamped lines on stderr for every ``fsm.*`` logger: the worker's own and the
    runtime's (an agent attempt that failed and is retried)."""
    logger = logging.getLogger("fsm")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


def _summary(report: WorkerReport) -> str:
    """One line, in the words of ``--json``'s keys. ``finished``, ``handed_back`` and
    ``lost`` count drives, ``claimed`` distinct runs: a run claimed again after it waited is
    driven (and finished) twice, so the line says drives, not runs."""
    return (
        f"worker {report.worker_id}: claimed {counted(report.claimed, 'run')}, took"
        f" {counted(report.steps, 'step')}; drives: {report.finished} finished (the run"
        f" waited, completed or failed), {report.handed_back} handed back, {report.lost} lost"
        f" to another worker; {report.parked} parked"
    )


def register(group: click.Group) -> None:
    group.add_command(worker_command)
