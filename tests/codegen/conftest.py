"""Shared helpers of the codegen tests: example specs, generating into tmp, importing results."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from codegen.generate import generate

collect_ignore_glob = ["golden/*"]  # golden files are expected output, not tests

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted((REPO / "specs").glob("*.yaml"))
HOSTILE_SPEC = Path(__file__).resolve().parent / "hostile_spec.yaml"
LINT_HOSTILE_SPEC = Path(__file__).resolve().parent / "lint_hostile_spec.yaml"
"""Realistic names and texts that once made generated code fail import, mypy or ruff."""
EDGE_SPECS = sorted((Path(__file__).resolve().parent / "edge_specs").glob("*.yaml"))
"""Specs with no agents, agents without inputs, events without data."""


@pytest.fixture
def import_package(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Import a generated package from a folder; forget it (and its submodules) afterwards."""
    loaded: list[str] = []

    def load(package_dir: Path, module: str = "") -> ModuleType:
        monkeypatch.syspath_prepend(str(package_dir.parent))
        name = package_dir.name + (f".{module}" if module else "")
        loaded.append(package_dir.name)
        return importlib.import_module(name)

    yield load
    for prefix in set(loaded):
        for name in [n for n in sys.modules if n == prefix or n.startswith(prefix + ".")]:
            del sys.modules[name]


def generate_package(spec: Path, out: Path) -> Path:
    generate(spec, out)
    return out
