"""Which ``Workflow`` advances a claimed run.

A worker serves runs of any workflow: by default each run's spec is loaded from the path its
record names (``spec_path``, absolute, so every machine needs the spec and its agents at the
same path), once per worker, and reloaded if the run was started from a newer version of the
file. Workflows given explicitly (from Python, with agents passed in) win, matched by name,
and drive the runs in the worker's store whatever store they were opened on.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path

from fsm.errors import RunError
from fsm.runtime import Workflow
from fsm.store import RunRecord, Store


class WorkflowSource:
    """Finds (and caches) the workflow for each run a worker claims."""

    def __init__(self, store: Store, given: Iterable[Workflow] = ()) -> None:
        self._store = store
        self._given = {workflow.checked.spec.workflow: _on(workflow, store) for workflow in given}
        self._loaded: dict[str, Workflow] = {}
        self._lock = threading.Lock()  # runs are opened from several threads

    def for_run(self, record: RunRecord) -> Workflow:
        """The workflow to drive ``record`` with; ``RunError`` if its spec cannot be found."""
        given = self._given.get(record.workflow)
        if given is not None:
            return given
        with self._lock:
            return self._load(record)

    def _load(self, record: RunRecord) -> Workflow:
        cached = self._loaded.get(record.spec_path)
        if cached is not None and cached.compiled.spec_hash == record.spec_hash:
            return cached
        if not Path(record.spec_path).is_file():
            raise RunError(
                f"run {record.run_id} was started from {record.spec_path}, which does not exist"
                f" on this machine; deploy the spec (and its agents) at that path on every"
                f" machine running workers",
                run_id=record.run_id,
            )
        loaded = Workflow.from_spec(record.spec_path, store=self._store)
        self._loaded[record.spec_path] = loaded
        return loaded


def _on(workflow: Workflow, store: Store) -> Workflow:
    """``workflow`` driving its runs in the worker's ``store``: what it brings is its agents
    (and ``on_transition``). Bound to another store (``from_spec`` without ``store=`` opens
    ``.fsm/runs.db``), it would look every claimed run up there: each was parked as not
    found, or, had that store a run of the same id (a copy), advanced there instead."""
    if workflow.store is store:
        return workflow
    return Workflow(workflow.compiled, store, on_transition=workflow.on_transition)
