"""``open_store``: choosing a backend from a store URL.

``None`` means the ``FSM_STORE`` environment variable, else ``sqlite:///<cwd>/.fsm/runs.db``.
Schemes: ``memory://``; ``sqlite:///abs/path.db`` or ``sqlite:relative.db`` (relative to
``cwd``), with ``?durability=normal|full`` and ``?busy_timeout=SECONDS``; ``postgresql://…``
(``postgres://…``), handed whole to ``fsm.store.postgres.open_postgres`` which is imported
only then, so the SQLite path never needs psycopg.
"""

from __future__ import annotations

import importlib
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import cast
from urllib.parse import parse_qs, urlsplit

from fsm.errors import StoreError
from fsm.store.base import Store
from fsm.store.memory import MemoryStore
from fsm.store.sqlite import DURABILITIES, SqliteStore

ENV_VAR = "FSM_STORE"
DEFAULT_DIRECTORY = ".fsm"
DEFAULT_FILE = "runs.db"

_EXAMPLES = "memory://, sqlite:///abs/path.db, sqlite:relative.db or postgresql://host/db"


def open_store(url: str | None, *, cwd: Path | None = None, existing: bool = False) -> Store:
    """The store ``url`` names; see the module docstring for the forms it takes. Relative
    SQLite paths and the default store are under ``cwd`` (default: the working directory).

    ``existing``: a SQLite file must be there already (a command that reads runs would
    otherwise leave an empty ``.fsm/runs.db`` behind, and say only that the run is unknown)."""
    cwd = Path.cwd() if cwd is None else cwd
    if url is None and os.environ.get(ENV_VAR):
        try:
            return _open_url(os.environ[ENV_VAR], cwd, existing)
        except StoreError as error:
            if type(error) is not StoreError:  # a subclass says more than where the URL was
                raise
            # Why: the user typed no URL; without this they cannot tell where it came from.
            raise StoreError(f"{error} (the URL is ${ENV_VAR}'s)") from error
    if url is None:
        path = cwd / DEFAULT_DIRECTORY / DEFAULT_FILE
        if existing:
            _check_exists(path, f"the default store {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteStore(path)
    return _open_url(url, cwd, existing)


def _open_url(url: str, cwd: Path, existing: bool) -> Store:
    """The store of a URL (given, or taken from ``$FSM_STORE``)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "memory":
        if parts.netloc or parts.path or parts.query:
            raise StoreError(f"store URL {url!r}: memory:// takes no path or options")
        return MemoryStore()
    if scheme == "sqlite":
        return _open_sqlite(url, cwd, existing)
    if scheme in ("postgresql", "postgres"):
        return _open_postgres(url)
    found = f"scheme {parts.scheme!r}" if parts.scheme else "no scheme"
    raise StoreError(f"store URL {url!r} has {found}; expected one of {_EXAMPLES}")


def _check_exists(path: Path, what: str) -> None:
    if not path.exists():
        raise StoreError(
            f"{what} does not exist: no run was started with it; start one with `fsm run`, "
            f"or name the store that holds the run with --store URL (or {ENV_VAR})"
        )


def _open_sqlite(url: str, cwd: Path, existing: bool = False) -> SqliteStore:
    parts = urlsplit(url)
    if parts.netloc:
        raise StoreError(
            f"store URL {url!r} names a host ({parts.netloc!r}); SQLite stores are files:"
            f" write sqlite:///abs/path.db or sqlite:relative.db"
        )
    if not parts.path:
        raise StoreError(f"store URL {url!r} names no file; expected {_EXAMPLES}")
    if "#" in url:  # Why: a URL ends at '#', so sqlite:runs#2.db silently opened 'runs'
        raise StoreError(
            f"store URL {url!r}: '#' would end the file name there (a URL fragment); name a"
            " file without '#'"
        )
    options = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(options) - {"durability", "busy_timeout"})
    if unknown:
        raise StoreError(
            f"store URL {url!r}: unknown option {unknown[0]!r}; SQLite takes"
            " ?durability=normal|full and ?busy_timeout=SECONDS"
        )
    durability = options.get("durability", ["normal"])[-1]
    if durability not in DURABILITIES:
        raise StoreError(
            f"store URL {url!r}: durability must be {' or '.join(DURABILITIES)}, got {durability!r}"
        )
    busy_timeout = _seconds(url, options.get("busy_timeout", ["5"])[-1])
    # sqlite:////abs/x.db (four slashes, as SQLAlchemy writes it) names /abs/x.db, not //abs
    path = Path("/" + parts.path.lstrip("/") if parts.path.startswith("//") else parts.path)
    if not path.is_absolute():
        path = cwd / path
    if existing:
        _check_exists(path, f"the store {url!r} ({path})")
    if not path.parent.is_dir():
        raise StoreError(
            f"store URL {url!r}: directory {path.parent} does not exist; create it first"
        )
    return SqliteStore(path, durability=durability, busy_timeout=busy_timeout)


def _seconds(url: str, text: str) -> float:
    """``?busy_timeout=``: how long a write waits for another writer's lock, the only way to
    raise it for the CLI and workers, which open stores from URLs."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 <= seconds <= _MAX_BUSY_TIMEOUT:
        raise StoreError(
            f"store URL {url!r}: busy_timeout must be seconds from 0 to {_MAX_BUSY_TIMEOUT:g},"
            f" got {text!r}"
        )
    return seconds


_MAX_BUSY_TIMEOUT = 86_400.0  # a day: SQLite keeps the timeout in int milliseconds


def _open_postgres(url: str) -> Store:
    try:
        module = importlib.import_module("fsm.store.postgres")
    except ModuleNotFoundError as exc:
        if exc.name == "fsm.store.postgres":
            raise StoreError(
                f"store URL {url!r} needs the PostgreSQL store, which this installation of"
                " Flow Orchestra does not include; use a sqlite: URL instead"
            ) from exc
        raise StoreError(
            f"store URL {url!r} needs the PostgreSQL driver ({exc.name} is missing);"
            " install it with: pip install 'flow-orchestra[postgres]'"
        ) from exc
    opener = cast(Callable[[str], Store], module.open_postgres)
    return opener(url)
