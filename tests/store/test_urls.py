"""open_store: which store each URL opens, and a clear error for every URL it cannot."""

from __future__ import annotations

import importlib
import sys
from contextlib import closing
from pathlib import Path

import pytest

from fsm.errors import StoreError
from fsm.store import MemoryStore, SqliteStore, open_store


@pytest.fixture(autouse=True)
def no_store_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FSM_STORE", raising=False)


def sqlite_at(url: str | None, cwd: Path) -> SqliteStore:
    store = open_store(url, cwd=cwd)
    assert isinstance(store, SqliteStore)
    store.close()
    return store


def test_default_is_a_sqlite_file_under_dot_fsm(tmp_path: Path) -> None:
    """No URL and no FSM_STORE: <cwd>/.fsm/runs.db, creating .fsm/."""
    assert sqlite_at(None, tmp_path).path == str(tmp_path / ".fsm" / "runs.db")
    assert (tmp_path / ".fsm" / "runs.db").is_file()


def test_the_environment_variable_names_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FSM_STORE is used when no URL is given, and ignored when one is."""
    monkeypatch.setenv("FSM_STORE", "sqlite:from_env.db")
    assert sqlite_at(None, tmp_path).path == str(tmp_path / "from_env.db")
    assert isinstance(open_store("memory://", cwd=tmp_path), MemoryStore)


def test_an_error_in_the_environment_variable_says_it_came_from_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user typed no URL: the error names $FSM_STORE, else they cannot tell where the URL
    came from; a URL given as an argument is not blamed on it."""
    monkeypatch.setenv("FSM_STORE", "runs.db")
    with pytest.raises(StoreError, match=r"'runs.db' has no scheme.*\(the URL is \$FSM_STORE's\)$"):
        open_store(None, cwd=tmp_path)
    monkeypatch.setenv("FSM_STORE", "sqlite:missing.db")
    with pytest.raises(StoreError, match=r"does not exist.*\(the URL is \$FSM_STORE's\)$"):
        open_store(None, cwd=tmp_path, existing=True)
    with pytest.raises(StoreError) as given:
        open_store("bogus.db", cwd=tmp_path)
    assert "FSM_STORE" not in str(given.value)


def test_memory_url_opens_an_empty_memory_store(tmp_path: Path) -> None:
    """memory:// gives a MemoryStore; options after it are refused."""
    with closing(open_store("memory://", cwd=tmp_path)) as store:
        assert isinstance(store, MemoryStore)
        assert store.list_runs() == []
    with pytest.raises(StoreError, match="memory:// takes no path or options"):
        open_store("memory://x?durability=full", cwd=tmp_path)


def test_sqlite_paths_absolute_and_relative(tmp_path: Path) -> None:
    """sqlite:///abs/path.db is absolute; sqlite:name.db is relative to cwd."""
    absolute = tmp_path / "abs.db"
    assert sqlite_at(f"sqlite://{absolute}", Path("/nonexistent")).path == str(absolute)
    (tmp_path / "sub").mkdir()
    assert sqlite_at("sqlite:sub/rel.db", tmp_path).path == str(tmp_path / "sub" / "rel.db")
    # four slashes, as SQLAlchemy spells an absolute path: the same file, shown as such
    assert sqlite_at(f"sqlite:///{absolute}", Path("/nonexistent")).path == str(absolute)


@pytest.mark.parametrize(("query", "level"), [("", "normal"), ("?durability=full", "full")])
def test_sqlite_durability_option(tmp_path: Path, query: str, level: str) -> None:
    """?durability=full|normal sets PRAGMA synchronous; normal is the default."""
    with closing(open_store(f"sqlite:r.db{query}", cwd=tmp_path)) as store:
        assert isinstance(store, SqliteStore)
        assert store.settings().synchronous == level


def test_sqlite_busy_timeout_option(tmp_path: Path) -> None:
    """?busy_timeout=SECONDS is how long a write waits for another writer; 5 s by default."""
    with closing(open_store("sqlite:r.db?busy_timeout=30", cwd=tmp_path)) as store:
        assert isinstance(store, SqliteStore)
        assert store.settings().busy_timeout_ms == 30_000
    with closing(open_store("sqlite:r.db", cwd=tmp_path)) as store:
        assert isinstance(store, SqliteStore)
        assert store.settings().busy_timeout_ms == 5_000


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:r.db?durability=off", "durability must be normal or full, got 'off'"),
        ("sqlite:r.db?busy_timeout=soon", "busy_timeout must be seconds from 0 to 86400, got 'so"),
        ("sqlite:r.db?busy_timeout=-1", "busy_timeout must be seconds from 0 to 86400, got '-1'"),
        ("sqlite:r.db?busy_timeout=nan", "busy_timeout must be seconds from 0 to 86400, got 'na"),
        ("sqlite://runs.db", "names a host \\('runs.db'\\); SQLite stores are files"),
        ("sqlite:", "names no file"),
        ("sqlite:runs#2.db", "'#' would end the file name there"),
        ("sqlite:runs.db#", "'#' would end the file name there"),
        ("sqlite:missing/dir/r.db", "directory .*missing/dir does not exist; create it first"),
        ("mysql://host/db", "has scheme 'mysql'; expected one of memory://, sqlite:///"),
        ("runs.db", "has no scheme; expected one of memory://"),
    ],
)
def test_urls_that_cannot_be_opened_say_why(tmp_path: Path, url: str, message: str) -> None:
    """Each malformed or unsupported URL raises StoreError saying what is wrong and what works."""
    with pytest.raises(StoreError, match=message):
        open_store(url, cwd=tmp_path)


def test_postgres_without_its_module_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When fsm.store.postgres cannot be imported, a postgresql:// URL says so."""
    monkeypatch.setitem(sys.modules, "fsm.store.postgres", None)
    for scheme in ("postgresql", "postgres"):
        with pytest.raises(StoreError, match="needs the PostgreSQL store"):
            open_store(f"{scheme}://localhost/fsm", cwd=tmp_path)


def test_postgres_without_its_driver_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A driver missing inside the PostgreSQL store points at the postgres extra."""

    def import_without_driver(name: str) -> None:
        raise ModuleNotFoundError("No module named 'psycopg'", name="psycopg")

    monkeypatch.setattr(importlib, "import_module", import_without_driver)
    with pytest.raises(StoreError, match=r"pip install 'flow-orchestra\[postgres\]'"):
        open_store("postgresql://localhost/fsm", cwd=tmp_path)


def test_open_store_resolves_relative_paths_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cwd` may be left out, as a user calling open_store from a script would."""
    monkeypatch.chdir(tmp_path)
    with closing(open_store("sqlite:here.db")) as store:
        assert isinstance(store, SqliteStore)
        assert store.path == str(tmp_path / "here.db")
