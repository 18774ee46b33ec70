"""Worker throughput on PostgreSQL: steps/s and runs/s with 1, 2 and 4 `fsm worker` processes.

Each round gets a fresh schema and RUNS runs of the chaos workflow (tests/postgres/specs), each
STEPS steps long, whose agent waits AGENT_DELAY seconds as if on I/O. The runs are created
already leased to a "gate" owner, the workers are started and given time to boot, then one
statement drops the gate: the clock runs from there until the last run completes. Workers
idle-poll every 0.5 s, so a round includes up to that much start latency.

Usage: ``FSM_BENCH_POSTGRES_URL=postgresql://user@host:port/db python
benchmarks/worker_throughput.py [--runs N] [--steps N] [--delay S] [--concurrency N]``
(falls back to ``FSM_TEST_POSTGRES_URL``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import sql

from fsm.runtime import Workflow
from fsm.store.postgres import PostgresStore

SPEC = (
    Path(__file__).resolve().parent.parent / "tests" / "postgres" / "specs" / "chaos_counter.yaml"
)
GATE = "benchmark-gate"


def scoped(url: str, schema: str) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-c search_path={schema}')}"


def one_round(url: str, workers: int, args: argparse.Namespace) -> tuple[float, int]:
    """Seconds from opening the gate to the last completed run, and the steps taken."""
    schema = f"fsm_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            return _measure(scoped(url, schema), workers, args)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _measure(url: str, workers: int, args: argparse.Namespace) -> tuple[float, int]:
    with closing(PostgresStore(url)) as store:
        workflow = Workflow.from_spec(SPEC, store=store)
        start = {"job": {"seed": 0, "target": args.steps}}
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda _: workflow.start(start, detach=True), range(args.runs)))
        assert len(store.claim(GATE, 3600, limit=args.runs)) == args.runs
        env = {**os.environ, "FSM_CHAOS_DELAY": str(args.delay)}
        command = [sys.executable, "-m", "fsm", "worker", "--store", url, "-q"]
        command += ["--concurrency", str(args.concurrency), "--idle-exit", "5"]
        processes = [
            subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL) for _ in range(workers)
        ]
        time.sleep(3.0)  # let every worker import, connect and start polling
        with psycopg.connect(url, autocommit=True) as db:
            opened = time.perf_counter()
            db.execute("UPDATE runs SET lease_owner = NULL, lease_expires_at = NULL")
            while db.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone() != (
                0,
            ):
                time.sleep(0.02)
            elapsed = time.perf_counter() - opened
            row = db.execute("SELECT sum(seq) FROM runs").fetchone()
        for process in processes:
            process.wait(timeout=60)
    assert row is not None
    return elapsed, int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.01, help="agent I/O wait, seconds")
    parser.add_argument("--concurrency", type=int, default=16, help="runs per worker")
    args = parser.parse_args()
    url = os.environ.get("FSM_BENCH_POSTGRES_URL") or os.environ.get("FSM_TEST_POSTGRES_URL")
    if not url:
        sys.exit("set FSM_BENCH_POSTGRES_URL (or FSM_TEST_POSTGRES_URL) to a PostgreSQL URL")
    with psycopg.connect(url) as db:
        server = db.execute("SHOW server_version").fetchone()
    print(
        f"{time.strftime('%Y-%m-%d')}  Python {platform.python_version()}  PostgreSQL"
        f" {server[0] if server else '?'}  psycopg {psycopg.__version__}  {os.cpu_count()} CPUs"
        f"  {platform.machine()}"
    )
    print(
        f"{args.runs} runs x {args.steps} steps, agent waits {args.delay * 1000:g} ms,"
        f" --concurrency {args.concurrency}, 4 lanes per worker\n"
    )
    print(f"{'workers':>7}  {'seconds':>8}  {'steps/s':>8}  {'runs/s':>7}")
    for workers in (1, 2, 4):
        elapsed, steps = one_round(url, workers, args)
        print(
            f"{workers:>7}  {elapsed:>8.2f}  {steps / elapsed:>8.0f}  {args.runs / elapsed:>7.1f}"
        )


if __name__ == "__main__":
    main()
