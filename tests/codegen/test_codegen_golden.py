"""The generated package of every example spec matches its golden files byte for byte.

Regenerate the golden files after an intended change with ``FSM_UPDATE_GOLDEN=1 pytest
tests/codegen/test_codegen_golden.py`` and review the diff like any other code change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import HOSTILE_SPEC, LINT_HOSTILE_SPEC, SPECS

from codegen.generate import render_files
from fsm.spec.validate import load_checked

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("FSM_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("spec", [*SPECS, HOSTILE_SPEC, LINT_HOSTILE_SPEC], ids=lambda p: p.stem)
def test_generated_files_match_golden(spec: Path) -> None:
    """Each generated file equals tests/codegen/golden/<spec>/<file>.golden."""
    checked = load_checked(spec)
    files = render_files(checked, f"../../specs/{spec.name}")
    folder = GOLDEN / spec.stem
    expected_names = {f"{file.path}.golden" for file in files}
    if UPDATE:
        for file in files:
            target = folder / f"{file.path}.golden"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.text.encode("utf-8"))
    found = {p.relative_to(folder).as_posix() for p in folder.rglob("*.golden")}
    assert found == expected_names, "golden files differ in number; run with FSM_UPDATE_GOLDEN=1"
    for file in files:
        golden = (folder / f"{file.path}.golden").read_text(encoding="utf-8")
        assert file.text == golden, f"{spec.stem}/{file.path} changed; see the module docstring"
