"""Runtime tests run on the in-memory store and on SQLite (a temporary file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fsm.store import MemoryStore, SqliteStore, Store


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "r.db")
    yield backend
    backend.close()
