"""The templates ship in the wheel: build it, install it into a fresh venv, generate there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO


def run(command: list[str | Path], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_generate_from_an_installed_wheel(tmp_path: Path) -> None:
    """fsm generate in a venv with only the wheel installed finds the packaged templates and
    writes the same files as the repository checkout does."""
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO], tmp_path)
    (wheel,) = dist.glob("flow_orchestra-*.whl")
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--system-site-packages", venv], tmp_path)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet", wheel], tmp_path)
    where = run(
        [python, "-c", "import codegen.render as r; print(r.templates_dir())"], tmp_path
    ).stdout.strip()
    assert where.startswith(str(venv)), where
    assert where.endswith("codegen/templates")
    spec = REPO / "specs" / "content_pipeline.yaml"
    out, expected = tmp_path / "pkg", tmp_path / "expected"
    run([venv / "bin" / "fsm", "generate", spec, "-o", out], tmp_path)
    # from the checkout under test (first on sys.path in REPO), whatever else is installed
    run([sys.executable, "-m", "fsm", "generate", spec, "-o", expected], REPO)
    produced = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.py"))
    assert produced == sorted(p.relative_to(expected).as_posix() for p in expected.rglob("*.py"))
    for name in produced:
        assert (out / name).read_text() == (expected / name).read_text(), name
