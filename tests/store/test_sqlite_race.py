"""Two processes appending the same seqs to one SQLite file: every seq has exactly one winner."""

from __future__ import annotations

import multiprocessing
from contextlib import closing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

import attrs

from fsm.errors import ConflictError
from fsm.store import SqliteStore

from .builders import new_run, step

SEQS = 1000


def append_every_seq(
    path: str, run_id: str, writer: str, barrier: Barrier, results: Queue[tuple[str, list[int]]]
) -> None:
    """Try to append seqs 1..SEQS in order; report the seqs this process won."""
    won: list[int] = []
    with closing(SqliteStore(path)) as store:
        run = store.get_run(run_id)
        barrier.wait()
        for seq in range(1, SEQS + 1):
            previous = attrs.evolve(run, seq=seq - 1, state=run.state if seq == 1 else "reviewing")
            snapshot, head = step(previous, "reviewing", output={"writer": writer})
            try:
                store.append(snapshot, head)
            except ConflictError:
                continue
            won.append(seq)
    results.put((writer, won))


def test_two_processes_never_both_win_a_seq(tmp_path: Path) -> None:
    """Racing processes split seqs 1..1000 with no overlap and no gap; history agrees."""
    path = str(tmp_path / "race.db")
    run, start = new_run("race")
    with closing(SqliteStore(path)) as store:
        store.create_run(run, start)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    writers = [
        context.Process(target=append_every_seq, args=(path, "race", name, barrier, results))
        for name in ("a", "b")
    ]
    for process in writers:
        process.start()
    won = dict(results.get(timeout=60) for _ in writers)
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert set(won["a"]).isdisjoint(won["b"])
    assert sorted(won["a"] + won["b"]) == list(range(1, SEQS + 1))
    with closing(SqliteStore(path)) as store:
        history = store.history("race", 1)
        assert store.get_run("race").seq == SEQS
    winners = {seq: writer for writer, seqs in won.items() for seq in seqs}
    assert [record.output for record in history] == [
        {"writer": winners[seq]} for seq in range(1, SEQS + 1)
    ]
