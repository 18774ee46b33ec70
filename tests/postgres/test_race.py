"""Two processes appending the same 2,000 seqs to one run in PostgreSQL: one winner per seq."""

from __future__ import annotations

import multiprocessing
from contextlib import closing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import attrs

from fsm.errors import ConflictError
from fsm.store.postgres import PostgresStore
from tests.store.builders import new_run, step

SEQS = 2_000


def append_every_seq(
    url: str, run_id: str, writer: str, barrier: Barrier, results: Queue[tuple[str, list[int]]]
) -> None:
    """Try to append seqs 1..SEQS in order, each at the same moment as the other writer (a
    barrier per seq: left alone, the writer that loses a seq falls behind, since a refused
    append costs more round trips than a won one, and may never win again); report the seqs
    this process won."""
    won: list[int] = []
    with closing(PostgresStore(url, pool_size=1)) as store:
        run = store.get_run(run_id)
        for seq in range(1, SEQS + 1):
            barrier.wait(timeout=60)
            previous = attrs.evolve(run, seq=seq - 1, state=run.state if seq == 1 else "reviewing")
            snapshot, head = step(previous, "reviewing", appended={"log": [writer]})
            try:
                store.append(snapshot, head)
            except ConflictError:
                continue
            won.append(seq)
    results.put((writer, won))


def test_two_processes_never_both_win_a_seq(postgres_url: str) -> None:
    """Racing processes split seqs 1..2,000 with no overlap and no gap; history and the
    replayed context agree with the winners."""
    run, start = new_run("race", context={"log": []})
    with closing(PostgresStore(postgres_url)) as store:
        store.create_run(run, start)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    writers = [
        context.Process(
            target=append_every_seq, args=(postgres_url, "race", name, barrier, results)
        )
        for name in ("a", "b")
    ]
    for process in writers:
        process.start()
    won = dict(results.get(timeout=300) for _ in writers)  # generous: CI machines are loaded
    for process in writers:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert set(won["a"]).isdisjoint(won["b"])
    assert sorted(won["a"] + won["b"]) == list(range(1, SEQS + 1))
    assert won["a"], "writer a won nothing: the writers did not race"
    assert won["b"], "writer b won nothing: the writers did not race"
    winners = {seq: writer for writer, seqs in won.items() for seq in seqs}
    expected_log = [winners[seq] for seq in range(1, SEQS + 1)]
    with closing(PostgresStore(postgres_url)) as store:
        history = store.history("race", 1)
        assert store.get_run("race").seq == SEQS
        assert store.load_state("race").context == {"log": expected_log}
    assert [record.appended["log"] for record in history] == [[name] for name in expected_log]
