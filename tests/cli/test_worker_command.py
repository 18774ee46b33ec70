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
