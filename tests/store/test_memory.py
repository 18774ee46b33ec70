"""``MemoryStore`` specifics: what it keeps in memory per record."""

from __future__ import annotations

import tracemalloc

from fsm.store import MemoryStore
from tests.store.builders import new_run, step


def test_a_small_record_takes_memory_by_its_size_not_the_encoders_buffer() -> None:
    store = MemoryStore()
    run, start = new_run()
    store.create_run(run, start)
    records = 1_000
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        for index in range(records):
            target = "reviewing" if index % 2 == 0 else "drafting"
            snapshot, run = step(run, target, changes={"revision": index})
            store.append(snapshot, run)
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(store.history(run.run_id)) == records + 1
    # a record's payload is ~150 bytes and its checksum ~80; orjson's buffer alone is ~4 KB
    assert (after - before) / records < 1_000
