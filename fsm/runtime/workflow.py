"""``Workflow``: a checked spec bound to its agents and a store; starts, reopens and forks runs.

A run is pinned to the hash of the spec it started with: reopening it under a different spec
text is refused unless ``allow_spec_change=True`` (then new records carry the new hash, the run
record keeps the original). The start record (seq 0) holds the full initial frame; its
``output`` keeps the run's start options (``max_steps``, and for a fork where it came from),
because the run record has no field for them.
"""

from __future__ import annotations

import copy
import inspect
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from fsm.errors import ContractError, FsmError, RunError
from fsm.runtime.compiled import CompiledWorkflow, compile_workflow
from fsm.runtime.replay import ReplayReport, replay_records
from fsm.runtime.run import OnTransition, RunHandle
from fsm.runtime.stepper import LiveRun, status_after
from fsm.spec.checked import CheckedSpec
from fsm.spec.validate import load_checked
from fsm.store import Frame, RunRecord, RunState, Snapshot, Store, new_run_id, open_store
from fsm.values import is_text, short_repr


class Workflow:
    """Runs of one spec, with its agents, on one store."""

    def __init__(
        self,
        compiled: CompiledWorkflow,
        store: Store,
        *,
        on_transition: OnTransition | None = None,
        owns_store: bool = False,
    ) -> None:
        self.compiled = compiled
        self.store = store
        self.on_transition = _checked_hook(on_transition)
        self._owns_store = owns_store

    @classmethod
    def from_spec(
        cls,
        spec: str | Path | CheckedSpec,
        *,
        agents: Mapping[str, object] | None = None,
        store: Store | str | None = None,
        on_transition: OnTransition | None = None,
        cwd: Path | None = None,
    ) -> Workflow:
        """Load and check ``spec`` (a path or a ``CheckedSpec``), resolve its agents (``agents``
        given here win over the spec's ``impl``), and open ``store`` (a ``Store``, a URL, or
        None for ``FSM_STORE`` / ``sqlite:///<cwd>/.fsm/runs.db``)."""
        _checked_hook(on_transition)  # before a store is opened for nothing
        checked = spec if isinstance(spec, CheckedSpec) else load_checked(spec)
        compiled = compile_workflow(checked, agents)
        if store is None or isinstance(store, str):
            opened = open_store(store, cwd=cwd or Path.cwd())
            return cls(compiled, opened, on_transition=on_transition, owns_store=True)
        return cls(compiled, store, on_transition=on_transition)

    def __repr__(self) -> str:
        spec = self.compiled.checked.spec
        return f"<Workflow {spec.workflow} version {spec.version} ({spec.path}) on {self.store!r}>"

    @property
    def checked(self) -> CheckedSpec:
        return self.compiled.checked

    def close(self) -> None:
        """Close the store if this workflow opened it."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Workflow:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # Runs ----------------------------------------------------------------------------------------

    def start(
        self,
        input: Mapping[str, object] | None = None,
        *,
        run_id: str | None = None,
        max_steps: int | None = None,
        detach: bool = False,
        lease: tuple[str, float] | None = None,
    ) -> RunHandle:
        """Create a run from ``input`` (the context's required fields, validated) and advance
        it until it waits, completes or fails; with ``detach`` only create it.

        ``lease`` = (owner, seconds) creates the run already leased to ``owner``
        (``Store.create_run``): for a process that advances the run itself while workers
        serve the same store, which then never claim it from under it."""
        handle = self._create(input, run_id, max_steps, lease)
        if detach:
            return handle
        with _naming_the_run(handle):
            return handle.advance()

    async def async_start(
        self,
        input: Mapping[str, object] | None = None,
        *,
        run_id: str | None = None,
        max_steps: int | None = None,
        detach: bool = False,
        lease: tuple[str, float] | None = None,
    ) -> RunHandle:
        """``start`` for an event loop: async agents are awaited, sync ones run as ``start``
        runs them, and retries' backoff does not block the loop."""
        handle = self._create(input, run_id, max_steps, lease)
        if detach:
            return handle
        with _naming_the_run(handle):
            return await handle.async_advance()

    def run(self, run_id: str, *, allow_spec_change: bool = False) -> RunHandle:
        """Reopen a stored run (``NotFoundError`` if there is none)."""
        record = self.store.get_run(run_id)
        self._check_pinned(record, allow_spec_change)
        return self._handle(self._load(run_id))

    def fork(
        self,
        run_id: str,
        at: int,
        *,
        fork_id: str | None = None,
        allow_spec_change: bool = False,
        lease: tuple[str, float] | None = None,
        max_steps: int | None = None,
    ) -> RunHandle:
        """A new run whose start frame is exactly ``run_id``'s state after seq ``at``; not
        advanced yet (call ``resume``). ``lease`` as for ``start``. ``max_steps`` replaces the
        parent's step limit (steps count on from the parent's), so a run stopped by the limit
        can be continued; by default the fork keeps the parent's."""
        parent = self.store.get_run(run_id)
        limit = self._start_options(run_id) if max_steps is None else _step_limit(max_steps)
        self._check_pinned(parent, allow_spec_change)
        if isinstance(at, bool) or not isinstance(at, int) or not 0 <= at <= parent.seq:
            raise RunError(
                f"run {run_id} has records 0..{parent.seq}; cannot fork at seq {at!r} (pick one "
                f"of those, e.g. from `fsm history {run_id}`)",
                run_id=run_id,
            )
        state = self.store.load_state(run_id, at)
        self._check_state_known(run_id, state.state)
        if state.steps >= limit and not self.compiled.states[state.state].final:
            # Why steps + limit: a fork under a lower limit than its parent's may be far past
            # it, and twice the limit it was given could still stop at once.
            raise RunError(
                f"run {run_id} had taken {state.steps} transitions by seq {at}, at least as"
                f" many as the step limit ({limit}) allows: a fork there would stop at once;"
                f" give it a higher one (`fsm fork {run_id} --at {at} --max-steps"
                f" {state.steps + limit}`)",
                run_id=run_id,
            )
        _, context_json = self._stored_context(parent, state.context, state.state)
        frame = Frame(
            context=context_json, state=state.state, steps=state.steps, visits=state.visits
        )
        return self._begin(
            _run_id(fork_id),
            frame,
            max_steps=limit,
            rule="fork",
            options={"forked_from": {"run_id": run_id, "seq": at}},
            parent=(run_id, at),
            lease=lease,
        )

    def history(self, run_id: str) -> list[Snapshot]:
        """Every record of ``run_id``, from its start record (seq 0) to its newest."""
        return self.store.history(run_id)

    def replay(self, run_id: str) -> ReplayReport:
        """Feed ``run_id``'s recorded agent outputs and events through this workflow's spec
        again, calling no agent: under the spec the run ran with, every record must come out
        the same; under an edited one, the report names the first record the edit changes.
        The run itself is only read."""
        record = self.store.get_run(run_id)
        spec = self.compiled.checked.spec
        if record.workflow != spec.workflow:
            raise RunError(
                f"run {run_id} belongs to workflow '{record.workflow}', not '{spec.workflow}' "
                f"({spec.path}); replay it against its own spec ({record.spec_path})",
                run_id=run_id,
            )
        records = _read_in_batches(self.store, run_id, record.seq)
        return replay_records(self.compiled, records, self._start_options(run_id), record.seq)

    def state_at(self, run_id: str, seq: int | None = None) -> RunState:
        """The run's exact state after record ``seq`` (default: now)."""
        return self.store.load_state(run_id, seq)

    # Internals -----------------------------------------------------------------------------------

    def _create(
        self,
        input: Mapping[str, object] | None,
        run_id: str | None,
        max_steps: int | None,
        lease: tuple[str, float] | None,
    ) -> RunHandle:
        compiled = self.compiled
        limit = compiled.checked.spec.max_steps if max_steps is None else _step_limit(max_steps)
        # ``validate``: values may be JSON or instances of contract classes, as for agents
        if input is not None and not isinstance(input, Mapping):
            raise RunError(
                f"a run's input is a mapping of context fields to values; got "
                f"{type(input).__name__} {short_repr(input)}"
            )
        data = dict(input) if input is not None else {}
        context = compiled.converter.validate(data, compiled.context_type, "input")
        context_json = compiled.converter.unstructure(context)
        assert isinstance(context_json, dict)
        initial = compiled.checked.spec.initial
        frame = Frame(context=context_json, state=initial, steps=0, visits={initial: 1})
        return self._begin(
            _run_id(run_id), frame, max_steps=limit, rule="start", options={}, lease=lease
        )

    def _begin(
        self,
        run_id: str,
        frame: Frame,
        *,
        max_steps: int,
        rule: str,
        options: Mapping[str, object],
        parent: tuple[str, int] | None = None,
        lease: tuple[str, float] | None = None,
    ) -> RunHandle:
        """Create the run with its start record (a full frame) and a handle on it."""
        compiled = self.compiled
        spec = compiled.checked.spec
        state, steps = frame["state"], frame["steps"]
        status, waiting_for, error = status_after(compiled, state, steps, max_steps)
        now = time.time()
        start = Snapshot(
            run_id=run_id,
            seq=0,
            source=None,
            target=state,
            rule=rule,
            output={"max_steps": max_steps, "spec_version": spec.version, **options},
            error=error,
            started_at=now,
            spec_hash=compiled.spec_hash,
            status=status,
            frame=copy.deepcopy(frame),
        )
        record = RunRecord(
            run_id=run_id,
            workflow=spec.workflow,
            spec_hash=compiled.spec_hash,
            spec_path=_spec_path(spec.path),
            status=status,
            state=state,
            waiting_for=waiting_for,
            error=error,
            created_at=now,
            updated_at=now,
            parent_run_id=parent[0] if parent else None,
            parent_seq=parent[1] if parent else None,
        )
        # Checked before anything is stored: a fork's copied context may not fit a changed
        # spec (allow_spec_change), and a run created before that error would be left behind.
        context_json = copy.deepcopy(frame["context"])
        context = compiled.context_instance(context_json)
        self.store.create_run(record, start, lease=lease)
        if lease is not None:  # the head as stored: its lease was set by the store's clock
            record = self.store.get_run(run_id)
        live = LiveRun(
            record=record,
            context_json=context_json,
            context=context,
            steps=steps,
            visits=dict(frame["visits"]),
            max_steps=max_steps,
        )
        handle = self._handle(live)
        handle._notify(start)  # the start record is told like any other
        return handle

    def _handle(self, live: LiveRun) -> RunHandle:
        return RunHandle(self.compiled, self.store, live, self._load, self.on_transition)

    def _load(self, run_id: str) -> LiveRun:
        record = self.store.get_run(run_id)
        state = self.store.load_state(run_id)
        if state.seq != record.seq:  # appended between the two reads: read again
            return self._load(run_id)
        self._check_state_known(run_id, state.state)
        self._check_status_fits(record)
        context, context_json = self._stored_context(
            record, copy.deepcopy(state.context), state.state
        )
        return LiveRun(
            record=record,
            context_json=context_json,
            context=context,
            steps=state.steps,
            visits=dict(state.visits),
            max_steps=self._start_options(run_id),
        )

    def _start_options(self, run_id: str) -> int:
        start = self.store.history(run_id, 0, 1)
        options = start[0].output if start else None
        limit = options.get("max_steps") if isinstance(options, dict) else None
        return limit if isinstance(limit, int) else self.compiled.checked.spec.max_steps

    def _check_pinned(self, record: RunRecord, allow_spec_change: bool) -> None:
        spec = self.compiled.checked.spec
        if record.workflow != spec.workflow:
            raise RunError(
                f"run {record.run_id} belongs to workflow '{record.workflow}', not "
                f"'{spec.workflow}' ({spec.path}); open it with its own spec ({record.spec_path})",
                run_id=record.run_id,
            )
        if record.spec_hash != self.compiled.spec_hash and not allow_spec_change:
            # Why both paths: a spec given from another place (`--spec`) is not the file the
            # run started from, and naming only that one blamed a file nobody had edited.
            given = "" if str(spec.path) == record.spec_path else f" than {spec.path}"
            raise RunError(
                f"run {record.run_id} was started with a different version of {record.spec_path}"
                f"{given} "
                f"(spec hash {record.spec_hash[:12]}, now {self.compiled.spec_hash[:12]}); a run "
                f"stays pinned to its spec so routing cannot change under it. Restore that "
                f"spec, or continue under the new one with --allow-spec-change "
                f"(allow_spec_change=True) if the change is compatible",
                run_id=record.run_id,
            )

    def _stored_context(
        self, record: RunRecord, context_json: dict[str, object], state: str
    ) -> tuple[object, dict[str, object]]:
        """A run's stored context as an instance, and as JSON under this spec. One that the
        spec, changed since the run started (allow_spec_change), no longer accepts is a
        RunError saying so: a bare contract error would not tell that the stored data
        predates the edit. So is one holding None in a field the edited spec proves set in
        ``state`` (its agent's input, its guards rely on that): every step there would fail
        on the missing value. Under a changed spec the JSON is the instance's, so a field the
        edit added with a default holds it: agents' inputs are read from the JSON, and a
        missing field would reach them as None where guards see the default."""
        checked = self.compiled.checked
        try:
            context = self.compiled.context_instance(context_json)
        except ContractError as error:
            if record.spec_hash == self.compiled.spec_hash:
                raise
            raise RunError(
                f"the context of run {record.run_id} does not fit {checked.spec.path}"
                f" as edited since the run started ({error}); restore the spec the run was"
                f" started with, or change it so the stored context stays valid",
                run_id=record.run_id,
            ) from error
        if record.spec_hash == self.compiled.spec_hash:
            return context, context_json
        context_json = self.compiled.context_json(context)
        if self.compiled.states[state].final:
            return context, context_json
        unset = sorted(
            name
            for name in checked.assigned_on_entry.get(state, frozenset())
            if context_json.get(name) is None
        )
        if unset:
            fields = ", ".join(repr(name) for name in unset)
            raise RunError(
                f"run {record.run_id} is in state '{state}', where {checked.spec.path} as edited"
                f" since the run started has {fields} set on every path, but the run's context"
                f" holds None there; restore the spec the run was started with, or change it so"
                f" those fields may be None in '{state}'",
                run_id=record.run_id,
            )
        return context, context_json

    def _check_status_fits(self, record: RunRecord) -> None:
        """Refuse a run whose status the edited spec contradicts in its state: waiting where
        the edit made the state no wait state (no event could reach it, and resuming does
        nothing), or running where it made it wait or end (the next step would record a
        failure that no transition fired). A fork there takes the state as the edit has it."""
        if record.spec_hash == self.compiled.spec_hash:
            return
        definition = self.compiled.states[record.state]
        kind = {"agent": "an agent state", "route": "a route state", "final": "a final state"}.get(
            definition.kind, f"wait for {', '.join(event.name for event in definition.events)}"
        )
        if record.status == "waiting" and definition.kind != "wait":
            now = f"is waiting in '{record.state}' for {', '.join(record.waiting_for)}"
        elif record.status == "running" and (definition.kind == "wait" or definition.final):
            now = f"is running in '{record.state}'"
        else:
            return
        raise RunError(
            f"run {record.run_id} {now}, but {self.compiled.checked.spec.path} as edited since"
            f" the run started makes '{record.state}' {kind}, so the run could not go on;"
            f" restore the spec the run was started with, or fork it there under the edit"
            f" (`fsm fork {record.run_id} --at {record.seq} --allow-spec-change`)",
            run_id=record.run_id,
        )

    def _check_state_known(self, run_id: str, state: str) -> None:
        if state not in self.compiled.states:
            raise RunError(
                f"run {run_id} is in state '{state}', which the spec "
                f"{self.compiled.checked.spec.path} no longer declares",
                run_id=run_id,
            )


def _checked_hook(hook: OnTransition | None) -> OnTransition | None:
    """``on_transition`` as given, refused before any run is stored if it cannot be one: the
    runtime calls it and never awaits, so an ``async def`` hook would silently do nothing
    (a coroutine dropped on every record), and a non-callable would fail after the commit."""
    if hook is None:
        return None
    if not callable(hook):
        raise TypeError(f"on_transition must be a function hook(snapshot); got {hook!r}")
    dunder_call = type(hook).__dict__.get("__call__")
    if inspect.iscoroutinefunction(hook) or inspect.iscoroutinefunction(dunder_call):
        raise TypeError(
            f"on_transition must be a plain function: {hook!r} is async, and the runtime calls"
            " it without awaiting (it runs right after each commit, from the blocking API"
            " too); schedule async work from a plain function, e.g. queue.put_nowait(snapshot)"
        )
    return hook


def _spec_path(path: str) -> str:
    candidate = Path(path)
    return str(candidate.resolve()) if candidate.exists() else path


def _step_limit(max_steps: object) -> int:
    """A ``max_steps`` given to ``start`` or ``fork``, checked."""
    if isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1:
        raise RunError(f"max_steps must be an integer of at least 1; got {max_steps!r}")
    return max_steps


def _run_id(given: str | None) -> str:
    """The id a new run takes: the caller's, else a fresh one. A given id must be printable
    text: it is typed back into commands, and every store can keep it (PostgreSQL ``text``
    refuses a NUL; a lone surrogate is not UTF-8)."""
    if given is None:
        return new_run_id()
    if not isinstance(given, str) or not given.strip():
        raise RunError(f"a run id must be a non-empty string; got {given!r}")
    if not given.isprintable() or not is_text(given):
        raise RunError(
            f"a run id must be printable text (no control characters, no lone surrogates); "
            f"got {given!r}"
        )
    if given.startswith("-"):
        raise RunError(
            f"a run id must not start with '-' (got {given!r}): `fsm send`, `resume` and "
            f"`history` would read it as an option"
        )
    return given


REPLAY_BATCH = 1_000
"""Records a replay reads at a time: a run of a million steps is replayed in flat memory."""


def _read_in_batches(store: Store, run_id: str, head: int) -> Iterator[Snapshot]:
    """The run's records from seq 0 through ``head``, ``REPLAY_BATCH`` at a time."""
    for start in range(0, head + 1, REPLAY_BATCH):
        yield from store.history(run_id, start, min(start + REPLAY_BATCH, head + 1))


@contextmanager
def _naming_the_run(handle: RunHandle) -> Iterator[None]:
    """``start`` stores the run before it advances it: when something cuts the advance short
    (a cancelled task, Ctrl-C, an agent's ``sys.exit``), the caller never receives the handle,
    so the error names the run and how to go on. ``FsmError``s carry ``run_id`` already."""
    try:
        yield
    except FsmError:
        raise
    except BaseException as error:
        notes = getattr(error, "__notes__", ())
        if not any(handle.run_id in note for note in notes):
            error.add_note(
                f"run {handle.run_id} was created and is {handle.status} in '{handle.state}' at"
                f" seq {handle.seq} (its records so far are kept); continue it with"
                f" workflow.run({handle.run_id!r}).resume() (or async_resume())"
            )
        raise
