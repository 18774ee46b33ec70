"""Persistence of runs: one record per transition, a head per run, leases for workers.

The runtime depends on ``Store`` (the protocol) and the record values only; backends are
chosen by URL through ``open_store``. See ``docs/storage.md`` for the format and guarantees.
"""

from fsm.store.base import DEFAULT_FRAME_INTERVAL, Store
from fsm.store.codec import decode_snapshot, encode_snapshot
from fsm.store.memory import MemoryStore
from fsm.store.records import (
    RUN_STATUSES,
    Frame,
    JsonValue,
    RunRecord,
    RunState,
    RunStatus,
    Snapshot,
    new_run_id,
)
from fsm.store.replay import full_frame, rebuild
from fsm.store.sqlite import Durability, SqliteSettings, SqliteStore
from fsm.store.transfer import copy_run
from fsm.store.urls import open_store

__all__ = [
    "DEFAULT_FRAME_INTERVAL",
    "Durability",
    "Frame",
    "JsonValue",
    "MemoryStore",
    "RUN_STATUSES",
    "RunRecord",
    "RunState",
    "RunStatus",
    "Snapshot",
    "SqliteSettings",
    "SqliteStore",
    "Store",
    "copy_run",
    "decode_snapshot",
    "encode_snapshot",
    "full_frame",
    "new_run_id",
    "open_store",
    "rebuild",
]
