"""Chaos: 500 runs, 4 `fsm worker` processes SIGKILLed and restarted at random, one database.

Every run must complete with contiguous seqs and exactly the context of an uninterrupted run.
The chaos workflow's agent writes its idempotency key (run:seq:attempt) into the context at
every step, so a step applied twice, lost or reordered would show in the final context.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import IO

import pytest

from fsm.runtime import Workflow
from fsm.store import MemoryStore
from fsm.store.postgres import PostgresStore

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SPEC = Path(__file__).parent / "specs" / "chaos_counter.yaml"
RUNS = 500
WORKERS = 4
LEASE_SECONDS = 1.0
# Each agent call waits this long, as if on I/O. With 8 runs per worker it also caps a worker at
# 400 steps/s, so even on a fast machine the ~5,000 steps last long enough for several kills.
AGENT_DELAY = "0.02"
CONCURRENCY = "8"
DEADLINE_SECONDS = 150.0


def job(index: int) -> dict[str, object]:
    """Run ``index``'s start input: 5 to 15 steps."""
    return {"job": {"seed": index, "target": 5 + index % 11}}


class WorkerPool:
    """``fsm worker`` processes that can be SIGKILLed and restarted, each logging to a file."""

    def __init__(self, url: str, logs: Path) -> None:
        self.url = url
        self.logs = logs
        self.started = 0
        self.processes: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        self.started += 1
        log = (self.logs / f"worker-{self.started}.log").open("wb")
        self._files.append(log)
        command = [sys.executable, "-m", "fsm", "worker", "--store", self.url]
        command += ["--concurrency", CONCURRENCY, "--lease", str(LEASE_SECONDS), "--quiet"]
        env = {**os.environ, "FSM_CHAOS_DELAY": AGENT_DELAY}
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        self.processes.append(process)
        return process

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a random live worker and start a replacement."""
        live = [process for process in self.processes if process.poll() is None]
        victim = rng.choice(live)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
        self.processes.remove(victim)
        self.start()

    def stop(self) -> list[int]:
        """SIGTERM every worker; their exit codes."""
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=30) for process in self.processes]
        for log in self._files:
            log.close()
        return codes

    def kill_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        for log in self._files:
            log.close()


@pytest.fixture
def workers(postgres_url: str, tmp_path: Path) -> Iterator[WorkerPool]:
    pool = WorkerPool(postgres_url, tmp_path)
    yield pool
    pool.kill_all()


def test_runs_survive_workers_killed_at_random(
    postgres_url: str, workers: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """500 runs under 4 randomly SIGKILLed workers all complete, with contiguous seqs and the
    exact context (idempotency key per step included) of an uninterrupted run."""
    with closing(PostgresStore(postgres_url)) as store:
        workflow = Workflow.from_spec(SPEC, store=store)
        with ThreadPoolExecutor(8) as pool:  # commits overlap: 500 one by one take seconds
            handles = pool.map(lambda index: workflow.start(job(index), detach=True), range(RUNS))
            run_ids = [handle.run_id for handle in handles]

        for _ in range(WORKERS):
            workers.start()
        rng = random.Random(7)
        kills = 0
        deadline = time.monotonic() + DEADLINE_SECONDS
        while _unfinished(store) and time.monotonic() < deadline:
            time.sleep(rng.uniform(0.3, 0.9))
            if _unfinished(store):
                workers.kill_one(rng)
                kills += 1
        # A worker still starting up when SIGTERM arrives dies of it; a running one exits 0.
        assert set(workers.stop()) <= {0, -signal.SIGTERM}
        assert not _unfinished(store), f"runs left unfinished after {DEADLINE_SECONDS} s"
        assert kills >= 3, f"only {kills} workers were killed; the test did not test much"

        monkeypatch.setenv("FSM_CHAOS_DELAY", "0")
        reference = Workflow.from_spec(SPEC, store=MemoryStore())
        for index, run_id in enumerate(run_ids):
            record = store.get_run(run_id)
            assert (record.status, record.state) == ("completed", "done")
            seqs = [snapshot.seq for snapshot in store.history(run_id)]
            assert seqs == list(range(record.seq + 1)), f"run {run_id}: seqs not contiguous"
            expected = reference.start(job(index), run_id=run_id)
            assert store.load_state(run_id).context == expected.context_json
            assert record.seq == expected.seq


def _unfinished(store: PostgresStore) -> int:
    return len(store.list_runs(status="running", limit=RUNS))
