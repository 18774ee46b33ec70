"""``fsm worker`` options checked before any store is opened."""

from __future__ import annotations

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
