"""``fsm worker`` options checked before any store is opened."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from fsm.cli import main
from fsm.worker import WorkerOptions


@pytest.mark.parametrize("worker_id", ["a\nb", "nul\x00", " ", ""])
def test_a_worker_id_must_be_printable_text(worker_id: str) -> None:
    """It is kept in every lease the worker takes (PostgreSQL text refuses a NUL)."""
    with pytest.raises(ValueError, match="worker_id must be non-empty printable text"):
        WorkerOptions(worker_id=worker_id)


def test_the_command_refuses_such_an_id_as_a_usage_error(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    result = CliRunner().invoke(main, ["worker", "--worker-id", "a\nb", "--store", store])
    assert result.exit_code == 2
    assert "worker_id must be non-empty printable text; got 'a\\nb'" in result.output
    assert not (tmp_path / "runs.db").exists()


def test_the_summary_says_what_each_count_means(tmp_path: Path) -> None:
    """The text summary uses --json's words, counted in singular or plural, and says that a
    run which went on to wait for an event counts as finished."""
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    root = Path(__file__).parents[2]
    spec = root / "specs" / "content_pipeline.yaml"
    brief = f"@{root / 'specs' / 'inputs' / 'content_pipeline.json'}"
    queued = CliRunner().invoke(
        main, ["run", str(spec), "--input", brief, "--store", store, "--detach"]
    )
    assert queued.exit_code == 0, queued.output
    result = CliRunner().invoke(
        main, ["worker", "--store", store, "--idle-exit", "0.2", "-q", "--worker-id", "w1"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "worker w1: claimed 1 run, took 6 steps; drives: 1 finished (the run waited, completed"
        " or failed), 0 handed back, 0 lost to another worker; 0 parked"
    )


def test_a_second_ctrl_c_quits_a_worker_at_once(tmp_path: Path) -> None:
    """The first Ctrl-C stops gracefully, which waits for the agent call in flight (here one
    of a minute); the second quits at once, exit 130, and the run is left to be taken over."""
    root = Path(__file__).parents[2]
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "slow")]).exit_code == 0
    agents = tmp_path / "slow" / "agents.py"
    started = tmp_path / "agent-started"
    agents.write_text(
        agents.read_text()
        + "\n\nimport pathlib, time\n\n_answer = answer\n\n\n"
        + "def answer(inputs: Any, call: Any) -> dict[str, object]:\n"
        + f"    pathlib.Path({str(started)!r}).touch()\n"
        + "    time.sleep(60)\n"
        + "    return _answer(inputs, call)\n"
    )
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    spec, data = tmp_path / "slow" / "slow.yaml", f"@{tmp_path / 'slow' / 'input.json'}"
    queued = runner.invoke(main, ["run", str(spec), "--input", data, "--store", store, "--detach"])
    assert queued.exit_code == 0, queued.output
    with subprocess.Popen(
        [sys.executable, "-m", "fsm", "worker", "--store", store, "--worker-id", "w1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        # a test runner may start children with SIGINT ignored, as shells do in the background
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    ) as worker:
        try:
            deadline = time.monotonic() + 30
            while not started.exists():  # the agent call is in flight
                assert time.monotonic() < deadline, "the worker never called the agent"
                time.sleep(0.05)
            worker.send_signal(signal.SIGINT)
            time.sleep(0.5)
            worker.send_signal(signal.SIGINT)
            _, err = worker.communicate(timeout=20)
        finally:
            worker.kill()
    assert worker.returncode == 130, err
    assert "stopping: claiming nothing more" in err
    assert "quit at once; the steps in flight were not recorded" in err


def test_a_memory_store_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs reach a worker through its store from other processes, and a memory store is
    this process's alone: the worker idled forever on an empty store."""
    result = CliRunner().invoke(main, ["worker", "--store", "memory://", "--idle-exit", "5"])
    assert result.exit_code == 2, result.output
    assert "a memory:// store is this process's alone" in result.stderr
    monkeypatch.setenv("FSM_STORE", "memory://")
    assert CliRunner().invoke(main, ["worker", "--idle-exit", "5"]).exit_code == 2


def test_a_worker_logs_a_retried_agent_failure_with_its_own_format(tmp_path: Path) -> None:
    """A failed attempt that is retried is logged by the runtime; a worker prints it as its
    own lines (time, level), not as a bare message from Python's last-resort handler."""
    root = Path(__file__).parents[2]
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path / "flaky")]).exit_code == 0
    spec_path = tmp_path / "flaky" / "flaky.yaml"  # its agent has `retry: 2`
    agents = tmp_path / "flaky" / "agents.py"
    agents.write_text(
        agents.read_text()
        + "\n\n_answer = answer\n\n\n"
        + "def answer(inputs: Any, call: Any) -> dict[str, object]:\n"
        + "    if call.attempt == 1:\n"
        + "        raise ConnectionError('the model hung up')\n"
        + "    return _answer(inputs, call)\n"
    )
    store = f"sqlite:///{tmp_path / 'runs.db'}"
    data = f"@{tmp_path / 'flaky' / 'input.json'}"
    queued = runner.invoke(
        main, ["run", str(spec_path), "--input", data, "--store", store, "--detach"]
    )
    assert queued.exit_code == 0, queued.output
    done = subprocess.run(
        [sys.executable, "-m", "fsm", "worker", "--store", store, "--idle-exit", "0.2"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(root)},
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stderr.splitlines() if "retrying in" in line)
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d [\d:,]+ WARNING run \w+ seq 1: agent 'answerer' failed \(attempt 1 of"
        r" 2\): ConnectionError: the model hung up; retrying in 0 s",
        line,
    ), line
