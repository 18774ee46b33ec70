"""Generated code stays lint-clean however deep the output folder sits from the spec."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import REPO, generate_package


def test_a_long_relative_spec_path_keeps_generated_code_ruff_clean(tmp_path: Path) -> None:
    """The header names the spec by a long relative path; ruff's line-length rule still passes."""
    out = tmp_path.joinpath(*[f"nested_folder_{i}" for i in range(30)], "pipeline")
    generate_package(REPO / "specs" / "content_pipeline.yaml", out)
    first_line = (out / "contracts.py").read_text(encoding="utf-8").splitlines()[0]
    assert len(first_line) > 100
    spec_module = (out / "spec.py").read_text(encoding="utf-8")
    assert "SPEC_PATH: Final = (\n" in spec_module
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "check",
            "--no-cache",
            "--isolated",
            "--select",
            "E501,RUF100",
            "--line-length",
            "100",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
