"""``Worker``: one process driving many runs at once on an asyncio loop, under leases.

The coordinator on the caller's loop claims runnable runs while fewer than ``concurrency`` are
in hand (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers never block on or double-claim a
run) and renews their leases every third of ``lease_seconds``, all in one thread call; a lease
found taken over cancels that run's driver. Each claimed run gets a driver on one of a few
``Lanes`` (threads with their own loops): it steps the run (``RunHandle.async_step``: async
agents are awaited, so runs waiting on I/O overlap) until it waits, completes or fails, then
releases it.

Correctness never rests on the lease: a worker whose lease expired may still finish a step,
but the store accepts each seq once, so it gets ``ConflictError`` and drops the run. An agent
call in flight when its worker dies is made again by whoever takes the run over: at least
once, with the same ``AgentCall.idempotency_key`` (``run_id:seq:attempt``). See
``docs/scaling.md``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any, Literal

import attrs

from fsm.errors import ConflictError, FsmError, NotFoundError
from fsm.runtime import RunHandle, Workflow
from fsm.store import RunRecord, Store
from fsm.worker.lanes import Lanes
from fsm.worker.options import PARKED, WorkerOptions, WorkerReport, parked_owner
from fsm.worker.workflows import WorkflowSource

log = logging.getLogger("fsm.worker")


Outcome = Literal["finished", "handed_back", "lost", "parked"]


@attrs.define
class _Tally:
    """Counts kept on the coordinator's loop (drivers report their outcome to it)."""

    claimed: int = 0
    steps: int = 0
    outcomes: Counter[Outcome] = attrs.field(factory=Counter)


class Worker:
    """Claims runs from ``store`` and advances them until told to stop or out of work.

    ``store`` must be safe to use from several threads (every bundled store is): runs are
    stepped on ``options.lanes`` threads, and lease calls run in threads of their own.
    """

    def __init__(
        self,
        store: Store,
        options: WorkerOptions | None = None,
        *,
        workflows: Iterable[Workflow] = (),
    ) -> None:
        self.store = store
        self.options = options or WorkerOptions()
        self._source = WorkflowSource(store, workflows)
        self._tally = _Tally()
        self._active: dict[str, asyncio.Task[None]] = {}
        self._seen: set[str] = set()  # runs claimed at least once: ``claimed`` counts runs
        # runs this worker could not drive (yet), with the seq it left each at (None: unread)
        self._parked: dict[str, int | None] = {}
        self._stopping = asyncio.Event()
        self._stop_requested = threading.Event()  # what drivers on other lanes read
        self._started = False

    @property
    def worker_id(self) -> str:
        return self.options.worker_id

    def stop(self) -> None:
        """Stop claiming; each run in hand stops after its current step and is released.
        Call it on the worker's loop (e.g. from a signal handler installed there)."""
        self._stop_requested.set()
        self._stopping.set()

    async def run(self) -> WorkerReport:
        """Work until stopped, ``max_runs`` claimed runs are done, or idle for ``idle_exit``.
        A worker runs once (its report counts that one run, and a ``stop()`` stays in force):
        a second call raises ``RuntimeError``; make a new ``Worker`` to work again."""
        if self._started:
            raise RuntimeError(
                f"worker {self.worker_id} has already run (a Worker runs once); create a new"
                " Worker to work again"
            )
        self._started = True
        lanes = Lanes(min(self.options.lanes, self.options.concurrency))
        heartbeat = asyncio.create_task(self._heartbeat(), name="fsm-heartbeat")
        try:
            await self._claim_loop(lanes)
            if self._active:
                await asyncio.wait(list(self._active.values()))
        finally:
            heartbeat.cancel()
            for task in self._active.values():
                task.cancel()
            await asyncio.gather(heartbeat, *self._active.values(), return_exceptions=True)
            lanes.close()
        parked = await asyncio.to_thread(self._still_parked)
        tally = self._tally
        return WorkerReport(
            worker_id=self.worker_id,
            claimed=tally.claimed,
            steps=tally.steps,
            finished=tally.outcomes["finished"],
            handed_back=tally.outcomes["handed_back"],
            lost=tally.outcomes["lost"],
            parked=parked,
        )

    def _still_parked(self) -> int:
        """How many runs this worker parked are, read now, still where it left them: running,
        at the seq it parked them at, and leased to nobody advancing them (no lease, an
        expired one, or a ``parked:`` one). A run someone else has finished or moved on since
        is not stuck any more; one the store cannot be asked about counts, as last seen."""
        if not self._parked:
            return 0
        try:
            now = self.store.now()
        except FsmError as error:
            log.warning("%s: cannot recheck parked runs: %s", self.worker_id, error)
            return len(self._parked)
        count = 0
        for run_id, seq in self._parked.items():
            try:
                run = self.store.get_run(run_id)
            except NotFoundError:
                continue
            except FsmError as error:
                log.warning("%s: cannot recheck parked run %s: %s", self.worker_id, run_id, error)
                count += 1
                continue
            count += _left_as_parked(run, seq, now)
        return count

    # Claiming ----------------------------------------------------------------------------------

    async def _claim_loop(self, lanes: Lanes) -> None:
        options = self.options
        idle_since = time.monotonic()
        while not self._stopping.is_set():
            wanted = options.concurrency - len(self._active)
            if options.max_runs is not None:
                wanted = min(wanted, options.max_runs - self._tally.claimed)
                if wanted <= 0 and not self._active:
                    return
            claimed: list[str] = []
            if wanted > 0:
                claimed = await self._claim(wanted)
            for run_id in claimed:
                if run_id not in self._seen:
                    self._seen.add(run_id)
                    self._tally.claimed += 1
                task = asyncio.create_task(self._supervise(run_id, lanes), name=f"fsm-{run_id}")
                self._active[run_id] = task
                task.add_done_callback(self._forget)
            # A parked run comes back each time its lease expires; retrying it is not work, so
            # it neither keeps the worker from its idle exit nor counts again toward max_runs.
            if any(run_id not in self._parked for run_id in (*claimed, *self._active)):
                idle_since = time.monotonic()
            elif self._idle_too_long(idle_since):
                log.info("%s: idle for %.1f s, exiting", self.worker_id, options.idle_exit)
                return
            if len(claimed) < wanted or wanted <= 0:
                await self._pause()

    def _idle_too_long(self, idle_since: float) -> bool:
        idle_exit = self.options.idle_exit
        return idle_exit is not None and time.monotonic() - idle_since >= idle_exit

    def _forget(self, task: asyncio.Task[None]) -> None:
        for run_id, active in list(self._active.items()):
            if active is task:
                del self._active[run_id]

    async def _claim(self, wanted: int) -> list[str]:
        options = self.options
        try:
            return await asyncio.to_thread(
                self.store.claim, options.worker_id, options.lease_seconds, wanted
            )
        except FsmError as error:
            log.warning("%s: claiming failed, will retry: %s", self.worker_id, error)
            return []

    async def _pause(self) -> None:
        """Sleep until a run in hand finishes, a stop is asked, or the poll interval passes."""
        stopping = asyncio.ensure_future(self._stopping.wait())
        waiters: set[asyncio.Future[Any]] = {stopping, *self._active.values()}
        try:
            await asyncio.wait(
                waiters, timeout=self.options.poll_seconds, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            stopping.cancel()

    # Driving one run ---------------------------------------------------------------------------

    async def _supervise(self, run_id: str, lanes: Lanes) -> None:
        """Drive ``run_id`` on a lane and count how that ended (cancelled: lease lost)."""
        outcome, steps, seq = await lanes.run(self._drive(run_id))
        self._tally.steps += steps
        self._tally.outcomes[outcome] += 1
        if outcome == "parked":
            self._parked[run_id] = seq
        else:
            self._parked.pop(run_id, None)

    async def _drive(self, run_id: str) -> tuple[Outcome, int, int | None]:
        """Step ``run_id`` until it leaves ``running`` or the worker stops; then release it.
        Runs on a lane's loop.

        A run this worker cannot drive is parked: logged and left leased, so it is retried
        after the lease expires instead of being claimed again at once. Also returns the seq
        the run was last seen at (None if it could not be read)."""
        outcome: Outcome = "parked"
        steps = 0
        seq: int | None = None
        handle: RunHandle | None = None
        try:
            record = await asyncio.to_thread(self.store.get_run, run_id)
            seq = record.seq
            handle = await asyncio.to_thread(self._open, record)
            while handle.status == "running":
                if self._stop_requested.is_set():
                    outcome = "handed_back"
                    return outcome, steps, seq
                await handle.async_step()
                steps += 1
                seq = handle.seq
                # A step with a sync agent never suspends, so without this turn the lane's loop
                # would never deliver a cancel (lease taken over) nor run its other runs.
                await asyncio.sleep(0)
            log.info(
                "%s: run %s %s in '%s' at seq %d",
                *(self.worker_id, run_id, handle.status, handle.state, handle.seq),
            )
            outcome = "finished"
        except ConflictError as error:
            outcome = "lost"
            log.info("%s: run %s taken over: %s", self.worker_id, run_id, error)
        except FsmError as error:
            log.error("%s: cannot drive run %s (parked): %s", self.worker_id, run_id, error)
            await self._park(run_id)
        except Exception:
            log.exception("%s: unexpected failure driving run %s (parked)", self.worker_id, run_id)
            await self._park(run_id)
        except asyncio.CancelledError:
            raise  # the lease was taken over, or the worker is shutting down
        except BaseException as error:
            # An agent's sys.exit(), KeyboardInterrupt or GeneratorExit: no signal reaches a
            # lane's thread, so it is the agent's. Escaping this task it would stop the lane's
            # loop, and the worker would wait for that run forever (SIGTERM included).
            log.error(
                "%s: a step of run %s raised %s(%s), not recorded (parked); an agent must not"
                " exit the process",
                *(self.worker_id, run_id, type(error).__name__, error),
            )
            await self._park(run_id)
        finally:
            if outcome != "parked":
                await self._release(run_id)
        if outcome == "parked" and handle is not None and seq is not None and handle.seq > seq:
            # The step was committed before something after it raised (an ``on_transition``
            # hook): the run is parked at the handle's seq, and that step was taken.
            steps += handle.seq - seq
            seq = handle.seq
        return outcome, steps, seq

    def _open(self, record: RunRecord) -> RunHandle:
        return self._source.for_run(record).run(record.run_id)

    async def _park(self, run_id: str) -> None:
        """Leave the run leased under ``parked:<worker id>`` for a lease: workers do not claim
        it again before then, but a command may take it over at once (e.g. ``fsm resume
        --allow-spec-change``), since nobody is advancing it. The lease changes hands in one
        store write (``Store.hand_over``), so no other worker claims the run meanwhile; if this
        worker no longer holds it, nothing changes. If the store cannot be reached, the lease
        stays under this worker's name and simply expires."""
        options = self.options
        parked = parked_owner(options.worker_id)
        try:
            await asyncio.to_thread(
                self.store.hand_over, run_id, options.worker_id, parked, options.lease_seconds
            )
        except FsmError as error:
            log.warning("%s: marking run %s parked failed: %s", self.worker_id, run_id, error)

    async def _release(self, run_id: str) -> None:
        try:
            await asyncio.to_thread(self.store.release, run_id, self.worker_id)
        except FsmError as error:  # the lease expires on its own
            log.warning("%s: releasing run %s failed: %s", self.worker_id, run_id, error)

    # Heartbeat ---------------------------------------------------------------------------------

    async def _heartbeat(self) -> None:
        """Renew every lease in hand; cancel the driver of a run whose lease was taken over."""
        while True:
            await asyncio.sleep(self.options.heartbeat_seconds)
            held = dict(self._active)
            if not held:
                continue
            lost = await asyncio.to_thread(self._renew_all, list(held))
            for run_id in lost:
                task = held[run_id]
                if not task.done():
                    log.info("%s: lease on run %s was taken over", self.worker_id, run_id)
                    self._tally.outcomes["lost"] += 1
                    task.cancel()

    def _renew_all(self, run_ids: list[str]) -> list[str]:
        """Renew each lease (in a thread, off every loop); the runs whose lease is gone.

        A renewal the store fails ends the pass: the store is unreachable or in trouble, and
        each further renewal would wait out its own connection timeout (10 s on PostgreSQL),
        so one pass over ``concurrency`` runs took minutes and a stopping worker waited for
        it. The next beat tries them all again."""
        options = self.options
        lost: list[str] = []
        for run_id in run_ids:
            try:
                if not self.store.renew(run_id, options.worker_id, options.lease_seconds):
                    lost.append(run_id)
            except NotFoundError as error:  # this run only (deleted behind the store's back)
                log.warning("%s: renewing run %s failed: %s", self.worker_id, run_id, error)
            except FsmError as error:  # the server may be back by the next beat
                log.warning(
                    "%s: renewing leases failed, retrying at the next heartbeat: %s",
                    *(self.worker_id, error),
                )
                break
        return lost


def _left_as_parked(run: RunRecord, seq: int | None, now: float) -> bool:
    """Whether ``run``, parked at ``seq``, is still stuck there: nobody finished or advanced
    it since, and nobody but a parking worker holds a live lease on it."""
    if run.status != "running" or (seq is not None and run.seq != seq):
        return False
    owner, expires = run.lease_owner, run.lease_expires_at
    return owner is None or owner.startswith(PARKED) or expires is None or expires <= now
