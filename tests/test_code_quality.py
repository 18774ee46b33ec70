"""The repository's own quality gates, so CI fails when they slip: ruff and mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_ruff_lint_is_clean() -> None:
    """`ruff check .` reports nothing."""
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_ruff_format_is_clean() -> None:
    """`ruff format --check .` would change nothing."""
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_is_clean_on_fsm_and_codegen() -> None:
    """`mypy` (strict, configured for fsm/ and codegen/ in pyproject.toml) finds no error."""
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr
