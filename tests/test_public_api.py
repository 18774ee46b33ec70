"""The public façade: what `import fsm` offers is deliberate, sorted and importable."""

from __future__ import annotations

import importlib
import pkgutil

import fsm


def test_all_is_sorted_and_unique() -> None:
    """__all__ is sorted case-sensitively with no duplicates, so diffs stay reviewable."""
    assert fsm.__all__ == sorted(set(fsm.__all__))


def test_every_exported_name_exists() -> None:
    """Each name in __all__ is importable from the package."""
    missing = [name for name in fsm.__all__ if not hasattr(fsm, name)]
    assert missing == []


def test_public_classes_and_functions_are_exported() -> None:
    """Public objects defined in fsm's modules and re-exported at the top are in __all__."""
    exported = set(fsm.__all__)
    public = {
        name
        for name in dir(fsm)
        if not name.startswith("_") and not isinstance(getattr(fsm, name), type(fsm))
    }
    assert public == exported


def test_every_module_imports_cleanly() -> None:
    """No module of the package fails to import (catches stale imports and cycles)."""
    for module in pkgutil.walk_packages(fsm.__path__, "fsm."):
        if module.name.endswith("postgres"):
            continue  # optional extra: imported only when a postgresql:// store is opened
        importlib.import_module(module.name)


def test_core_layers_do_not_import_upwards() -> None:
    """spec and guards never import the runtime, stores, codegen or the CLI (arrows point down)."""
    import ast
    from pathlib import Path

    root = Path(fsm.__file__).parent
    forbidden = ("fsm.runtime", "fsm.store", "fsm.cli", "codegen", "fsm.testing")
    offenders = []
    for package in ("spec", "guards", "contracts"):
        for path in (root / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                offenders += [f"{path.name}: {n}" for n in names if n.startswith(forbidden)]
    assert offenders == []
