"""Crash test: real ``fsm run`` processes SIGKILLed at random moments, then ``fsm resume``d.

Every run must complete with contiguous seqs, the same transitions as an uninterrupted run
(none applied twice, none lost) and the same final context.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from fsm.runtime import Workflow
from fsm.store import MemoryStore, SqliteStore

ROOT = Path(__file__).parents[2]
SPEC = ROOT / "specs" / "content_pipeline.yaml"
INPUT = ROOT / "specs" / "inputs" / "content_pipeline.json"
APPROVE = ROOT / "specs" / "inputs" / "content_pipeline_approve.json"
RUNS = 20
PARALLEL = 4


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env["FSM_EXAMPLE_DELAY"] = "0.05"
    env.pop("FSM_STORE", None)
    return env


def _fsm(*args: str) -> list[str]:
    return [sys.executable, "-m", "fsm", *args]


def _reference() -> tuple[dict[str, object], list[tuple[str | None, str, str | None]]]:
    workflow = Workflow.from_spec(SPEC, store=MemoryStore())
    handle = workflow.start(json.loads(INPUT.read_text()))
    handle.send("approve", json.loads(APPROVE.read_text()))
    assert handle.status == "completed"
    steps = [(s.source, s.target, s.rule) for s in handle.history()]
    return handle.context_json, steps


@pytest.mark.slow
def test_sigkilled_runs_resume_to_the_uninterrupted_result(tmp_path: Path) -> None:
    """Kill real processes anywhere; resume; each run equals an uninterrupted one."""
    expected_context, expected_steps = _reference()
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    rng = random.Random(20240601)
    env = _env()
    run_ids = [f"crash{i:03d}" for i in range(RUNS)]
    start = [
        "run", str(SPEC), "--input", f"@{INPUT}", "--send", f"approve=@{APPROVE}", "--store", url,
    ]  # fmt: skip
    killed = 0
    for batch in range(0, RUNS, PARALLEL):
        processes = [
            (
                subprocess.Popen(
                    _fsm(*start, "--run-id", run_id),
                    cwd=tmp_path,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                ),
                rng.uniform(0.2, 1.1),
            )
            for run_id in run_ids[batch : batch + PARALLEL]
        ]
        began = time.monotonic()
        for process, kill_at in sorted(processes, key=lambda p: p[1]):
            time.sleep(max(0.0, kill_at - (time.monotonic() - began)))
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
        for process, _ in processes:
            process.wait(timeout=30)
    assert killed >= RUNS // 3, "too few runs were interrupted to test anything"

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(lambda run_id: _finish(run_id, start, url, tmp_path, env), run_ids))

    store = SqliteStore(tmp_path / "runs.db")
    try:
        for run_id in run_ids:
            run = store.get_run(run_id)
            assert (run.status, run.state) == ("completed", "published"), run_id
            history = store.history(run_id)
            assert [s.seq for s in history] == list(range(len(history)))
            assert [(s.source, s.target, s.rule) for s in history] == expected_steps
            assert store.load_state(run_id).context == expected_context
    finally:
        store.close()


def _finish(run_id: str, start: list[str], url: str, cwd: Path, env: dict[str, str]) -> None:
    """Resume a run (or start it, if it was killed before its first record), then approve."""
    resumed = subprocess.run(
        _fsm("resume", run_id, "--store", url, "--json"),
        cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if resumed.returncode != 0 and "no run" in resumed.stderr:
        resumed = subprocess.run(
            _fsm(*start, "--run-id", run_id, "--json"),
            cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    status = json.loads(resumed.stdout)["status"]
    if status == "waiting":
        sent = subprocess.run(
            _fsm("send", run_id, "approve", "--data", f"@{APPROVE}", "--store", url, "--json"),
            cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert sent.returncode == 0, sent.stderr
        status = json.loads(sent.stdout)["status"]
    assert status == "completed", run_id
