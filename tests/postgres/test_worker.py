"""The worker loop: claims, drives, releases, stops, parks and takes over runs.

Most tests use the in-memory store (the loop only knows the ``Store`` protocol), so they run
without a server; the last ones run two workers against PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from contextlib import closing
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner

from fsm.cli.main import main
from fsm.errors import StoreError
from fsm.runtime import AgentCall, Workflow
from fsm.store import MemoryStore, Store
from fsm.store.postgres import PostgresStore
from fsm.worker import Worker, WorkerOptions, WorkerReport

SPEC = Path(__file__).parent / "specs" / "chaos_counter.yaml"


@pytest.fixture(autouse=True)
def fast_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSM_CHAOS_DELAY", "0")


def enqueue(store: Store, count: int, target: int = 6, spec: Path = SPEC) -> list[str]:
    workflow = Workflow.from_spec(spec, store=store)
    return [
        workflow.start({"job": {"seed": i, "target": target}}, detach=True).run_id
        for i in range(count)
    ]


def _spec_copy(folder: Path) -> Path:
    """The test spec and its agents copied into ``folder``, to be edited or removed."""
    shutil.copy(SPEC.parent / "chaos_agents.py", folder)
    return Path(shutil.copy(SPEC, folder / SPEC.name))


def work(store: Store, **options: object) -> WorkerReport:
    settings = {"idle_exit": 0.05, "poll_seconds": 0.01, **options}
    return asyncio.run(Worker(store, WorkerOptions(**settings)).run())  # type: ignore[arg-type]


def test_a_worker_drives_every_queued_run_to_the_end() -> None:
    """All detached runs complete, each with the context of a run driven in the foreground."""
    store = MemoryStore()
    run_ids = enqueue(store, 20)
    report = work(store, concurrency=4, lanes=2)
    assert (report.claimed, report.finished, report.steps) == (20, 20, 20 * 6)
    reference = Workflow.from_spec(SPEC, store=MemoryStore())
    for index, run_id in enumerate(run_ids):
        record = store.get_run(run_id)
        assert (record.status, record.lease_owner) == ("completed", None)
        expected = reference.start({"job": {"seed": index, "target": 6}}, run_id=run_id)
        assert store.load_state(run_id).context == expected.context_json


def test_max_runs_stops_claiming_after_that_many() -> None:
    """With max_runs=3 the worker finishes exactly three runs and leaves the rest queued."""
    store = MemoryStore()
    enqueue(store, 5)
    report = work(store, concurrency=2, max_runs=3, idle_exit=None)
    assert (report.claimed, report.finished) == (3, 3)
    assert len(store.list_runs(status="running")) == 2


def test_a_worker_runs_once() -> None:
    """A second run() of the same Worker is refused: it returned at once after stop() (the
    stop stays in force) and, after an idle exit, reported both runs added up."""
    store = MemoryStore()
    worker = Worker(store, WorkerOptions(idle_exit=0.05, poll_seconds=0.01))
    assert asyncio.run(worker.run()).claimed == 0
    with pytest.raises(RuntimeError, match="a Worker runs once"):
        asyncio.run(worker.run())
    enqueue(store, 1)
    assert work(store).finished == 1  # a new Worker does the work


def test_an_idle_worker_exits_after_idle_exit() -> None:
    """With nothing to do, the worker returns after about idle_exit seconds."""
    started = time.monotonic()
    report = work(MemoryStore(), idle_exit=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert report.claimed == 0


def test_a_dead_workers_run_is_taken_over_when_its_lease_expires() -> None:
    """A run leased by a worker that never heartbeats is claimed and finished after expiry."""
    store = MemoryStore()
    (run_id,) = enqueue(store, 1)
    assert store.claim("dead-worker", 0.3) == [run_id]
    started = time.monotonic()
    report = work(store, idle_exit=1.0)
    assert report.finished == 1
    assert time.monotonic() - started >= 0.3
    assert store.get_run(run_id).status == "completed"


def test_a_run_whose_spec_is_missing_is_parked_not_dropped(tmp_path: Path) -> None:
    """A run this machine cannot open stays running and leased (retried after expiry)."""
    spec = _spec_copy(tmp_path)
    store = MemoryStore()
    (run_id,) = enqueue(store, 1, spec=spec)
    spec.unlink()
    report = work(store, worker_id="w1", lease_seconds=30)
    assert (report.claimed, report.parked, report.finished) == (1, 1, 0)
    record = store.get_run(run_id)
    assert (record.status, record.lease_owner) == ("running", "parked:w1")
    assert store.claim("w2", 30) == []  # not retried before its lease expires


class _RivalAfterEachLeaseWrite:
    """A store whose every lease write is followed at once by another worker's claim: what a
    worker polling at that moment would get."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.rival_got: list[list[str]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        if name not in {"lease", "release", "hand_over"}:
            return method

        def then_a_rival_claims(*args: Any, **kwargs: Any) -> Any:
            result = method(*args, **kwargs)
            self.rival_got.append(self.store.claim("w2", 30, 10))
            return result

        return then_a_rival_claims


def test_parking_a_run_leaves_no_moment_without_a_lease(tmp_path: Path) -> None:
    """Parking used to release the worker's lease and then lease the run again under
    parked:<worker>: a worker claiming in between took the run (and the parked lease was
    refused). The lease now changes hands in one store write, so no claim gets the run."""
    spec = _spec_copy(tmp_path)
    store = MemoryStore()
    (run_id,) = enqueue(store, 1, spec=spec)
    spec.unlink()
    watched = _RivalAfterEachLeaseWrite(store)
    report = work(cast(Store, watched), worker_id="w1", lease_seconds=30)
    assert report.parked == 1
    assert watched.rival_got
    assert all(got == [] for got in watched.rival_got)
    assert store.get_run(run_id).lease_owner == "parked:w1"


@pytest.mark.parametrize("escape", [SystemExit(0), KeyboardInterrupt(), GeneratorExit()])
def test_an_agent_exiting_parks_its_run_and_the_worker_goes_on(escape: BaseException) -> None:
    """An agent's sys.exit() on a lane used to stop that lane's loop: the worker never heard
    back from the run and hung for good, SIGTERM included. The run is parked instead and the
    other runs are driven to the end."""
    store = MemoryStore()
    run_ids = enqueue(store, 3)

    tick = Workflow.from_spec(SPEC, store=store).compiled.agents["ticker"].fn

    async def ticker(inputs: object, call: AgentCall) -> object:
        if call.run_id == run_ids[0]:
            raise escape
        return await tick(inputs, call)

    workflow = Workflow.from_spec(SPEC, store=store, agents={"ticker": ticker})
    report = asyncio.run(
        asyncio.wait_for(
            Worker(
                store, WorkerOptions(idle_exit=0.05, poll_seconds=0.01), workflows=[workflow]
            ).run(),
            timeout=20,
        )
    )
    assert (report.finished, report.parked) == (2, 1)
    assert store.get_run(run_ids[0]).status == "running"
    assert store.get_run(run_ids[0]).lease_owner is not None  # parked: not claimed at once
    assert [store.get_run(run_id).status for run_id in run_ids[1:]] == ["completed"] * 2


def test_a_parked_run_can_be_resumed_from_the_cli_while_workers_run(tmp_path: Path) -> None:
    """A run parked because its spec changed used to stay leased to the live worker (which
    claims it again at each expiry), so `fsm resume --allow-spec-change`, the fix the log
    suggests, was refused as 'leased by w1, which is advancing it' for as long as workers ran.
    The parked lease names the run as parked, and a command takes it over at once."""
    spec = _spec_copy(tmp_path)
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    from fsm.store import open_store

    with closing(open_store(url, cwd=tmp_path)) as store:
        (run_id,) = enqueue(store, 1, spec=spec)
        spec.write_text(spec.read_text().replace("leaves one mark.", "leaves a mark."))
        report = work(store, worker_id="w1", lease_seconds=300)
        assert (report.parked, store.get_run(run_id).status) == (1, "running")
    resumed = CliRunner().invoke(
        main, ["resume", run_id, "--allow-spec-change", "--store", url, "--json"]
    )
    assert resumed.exit_code == 0, resumed.output
    with closing(open_store(url, cwd=tmp_path)) as store:
        record = store.get_run(run_id)
        assert (record.status, record.lease_owner) == ("completed", None)


def test_a_parked_run_someone_else_finished_is_not_reported_parked(tmp_path: Path) -> None:
    """The report's ``parked`` used to count every run the worker ever parked, so a run that
    `fsm resume` (or another worker) finished meanwhile was still reported as stuck. It
    counts the runs still where the worker left them when it reports."""
    spec = _spec_copy(tmp_path)
    moved = tmp_path / "elsewhere.yaml"
    store = MemoryStore()
    fixed, stuck = enqueue(store, 2, spec=spec)
    spec.rename(moved)

    async def finish_one_meanwhile() -> WorkerReport:
        worker = Worker(store, WorkerOptions(worker_id="w1", lease_seconds=30, idle_exit=1.0))
        running = asyncio.create_task(worker.run())
        deadline = time.monotonic() + 30
        while {store.get_run(run_id).lease_owner for run_id in (fixed, stuck)} != {"parked:w1"}:
            assert time.monotonic() < deadline, "the worker never parked both runs"
            await asyncio.sleep(0.01)
        moved.rename(spec)  # the spec is back: `fsm resume` finishes one of them
        handle = Workflow.from_spec(spec, store=store).run(fixed)
        await asyncio.to_thread(handle.advance)
        spec.unlink()
        return await running

    report = asyncio.run(finish_one_meanwhile())
    assert store.get_run(fixed).status == "completed"
    assert store.get_run(stuck).status == "running"
    assert (report.claimed, report.parked, report.finished) == (2, 1, 0)


def test_a_run_parked_after_a_committed_step_is_reported_parked() -> None:
    """An ``on_transition`` hook raising after seq 2 was committed parks the run at seq 2; the
    worker kept seq 1 as where it left the run, so its report said parked 0 (and one step
    fewer) while the run stayed parked."""
    store = MemoryStore()
    (run_id,) = enqueue(store, 1)

    def hook(snapshot: object) -> None:
        if getattr(snapshot, "seq", None) == 2:
            raise ValueError("the hook failed")

    workflow = Workflow.from_spec(SPEC, store=store, on_transition=hook)
    options = WorkerOptions(worker_id="w1", idle_exit=0.05, poll_seconds=0.01)
    report = asyncio.run(Worker(store, options, workflows=[workflow]).run())
    record = store.get_run(run_id)
    assert (record.status, record.seq, record.lease_owner) == ("running", 2, "parked:w1")
    assert (report.claimed, report.parked, report.steps) == (1, 1, 2)


def test_a_given_workflow_drives_the_runs_in_the_workers_store() -> None:
    """A workflow passed for its agents but opened on another store (``from_spec`` without
    ``store=``) looked each claimed run up in that store: every run was parked as not found."""
    store = MemoryStore()
    run_ids = enqueue(store, 2)
    elsewhere = Workflow.from_spec(SPEC, store=MemoryStore())
    options = WorkerOptions(worker_id="w1", idle_exit=0.05, poll_seconds=0.01)
    report = asyncio.run(Worker(store, options, workflows=[elsewhere]).run())
    assert (report.claimed, report.finished, report.parked) == (2, 2, 0)
    assert [store.get_run(run_id).status for run_id in run_ids] == ["completed"] * 2
    assert elsewhere.store.list_runs() == []


def test_a_worker_id_cannot_pose_as_a_parked_lease() -> None:
    """Commands take over leases named parked:…, so a live worker may not be named so."""
    with pytest.raises(ValueError, match="must not start with 'parked:'"):
        WorkerOptions(worker_id="parked:w1")


def test_a_parked_run_claimed_again_does_not_keep_an_idle_worker_alive(tmp_path: Path) -> None:
    """With a lease shorter than --idle-exit, the parked run comes back every lease: the worker
    still exits once idle, and reports one claimed and one parked run, not one per retry."""
    spec = _spec_copy(tmp_path)
    store = MemoryStore()
    enqueue(store, 1, spec=spec)
    spec.unlink()
    began = time.monotonic()
    report = work(store, worker_id="w1", lease_seconds=0.05, idle_exit=0.5, poll_seconds=0.01)
    assert time.monotonic() - began < 10
    assert (report.claimed, report.parked, report.finished) == (1, 1, 0)


def test_stop_hands_runs_back_after_their_current_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """stop() ends the worker promptly; unfinished runs are released, consistent and resumable."""
    monkeypatch.setenv("FSM_CHAOS_DELAY", "0.02")
    store = MemoryStore()
    run_ids = enqueue(store, 4, target=40)

    async def stop_soon() -> WorkerReport:
        worker = Worker(store, WorkerOptions(concurrency=4, poll_seconds=0.01))
        running = asyncio.create_task(worker.run())
        # Stop once every run has taken a step (not after a fixed time: a loaded machine may
        # not have claimed them all yet); 40 steps of 20 ms each leave them far from done.
        deadline = time.monotonic() + 30
        while min(store.get_run(run_id).seq for run_id in run_ids) < 1:
            assert time.monotonic() < deadline, "the worker never stepped every run"
            await asyncio.sleep(0.01)
        worker.stop()
        return await running

    report = asyncio.run(stop_soon())
    assert report.handed_back == 4
    for run_id in run_ids:
        record = store.get_run(run_id)
        assert (record.status, record.lease_owner) == ("running", None)
        assert 0 < record.seq < 40
        assert store.load_state(run_id).context["count"] == record.seq


def test_a_run_whose_lease_is_taken_stops_even_with_a_sync_agent(tmp_path: Path) -> None:
    """A sync agent runs inline and never yields to the lane's loop; the driver still hands
    the loop a turn after every step, so the heartbeat's cancel lands after the current step
    instead of never (the worker used to drive the run to its end with no lease)."""
    spec = tmp_path / SPEC.name
    spec.write_text(SPEC.read_text().replace("chaos_agents.py:tick", "sync_agents.py:tick"))
    (tmp_path / "sync_agents.py").write_text(
        "import time\n\n\n"
        "def tick(inputs, call):\n"
        "    time.sleep(0.02)\n"
        '    return {"value": inputs.count + 1, "mark": call.idempotency_key}\n'
    )
    store = MemoryStore()
    (run_id,) = enqueue(store, 1, target=50, spec=spec)

    async def steal_midway() -> tuple[WorkerReport, int]:
        worker = Worker(store, WorkerOptions(worker_id="w1", lease_seconds=0.3, idle_exit=0.5))
        running = asyncio.create_task(worker.run())
        deadline = time.monotonic() + 30
        while store.get_run(run_id).seq < 5:
            assert time.monotonic() < deadline, "the worker never stepped the run"
            await asyncio.sleep(0.005)
        store.release(run_id, "w1")
        assert store.lease(run_id, "thief", 60)
        stolen_at = store.get_run(run_id).seq
        return await running, stolen_at

    report, stolen_at = asyncio.run(steal_midway())
    record = store.get_run(run_id)
    assert (record.status, record.lease_owner) == ("running", "thief")
    # a heartbeat period (0.1 s of 20 ms steps) and the step in flight, with room for a
    # loaded machine; before the fix the worker went on to the end (seq 50)
    assert record.seq <= stolen_at + 25, (stolen_at, record.seq)
    assert report.lost == 1
    assert report.finished == 0


class _UnreachableRenewals(MemoryStore):
    """A store whose renewals, once ``down`` is set, each wait out a connection timeout and
    fail, as PostgreSQL's do while the server is down (10 s each there, 0.4 s here)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.failed_renewals = 0

    def renew(self, run_id: str, worker_id: str, lease_seconds: float) -> bool:
        if self.down:
            time.sleep(0.4)
            self.failed_renewals += 1
            raise StoreError("no connection to the store became free in time")
        return super().renew(run_id, worker_id, lease_seconds)


def test_a_store_outage_does_not_hold_a_stopping_worker_for_a_timeout_per_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the store down, a heartbeat pass tried every run in hand, each waiting out its
    timeout (8 runs x 10 s on PostgreSQL), and SIGTERM waited for the whole pass. A failed
    renewal now ends the pass; the next beat tries again."""
    monkeypatch.setenv("FSM_CHAOS_DELAY", "0.02")
    store = _UnreachableRenewals()
    run_ids = enqueue(store, 8, target=50)

    async def stop_in_outage() -> tuple[WorkerReport, float]:
        options = WorkerOptions(concurrency=8, lease_seconds=0.3, poll_seconds=0.01)
        worker = Worker(store, options)
        running = asyncio.create_task(worker.run())
        deadline = time.monotonic() + 30
        while min(store.get_run(run_id).seq for run_id in run_ids) < 1:
            assert time.monotonic() < deadline, "the worker never stepped every run"
            await asyncio.sleep(0.01)
        store.down = True
        await asyncio.sleep(0.2)  # a heartbeat (every 0.1 s) is in its pass now
        worker.stop()
        return await running, time.monotonic()

    started = time.monotonic()
    report, returned = asyncio.run(stop_in_outage())
    stopped = time.monotonic()
    assert report.handed_back == 8
    # before the fix: 8 renewals of 0.4 s in a row (3.2 s) after the loop had returned
    assert stopped - returned < 1.5, stopped - returned
    assert store.failed_renewals <= 3, store.failed_renewals
    assert stopped - started < 20


def test_fsm_worker_command_reports_what_it_did(tmp_path: Path) -> None:
    """`fsm run --detach` queues runs and `fsm worker --json` finishes them and says so."""
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    runner = CliRunner()
    start = '{"job": {"seed": 1, "target": 3}}'
    queued = runner.invoke(
        main, ["run", str(SPEC), "--input", start, "--store", url, "--detach", "--json"]
    )
    assert queued.exit_code == 0, queued.output
    run_id = json.loads(queued.output)["run_id"]
    worked = runner.invoke(main, ["worker", "--store", url, "--idle-exit", "0.1", "-q", "--json"])
    assert worked.exit_code == 0, worked.output
    report = json.loads(worked.output)
    assert (report["claimed"], report["finished"], report["steps"]) == (1, 1, 3)
    shown = runner.invoke(main, ["show", run_id, "--store", url, "--json"])
    assert json.loads(shown.output)["status"] == "completed"


def test_detach_refuses_send() -> None:
    """--detach with --send is a usage error (exit 2) explaining where events go instead."""
    result = CliRunner().invoke(
        main, ["run", str(SPEC), "--store", "memory://", "--detach", "--send", "approve"]
    )
    assert result.exit_code == 2
    assert "fsm send" in result.output


@pytest.mark.postgres
def test_two_workers_on_postgres_share_the_runs(postgres_url: str) -> None:
    """Two workers on one database finish every run exactly once between them."""
    with closing(PostgresStore(postgres_url)) as store:
        run_ids = enqueue(store, 40)

        async def both() -> list[WorkerReport]:
            workers = [
                Worker(store, WorkerOptions(concurrency=8, idle_exit=0.3, poll_seconds=0.01))
                for _ in range(2)
            ]
            return list(await asyncio.gather(*(worker.run() for worker in workers)))

        reports = asyncio.run(both())
        assert sum(report.finished for report in reports) == 40
        assert sum(report.lost for report in reports) == 0
        assert all(report.claimed > 0 for report in reports)
        assert {store.get_run(run_id).status for run_id in run_ids} == {"completed"}
