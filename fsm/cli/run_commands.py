"""``fsm run``, ``resume``, ``send``, ``runs``, ``history``, ``show`` and ``fork``.

Thin: each command opens the store, calls ``fsm.runtime``/``fsm.store`` and prints. Text output
is one line per transition as it commits, then a summary; ``--json`` prints one object instead.
A run that fails exits 1; bad input exits 1 (invalid data) or 2 (wrong usage).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager, suppress
from pathlib import Path

import attrs
import click

from fsm.cli.output import (
    EXIT_FAILED,
    counted,
    handled,
    json_echo,
    print_json,
    read_json_argument,
    silence_stdout,
)
from fsm.datatypes import (
    DataType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
)
from fsm.errors import ConflictError, ContractError, FsmError, RunError
from fsm.hosts import local_host
from fsm.runtime import AgentCall, RunHandle, Workflow
from fsm.spec.validate import load_checked
from fsm.store import RUN_STATUSES, MemoryStore, RunRecord, Snapshot, Store, open_store
from fsm.store.transfer import COPY_LEASE_SECONDS, COPY_PREFIX
from fsm.store.urls import ENV_VAR
from fsm.worker.options import PARKED, default_worker_id

_STORE_HELP = "Store URL (default: $FSM_STORE, else sqlite:///<cwd>/.fsm/runs.db)."
_store_option = click.option("--store", "store_url", metavar="URL", help=_STORE_HELP)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
_allow_option = click.option(
    "--allow-spec-change",
    is_flag=True,
    help="Continue a run although its spec file changed since it started.",
)
_spec_option = click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The run's spec file, if it is no longer where the run started (moved project, "
    "another machine); unless --allow-spec-change, it must be the same spec.",
)


@contextmanager
def _opened(store_url: str | None, *, existing: bool = True) -> Iterator[Store]:
    """The store of ``--store``; a SQLite file must exist unless ``existing`` is false (only
    for commands that create runs)."""
    with closing(open_store(store_url, cwd=Path.cwd(), existing=existing)) as store:
        yield store


def _printer(as_json: bool) -> Printer:
    return Printer(quiet=as_json)


class Printer:
    """Prints one line per committed record (the runtime's ``on_transition`` hook); ``after``
    runs after each one (renewing this process's lease on the run)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.after: Callable[[], object] | None = None

    def __call__(self, snapshot: Snapshot) -> None:
        if not self.quiet:
            line = transition_line(snapshot)
            if snapshot.source is None:  # named at once: a killed command prints no summary
                line += f"  (run {snapshot.run_id})"
            try:
                click.echo(line)
            except BrokenPipeError:
                # Why: the lines only report progress; a reader that stopped reading
                # (`| head -1`) must not abandon the run half-way, with its agents' work lost.
                self.quiet = True
                silence_stdout()
                click.echo(
                    f"note: stdout was closed; run {snapshot.run_id} goes on without printing"
                    " its steps",
                    err=True,
                )
        if self.after is not None:
            self.after()


CLI_LEASE_SECONDS = 60.0
"""How long a foreground command holds a run; a heartbeat renews it every third, so a worker
claims the run only if the lease lapses all the same (the process suspended, the store out
of reach); the command then reports that a worker continued."""


def dead_holder(holder: str) -> bool:
    """Whether a lease names a process of this machine that has ended (a command or worker
    killed mid-run): ``host:pid:random``, with an ``fsm-cli:`` prefix for commands. Its lease
    would otherwise keep ``fsm resume`` out until it expires."""
    parts = holder.removeprefix("fsm-cli:").split(":")
    return len(parts) == 3 and ended_here(parts[0], parts[1])


def ended_here(host: str, pid: str) -> bool:
    """Whether process ``pid`` of machine ``host`` is this machine's and has ended."""
    if host != local_host() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else (or the check is not allowed): alive
        return False
    return _zombie(int(pid))


def _killed_copy_source(run: RunRecord, store: Store) -> bool:
    """Whether ``run`` is leased by an ``fsm copy`` of this machine that was killed while
    copying *from* this store: its lease there lasts at most ``COPY_LEASE_SECONDS`` and the run
    is whole, so nothing holds it back. Its lease on a half copy in the target never lapses
    (that run is behind its source, and only copying again may finish it), so it never
    qualifies."""
    holder, expires = run.lease_owner, run.lease_expires_at
    if holder is None or expires is None or not holder.startswith(COPY_PREFIX):
        return False
    host, _, pid = holder.removeprefix(COPY_PREFIX).partition(":")
    return expires - store.now() <= COPY_LEASE_SECONDS and ended_here(host, pid)


def _zombie(pid: int) -> bool:
    """Whether ``pid`` has ended but its parent has not reaped it yet (a supervisor that
    killed the command and has not waited for it): ``os.kill`` still finds it. Linux only
    (``/proc``); elsewhere False."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    # "pid (name) S ...": the name may hold spaces and parentheses, the state follows the last ')'
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def _cli_owner() -> str:
    """This command's name as a lease holder: ``fsm-cli:host:pid:random``."""
    return f"fsm-cli:{default_worker_id()}"


@contextmanager
def _leased(
    store: Store, run_id: str, printer: Printer, *, created_by: str | None = None
) -> Iterator[None]:
    """Hold the run's lease while this process advances it, so workers serving the same store
    leave it alone; renewed every third of it by a heartbeat thread (a slow agent call may
    outlast it), released at the end. A run this command created already leased
    (``created_by``, its owner) is held from its first moment."""
    owner = created_by or _cli_owner()
    taken = created_by is not None or store.lease(run_id, owner, CLI_LEASE_SECONDS)
    if not taken:
        run = store.get_run(run_id)
        holder = run.lease_owner
        if holder is not None and (
            dead_holder(holder) or holder.startswith(PARKED) or _killed_copy_source(run, store)
        ):
            # from a process that no longer exists, or a worker that could not drive it; in one
            # write, so no worker claims the run between the holder's lease and this one
            taken = store.hand_over(run_id, holder, owner, CLI_LEASE_SECONDS)
    if not taken:
        run = store.get_run(run_id)
        if run.lease_owner is not None and run.lease_owner.startswith(COPY_PREFIX):
            # Why: a half copy stays leased until a copy finishes it; waiting would not help
            raise RunError(
                f"run {run_id} is leased by {run.lease_owner}, an `fsm copy` of it: wait until "
                f"the copy ends; if it was interrupted, copy the run again, which finishes "
                f"it and lets go of the run (a half copy stays leased until then)",
                run_id=run_id,
            )
        # --detach records an event without the lease: of use only while the run waits
        detach = ", or with `fsm send` pass --detach" if run.status == "waiting" else ""
        raise RunError(
            f"run {run_id} is leased by {run.lease_owner}, which is advancing it; wait until "
            f"it lets go (see `fsm runs`){detach}",
            run_id=run_id,
        )
    heartbeat = _Heartbeat(store, run_id, owner)
    printer.after = heartbeat.check
    heartbeat.start()
    try:
        yield
    finally:
        printer.after = None
        heartbeat.stop()
        _release(store, run_id, owner)


def _release(store: Store, run_id: str, owner: str) -> None:
    """Give the lease back; a store that fails now (its server just went down) costs only the
    wait for the lease to expire, so that is a note, not an error hiding the run's outcome
    (or the error that ended the command)."""
    try:
        store.release(run_id, owner)
    except FsmError as error:
        click.echo(
            f"note: could not give back the lease on run {run_id} ({error}); it expires within"
            f" {CLI_LEASE_SECONDS:.0f} s, and then workers or `fsm resume` can take the run",
            err=True,
        )


class _Heartbeat(threading.Thread):
    """Renews a command's lease every third of it from a thread of its own, so a single
    agent call (a slow model) may take longer than the lease without a worker taking the run
    and calling the agent a second time. ``check``, after each transition, stops the command
    once a renewal found the lease gone (it lapsed, e.g. the machine slept, and a worker
    claimed the run)."""

    def __init__(self, store: Store, run_id: str, owner: str) -> None:
        super().__init__(name=f"fsm-lease-{run_id}", daemon=True)
        self._store, self._run_id, self._owner = store, run_id, owner
        self._stopped = threading.Event()
        self._lost = False

    def run(self) -> None:
        while not self._stopped.wait(CLI_LEASE_SECONDS / 3):
            try:
                held = self._store.renew(self._run_id, self._owner, CLI_LEASE_SECONDS)
            except FsmError:  # e.g. a store busy past its timeout: the next beat tries again
                continue
            if not held:
                self._lost = True
                return

    def check(self) -> None:
        if self._lost:
            raise _TakenOverError(self._run_id)

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)


class _TakenOverError(Exception):
    """This command's lease on a run lapsed (its renewals failed for a whole lease) and another
    process, a worker, holds the run now: this command stops advancing it."""


def _advanced(
    handle: RunHandle, advance: Callable[[], object], store_url: str | None, note: str = ""
) -> bool:
    """Call ``advance`` (which steps ``handle``); False when another process took the run over
    meanwhile (an append conflicted, or the lease renewal found the lease gone). That is not a
    failure of the command: it says so, reloads the run, and goes on to its summary. Ctrl-C or
    an agent's ``sys.exit()`` mid-step is a ``_StoppedError`` naming the run and how to resume
    it (not click's bare "Aborted!", nor an exit status that reads as success)."""
    try:
        advance()
    except ConflictError:
        handle.reload()
        click.echo(
            f"note: {note}another process (a worker) continued run {handle.run_id} first;"
            f" this command stopped advancing it (it is {handle.status} in '{handle.state}' now)",
            err=True,
        )
        return False
    except _TakenOverError:
        handle.reload()
        click.echo(
            f"note: {note}this command's lease on run {handle.run_id} lapsed and another"
            f" process (a worker) holds the run now; this command committed that step"
            f" and stopped (the run is {handle.status} in '{handle.state}')",
            err=True,
        )
        return False
    except Exception:
        raise
    except BaseException as error:  # KeyboardInterrupt, SystemExit, GeneratorExit, ...
        raise _stopped(handle, error, store_url) from error
    return True


class _StoppedError(RunError):
    """A step cut short by a ``BaseException`` that is no ``Exception`` (Ctrl-C, an agent
    calling ``sys.exit``): nothing of it is recorded, and the run can be resumed."""


def _stopped(handle: RunHandle, error: BaseException, store_url: str | None) -> _StoppedError:
    """The error saying which run was stopped, where the store has it, and how to go on."""
    if isinstance(error, KeyboardInterrupt):
        why = f"interrupted while advancing run {handle.run_id}"
    else:
        hint = " (did an agent call sys.exit()?)" if isinstance(error, SystemExit) else ""
        why = f"a step of run {handle.run_id} raised {type(error).__name__}({error}){hint}"
    # The store's word (the interrupt may have come just after a commit); failing that, the
    # handle's own view, the last step it saw committed.
    with suppress(Exception):
        handle.reload()
    where = f"it is {handle.status} in '{handle.state}' at seq {handle.seq}"
    if handle.status != "running":
        return _StoppedError(f"{why}; {where}")
    store = f" --store {shlex.quote(store_url)}" if store_url else ""
    return _StoppedError(
        f"{why}; the step in flight was not recorded, and {where}: continue it with"
        f" `fsm resume {shlex.quote(handle.run_id)}{store}`"
    )


def transition_line(snapshot: Snapshot) -> str:
    """``step 3  reviewing -> drafting  [revise]  12.4 ms``."""
    if snapshot.source is None:
        how = snapshot.rule or "start"
        return f"step {snapshot.seq}  {how} in {snapshot.target}"
    rule = snapshot.rule or ("failed" if snapshot.status == "failed" else "-")
    event = snapshot.event
    if event is not None and rule != f"on {event}" and not rule.startswith(f"on {event} when "):
        rule += f", on {event}"  # a named transition's label does not say which event came
    line = (
        f"step {snapshot.seq}  {snapshot.source} -> {snapshot.target}  [{rule}]  "
        f"{snapshot.duration_ms:.1f} ms"
    )
    if snapshot.attempt > 1:
        line += f"  (attempt {snapshot.attempt})"
    for failure in snapshot.failed_attempts:  # what made the agent try again
        line += f"\n        retried: {failure}"
    if snapshot.error:
        line += f"\n        error: {snapshot.error}"
    return line


def _summary(handle: RunHandle, store_url: str | None, as_json: bool) -> None:
    """The run's outcome; exit 1 when it failed."""
    _report(handle, store_url, as_json)
    if handle.status == "failed":
        sys.exit(EXIT_FAILED)


def _report(
    handle: RunHandle, store_url: str | None, as_json: bool, *, to_stderr: bool = False
) -> None:
    """Where the run is (and how to answer its wait); ``to_stderr`` when an error follows."""
    if as_json:
        print_json(
            {
                "run_id": handle.run_id,
                "status": handle.status,
                "state": handle.state,
                "steps": handle.steps,
                "seq": handle.seq,
                "waiting_for": list(handle.waiting_for),
                "error": handle.error,
                "context": handle.context_json,
            }
        )
    else:
        _echo_summary(handle, store_url, to_stderr)


def _echo_summary(handle: RunHandle, store_url: str | None, to_stderr: bool = False) -> None:
    color = {"completed": "green", "failed": "red", "waiting": "yellow"}.get(handle.status)
    steps = counted(handle.steps, "step")
    if handle.steps != handle.seq:  # a fork counts the steps it inherited; its seqs restart
        steps += f" ({handle.seq} in this run, the rest before its fork)"
    click.secho(
        f"{handle.status} in '{handle.state}' after {steps}", fg=color, bold=True, err=to_stderr
    )
    click.echo(f"run {handle.run_id}", err=to_stderr)
    if handle.status == "failed" and handle.error:
        click.echo(f"error: {handle.error}", err=to_stderr)
    if handle.status != "waiting":
        return
    # the store open_store chose: --store, else $FSM_STORE (e.g. memory:// from there)
    url = store_url or os.environ.get(ENV_VAR) or ""
    if url.partition(":")[0].lower() == "memory":
        click.echo(
            f"waiting for: {', '.join(handle.waiting_for)}; a memory store ends with this "
            "process, so this run cannot be answered later: use a sqlite or postgresql store",
            err=to_stderr,
        )
        return
    click.echo(f"waiting for: {', '.join(handle.waiting_for)}; answer with:", err=to_stderr)
    store = f" --store {shlex.quote(store_url)}" if store_url else ""
    for event in handle.waiting_events:
        data = ""
        if event.data_type is not None:
            data = f" --data {shlex.quote(_example_json(event.data_type))}"
        command = f"fsm send {shlex.quote(handle.run_id)} {shlex.quote(event.name)}"
        click.echo(f"  {command}{data}{store}", err=to_stderr)


def _example_json(data_type: RecordType) -> str:
    return json.dumps(_example(data_type))


def _example(data_type: DataType) -> object:
    """A placeholder value showing the shape a command expects (required fields only)."""
    match data_type:
        case RecordType(fields=fields):
            return {
                f.name: _example(f.type)
                for f in fields
                if not f.has_default and not isinstance(f.type, OptionalType)
            }
        case EnumType(values=values):
            return values[0]
        case ListType():
            return []
        case OptionalType():
            return None
        case ScalarType(name=name):
            return {"str": "...", "int": 0, "float": 0.0, "bool": False}[name]
        case _:
            return {}


def _workflow_for(
    record: RunRecord, store: Store, printer: Printer, spec_path: Path | None = None
) -> Workflow:
    """The run's workflow, from ``--spec`` or else the spec file the run started from."""
    if spec_path is not None:
        return Workflow.from_spec(spec_path, store=store, on_transition=printer)
    if not Path(record.spec_path).is_file():
        raise RunError(
            f"run {record.run_id} was started from {record.spec_path}, which no longer exists; "
            f"restore the spec there, or pass its new place with --spec PATH",
            run_id=record.run_id,
        )
    return Workflow.from_spec(record.spec_path, store=store, on_transition=printer)


def _parse_send(value: str) -> tuple[str, object]:
    event, sep, data = value.partition("=")
    if not event:
        raise click.BadParameter(
            f"expected EVENT, EVENT=JSON or EVENT=@FILE, got {value!r}", param_hint="--send"
        )
    return event, read_json_argument(data, "--send") if sep else None


@click.command("run")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--input", "input_text", metavar="JSON|@FILE", help="The start input (context).")
@click.option("--max-steps", type=click.IntRange(min=1), help="Override the spec's max_steps.")
@click.option(
    "--send",
    "sends",
    multiple=True,
    metavar="EVENT[=JSON|@FILE]",
    help="Answer the next wait with EVENT (and its data); repeat for later waits.",
)
@click.option("--run-id", help="Use this run id instead of a generated one.")
@click.option(
    "--detach",
    is_flag=True,
    help="Only create the run and print its id; `fsm worker` processes advance it.",
)
@_store_option
@_json_option
@handled
def run_command(
    *,
    spec: str,
    input_text: str | None,
    max_steps: int | None,
    sends: tuple[str, ...],
    run_id: str | None,
    detach: bool,
    store_url: str | None,
    as_json: bool,
) -> None:
    """Start a run of SPEC and drive it until it waits, completes or fails."""
    if run_id is not None and run_id.startswith("-"):
        raise click.BadParameter(
            f"{run_id!r} starts with '-', so `fsm send`, `resume` and `history` would read it as"
            " an option; choose an id that does not",
            param_hint="--run-id",
        )
    data = read_json_argument(input_text, "--input")
    if data is not None and not isinstance(data, dict):
        raise click.BadParameter("the start input must be a JSON object", param_hint="--input")
    if detach and sends:
        raise click.UsageError(
            "--detach leaves the run to a worker, so there is no wait to answer with --send;"
            " send events later with `fsm send RUN_ID EVENT`"
        )
    answers = [_parse_send(value) for value in sends]
    printer = _printer(as_json or detach)  # detached: stdout is only the run id
    with _opened(store_url, existing=False) as store:
        if detach and isinstance(store, MemoryStore):
            # Why: it said "queued; workers advance it", but the run ends with this process.
            raise click.UsageError(
                "--detach leaves the run to `fsm worker` processes, but a memory:// store ends"
                " with this command and no other process sees it; use a sqlite or postgresql"
                " store"
            )
        workflow = Workflow.from_spec(spec, store=store, on_transition=printer)
        _check_events(workflow, [event for event, _ in answers])
        owner = None if detach else _cli_owner()
        lease = None if owner is None else (owner, CLI_LEASE_SECONDS)
        try:
            handle = workflow.start(
                data, run_id=run_id, max_steps=max_steps, detach=True, lease=lease
            )
        except ContractError as error:
            if input_text is not None:
                raise
            raise RunError(
                f"{error}; the spec's context has required fields: give them as --input JSON"
                " or --input @FILE"
            ) from error
        if detach:
            _detached(handle, store_url, as_json)
            return
        with _leased(store, handle.run_id, printer, created_by=owner):
            try:
                going = _advanced(handle, handle.advance, store_url)
                for index, (event, event_data) in enumerate(answers):
                    if not going:
                        unsent = ", ".join(name for name, _ in answers[index:])
                        click.echo(f"note: not sent: {unsent}; send with `fsm send`", err=True)
                        break
                    if handle.status != "waiting":
                        raise RunError(
                            f"--send {event}: run {handle.run_id} is {handle.status} in "
                            f"'{handle.state}', not waiting for an event",
                            run_id=handle.run_id,
                        )
                    handle.deliver(event, event_data)
                    going = _advanced(
                        handle, handle.advance, store_url, f"event {event!r} delivered; "
                    )
            except _StoppedError:
                raise  # its message says where the run is and how to continue it
            except FsmError:
                # The run exists and stays where it is (a failed step, e.g. a full disk, is
                # undone): say which run, and how to answer or continue it.
                _report(handle, store_url, as_json, to_stderr=not as_json)
                if handle.status == "running" and not as_json:
                    store_option = f" --store {shlex.quote(store_url)}" if store_url else ""
                    click.echo(
                        f"continue it with: fsm resume {shlex.quote(handle.run_id)}{store_option}",
                        err=True,
                    )
                raise
        _summary(handle, store_url, as_json)


def _check_events(workflow: Workflow, events: list[str]) -> None:
    """Refuse a ``--send`` no wait state of the spec accepts, before a run is created."""
    spec = workflow.checked.spec
    declared = {event.name for state in spec.states for event in state.events}
    for event in events:
        if event not in declared:
            known = ", ".join(sorted(declared)) or "none: it has no wait state"
            raise click.BadParameter(
                f"{event!r} is not an event of {spec.workflow} (its events: {known})",
                param_hint="--send",
            )


def _detached(handle: RunHandle, store_url: str | None, as_json: bool) -> None:
    """``fsm run --detach`` / ``fsm send --detach``: the run is stored, not advanced; say how
    it will be (a run the event ended or made wait again has nothing queued)."""
    if as_json:
        print_json(
            {
                "run_id": handle.run_id,
                "status": handle.status,
                "state": handle.state,
                "steps": handle.steps,
                "seq": handle.seq,
            }
        )
        return
    click.echo(handle.run_id)
    if handle.status != "running":
        click.echo(f"{handle.status} in '{handle.state}'", err=True)
        return
    store = f" --store {shlex.quote(store_url)}" if store_url else ""
    click.echo(f"queued in '{handle.state}'; workers advance it: fsm worker{store}", err=True)


@click.command("resume")
@click.argument("run_id")
@_spec_option
@_allow_option
@_store_option
@_json_option
@handled
def resume_command(
    run_id: str,
    spec_path: Path | None,
    allow_spec_change: bool,
    store_url: str | None,
    as_json: bool,
) -> None:
    """Continue RUN_ID from its last committed transition (after a crash or a stop)."""
    printer = _printer(as_json)
    with _opened(store_url) as store:
        workflow = _workflow_for(store.get_run(run_id), store, printer, spec_path)
        with _leased(store, run_id, printer):
            handle = workflow.run(run_id, allow_spec_change=allow_spec_change)
            _advanced(handle, handle.resume, store_url)
        _summary(handle, store_url, as_json)


def _delivery_stopped(
    handle: RunHandle, event: str, seq: int, store_url: str | None
) -> _StoppedError:
    """Ctrl-C while ``event`` was being recorded: whether it was, by the store's word."""
    with suppress(Exception):
        handle.reload()
    where = f"run {handle.run_id} is {handle.status} in '{handle.state}' at seq {handle.seq}"
    store = f" --store {shlex.quote(store_url)}" if store_url else ""
    if handle.seq == seq:
        return _StoppedError(
            f"interrupted before event {event!r} was recorded; {where}: send it again"
        )
    resume = f": continue it with `fsm resume {shlex.quote(handle.run_id)}{store}`"
    return _StoppedError(
        f"interrupted after event {event!r} was recorded; {where}"
        + (resume if handle.status == "running" else "")
    )


@click.command("send")
@click.argument("run_id")
@click.argument("event")
@click.option("--data", "data_text", metavar="JSON|@FILE", help="The event's data.")
@click.option(
    "--detach",
    is_flag=True,
    help="Only deliver the event; `fsm worker` processes advance the run (use this when "
    "workers serve the store).",
)
@_spec_option
@_allow_option
@_store_option
@_json_option
@handled
def send_command(
    *,
    run_id: str,
    event: str,
    data_text: str | None,
    detach: bool,
    spec_path: Path | None,
    allow_spec_change: bool,
    store_url: str | None,
    as_json: bool,
) -> None:
    """Send EVENT to the waiting run RUN_ID, then continue it (or, with --detach, leave that
    to workers)."""
    data = read_json_argument(data_text, "--data")
    printer = _printer(as_json or detach)
    with _opened(store_url) as store:
        workflow = _workflow_for(store.get_run(run_id), store, printer, spec_path)
        if detach:
            handle = workflow.run(run_id, allow_spec_change=allow_spec_change)
            _detached(handle.deliver(event, data), store_url, as_json)
            return
        with _leased(store, run_id, printer):
            handle = workflow.run(run_id, allow_spec_change=allow_spec_change)
            seq = handle.seq
            try:
                handle.deliver(event, data)
            except Exception:
                raise
            except BaseException as error:  # Ctrl-C while the event's record was written
                raise _delivery_stopped(handle, event, seq, store_url) from error
            _advanced(handle, handle.advance, store_url, f"event {event!r} delivered; ")
        _summary(handle, store_url, as_json)


@click.command("fork")
@click.argument("run_id")
@click.option("--at", "at", type=click.IntRange(min=0), required=True, help="Seq to fork at.")
@click.option(
    "--max-steps",
    type=click.IntRange(min=1),
    help="Step limit of the fork, counting the steps before AT (default: RUN_ID's).",
)
@click.option(
    "--detach",
    is_flag=True,
    help="Only create the fork and print its id; `fsm worker` processes advance it.",
)
@_spec_option
@_allow_option
@_store_option
@_json_option
@handled
def fork_command(
    *,
    run_id: str,
    at: int,
    max_steps: int | None,
    detach: bool,
    spec_path: Path | None,
    allow_spec_change: bool,
    store_url: str | None,
    as_json: bool,
) -> None:
    """Start a new run from RUN_ID's exact state after step AT, and continue it."""
    printer = _printer(as_json or detach)  # detached: stdout is only the fork's id
    with _opened(store_url) as store:
        workflow = _workflow_for(store.get_run(run_id), store, printer, spec_path)
        owner = _cli_owner()
        handle = workflow.fork(
            run_id,
            at,
            allow_spec_change=allow_spec_change,
            lease=None if detach else (owner, CLI_LEASE_SECONDS),
            max_steps=max_steps,
        )
        if detach:
            _detached(handle, store_url, as_json)
            return
        with _leased(store, handle.run_id, printer, created_by=owner):
            _advanced(handle, handle.resume, store_url)
        _summary(handle, store_url, as_json)


@click.command("runs")
@click.option("--status", type=click.Choice(RUN_STATUSES), help="Only runs with this status.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="List at most this many runs.",
)
@_store_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON list, one object per run (lease_seconds_left by the store's clock).",
)
@handled
def runs_command(status: str | None, limit: int, store_url: str | None, as_json: bool) -> None:
    """List runs, newest first."""
    with _opened(store_url) as store:
        runs = store.list_runs(status, limit)  # type: ignore[arg-type]  # click checked it
        # by the clock the leases were set with (PostgreSQL's), not this machine's
        now = store.now() if any(run.lease_expires_at is not None for run in runs) else 0.0
    if as_json:
        print_json([{**_run_json(run), "lease_seconds_left": _left(run, now)} for run in runs])
        return
    if not runs:
        click.echo("no runs" + (f" with status {status}" if status else ""))
    # Columns as wide as their longest entry: ids, workflow and state names have any length.
    rows = [(run.run_id, run.workflow, run.status, run.state) for run in runs]
    widths = [max(len(row[column]) for row in rows) for column in range(4)] if rows else []
    for run, row in zip(runs, rows, strict=True):
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        click.echo(f"{cells}  seq {run.seq}{_lease_note(run, now)}")


def _left(run: RunRecord, now: float) -> float | None:
    """Seconds until the run's lease expires (negative: expired), None when it has none."""
    if run.lease_owner is None or run.lease_expires_at is None:
        return None
    return round(run.lease_expires_at - now, 3)


def _lease_note(run: RunRecord, now: float) -> str:
    """Who holds the run, for the listing: what a refused `send` or `resume` points to."""
    left = _left(run, now)
    if left is None:
        return ""
    if left <= 0:
        return f"  lease of {run.lease_owner} expired {-left:.0f} s ago"
    return f"  leased to {run.lease_owner} for {left:.0f} s more"


_HISTORY_BATCH = 1_000
"""Records `fsm history` reads at a time: a run of a million steps is printed in flat memory."""


@click.command("history")
@click.argument("run_id")
@click.option("--from", "first", type=click.IntRange(min=0), help="First seq to show (default: 0).")
@click.option("--to", "last", type=click.IntRange(min=0), help="Last seq to show (default: now).")
@click.option(
    "--last",
    "newest",
    type=click.IntRange(min=1),
    help="Show only the newest N records (instead of --from).",
)
@_store_option
@_json_option
@handled
def history_command(
    *,
    run_id: str,
    first: int | None,
    last: int | None,
    newest: int | None,
    store_url: str | None,
    as_json: bool,
) -> None:
    """Every transition of RUN_ID: the rule that fired, what changed, how long it took.

    \b
    A long run's records are read and printed a thousand at a time; --from, --to and --last
    pick a range:
      fsm history RUN_ID --last 20           the newest 20 records
      fsm history RUN_ID --from 5000 --to 5100"""
    if newest is not None and first is not None:
        raise click.UsageError("give --from or --last, not both")
    if first is not None and last is not None and last < first:
        # Why: an empty range would print the run's head alone, as if it had no records.
        raise click.UsageError(f"--to {last} is before --from {first}; swap them")
    with _opened(store_url) as store:
        run = store.get_run(run_id)
        # Up to the run's seq as just read: records another process commits meanwhile would
        # contradict the head printed with them (its seq, status and state).
        stop = run.seq if last is None else min(last, run.seq)
        start = first or 0
        if newest is not None:
            start = max(stop - newest + 1, 0)
        if start > run.seq:
            raise RunError(
                f"run {run_id} has records 0..{run.seq}; there is no seq {start}", run_id=run_id
            )
        records = _records(store, run_id, start, stop)
        if as_json:
            _print_history_json(run, records)
            return
        click.echo(f"run {run.run_id} ({run.workflow}): {run.status} in '{run.state}'")
        for snapshot in records:
            click.echo(transition_line(snapshot))
            changed = [*snapshot.changes, *(f"{name}+" for name in snapshot.appended)]
            if changed:
                click.echo(f"        changed: {', '.join(changed)}")


def _records(store: Store, run_id: str, start: int, stop: int) -> Iterator[Snapshot]:
    """The run's records from seq ``start`` through ``stop``, read ``_HISTORY_BATCH`` at a
    time, so only one batch is in memory however long the run is."""
    for batch in range(start, stop + 1, _HISTORY_BATCH):
        yield from store.history(run_id, batch, min(batch + _HISTORY_BATCH, stop + 1))


def _print_history_json(run: RunRecord, records: Iterator[Snapshot]) -> None:
    """``{"run": …, "history": […]}`` as ``print_json`` prints it, written record by record."""
    head = json.dumps({"run": _run_json(run)}, indent=2, ensure_ascii=False, default=str)
    json_echo(head[: -len("\n}")] + ",")
    separator = ""
    for snapshot in records:
        item = json.dumps(_snapshot_json(snapshot), indent=2, ensure_ascii=False, default=str)
        json_echo(separator + ('  "history": [\n' if not separator else ""), nl=False)
        json_echo(textwrap.indent(item, "    "), nl=False)
        separator = ",\n"
    json_echo("\n  ]\n}" if separator else '  "history": []\n}')


@click.command("show")
@click.argument("run_id")
@click.option("--at", "at", type=click.IntRange(min=0), help="Seq to show (default: now).")
@_store_option
@_json_option
@handled
def show_command(run_id: str, at: int | None, store_url: str | None, as_json: bool) -> None:
    """The exact state and context of RUN_ID after step AT."""
    with _opened(store_url) as store:
        run = store.get_run(run_id)
        if at is not None and at > run.seq:
            raise RunError(
                f"run {run_id} has records 0..{run.seq}; there is no seq {at}", run_id=run_id
            )
        state = store.load_state(run_id, at)
    data = {
        "run_id": run_id,
        "seq": state.seq,
        "state": state.state,
        "status": state.status,
        "steps": state.steps,
        "visits": state.visits,
        "context": state.context,
    }
    if as_json:
        print_json(data)
        return
    click.echo(f"run {run_id} after seq {state.seq}: {state.status} in '{state.state}'")
    click.echo(f"steps {state.steps}, visits {state.visits}")
    print_json(state.context)


@click.command("replay")
@click.argument("run_id")
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Replay against this spec, e.g. an edited copy (default: the run's own spec file).",
)
@_store_option
@_json_option
@handled
def replay_command(
    run_id: str, spec_path: Path | None, store_url: str | None, as_json: bool
) -> None:
    """Feed RUN_ID's recorded agent outputs and events through the spec's contracts and routing
    again, calling no agent, and compare each route and context change with its record.

    \b
    Against the spec the run ran with, every record must come out the same (exit 0).
    Against an edited spec (--spec), it shows the first transition the edit changes: a guard
    that now routes elsewhere, an output the contract no longer accepts (exit 1). The run is
    only read."""
    with _opened(store_url) as store:
        record = store.get_run(run_id)
        path = str(spec_path) if spec_path is not None else record.spec_path
        if spec_path is None and not Path(path).is_file():
            raise RunError(
                f"run {run_id} was started from {path}, which no longer exists; pass the spec "
                f"to replay against with --spec PATH",
                run_id=run_id,
            )
        checked = load_checked(path)
        stand_ins = {agent.name: _not_called for agent in checked.spec.agents}
        report = Workflow.from_spec(checked, agents=stand_ins, store=store).replay(run_id)
    divergence = report.divergence
    if as_json:
        print_json(
            {
                "run_id": run_id,
                "spec": path,
                "spec_hash": report.spec_hash,
                "pinned": report.pinned,
                "records": report.records,
                "matched": report.matched,
                "divergence": attrs.asdict(divergence) if divergence is not None else None,
            }
        )
    else:
        which = "the spec it ran with" if report.pinned else "edited since the run started"
        if divergence is None:
            click.echo(
                f"replayed {counted(report.records, 'record')} of run {run_id} against {path} "
                f"({which}): every route and context change is as recorded"
            )
        else:
            # Records written after the run was continued under another version of its spec:
            # the spec it started with is then not the one that decided them.
            later = report.pinned and divergence.spec_hash != report.spec_hash
            click.echo(
                f"run {run_id} replayed against {path} "
                f"({'the spec it started with' if later else which}) differs at seq "
                f"{divergence.seq} in '{divergence.state}', after "
                f"{counted(report.matched, 'matching record')}:\n"
                f"  recorded: {divergence.recorded}\n"
                f"  replayed: {divergence.replayed}"
            )
            if later:
                click.echo(
                    f"seq {divergence.seq} was written under another version of the spec "
                    f"(hash {divergence.spec_hash[:12]}): the run was continued with "
                    f"--allow-spec-change, so that version decided it; replay against it "
                    f"with --spec"
                )
    if divergence is not None:
        sys.exit(EXIT_FAILED)


def _not_called(inputs: object, call: AgentCall) -> object:
    """Stands in for every agent in a replay, which takes outputs from the records: a replay
    needs no agent code, so it also works where that code is not installed."""
    raise RunError(f"replay called agent '{call.agent}', which it never should", run_id=call.run_id)


def _run_json(run: RunRecord) -> dict[str, object]:
    return {
        "run_id": run.run_id,
        "workflow": run.workflow,
        "status": run.status,
        "state": run.state,
        "seq": run.seq,
        "waiting_for": list(run.waiting_for),
        "error": run.error,
        "spec_path": run.spec_path,
        "spec_hash": run.spec_hash,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
        "parent_run_id": run.parent_run_id,
        "parent_seq": run.parent_seq,
        "lease_owner": run.lease_owner,
        "lease_expires_at": run.lease_expires_at,
    }


def _snapshot_json(snapshot: Snapshot) -> dict[str, object]:
    return {
        "seq": snapshot.seq,
        "source": snapshot.source,
        "target": snapshot.target,
        "event": snapshot.event,
        "rule": snapshot.rule,
        "status": snapshot.status,
        "changes": dict(snapshot.changes),
        "appended": {name: list(items) for name, items in snapshot.appended.items()},
        "output": snapshot.output,
        "error": snapshot.error,
        "attempt": snapshot.attempt,
        "failed_attempts": list(snapshot.failed_attempts),
        "started_at": snapshot.started_at,
        "duration_ms": snapshot.duration_ms,
        # Differs from the run's own after --allow-spec-change: which spec wrote this record.
        "spec_hash": snapshot.spec_hash,
    }


def register(group: click.Group) -> None:
    for command in (
        run_command,
        resume_command,
        send_command,
        fork_command,
        runs_command,
        history_command,
        show_command,
        replay_command,
    ):
        group.add_command(command)
