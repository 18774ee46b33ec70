"""``fsm run/resume/send/fork/runs/history/show`` through click's CliRunner."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fsm.cli import main
from fsm.cli.run_commands import dead_holder
from fsm.errors import StoreError
from fsm.hosts import local_host
from fsm.runtime import RunHandle, Workflow
from fsm.store import RunRecord, Snapshot, SqliteStore, open_store

ROOT = Path(__file__).parents[2]
SPEC = str(ROOT / "specs" / "content_pipeline.yaml")
INPUT = f"@{ROOT / 'specs' / 'inputs' / 'content_pipeline.json'}"
APPROVE = f"@{ROOT / 'specs' / 'inputs' / 'content_pipeline_approve.json'}"


@pytest.fixture
def store(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'runs.db'}"


def fsm(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def started(store: str, *extra: str) -> dict[str, object]:
    result = fsm("run", SPEC, "--input", INPUT, "--store", store, "--json", *extra)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_run_prints_one_line_per_transition_and_the_send_command(store: str) -> None:
    """Text output: step lines with rule and duration, the waiting summary, the exact command."""
    result = fsm("run", SPEC, "--input", INPUT, "--store", store)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    (run,) = json.loads(fsm("runs", "--store", store, "--json").stdout)
    run_id = run["run_id"]
    assert lines[0] == f"step 0  start in drafting  (run {run_id})"  # known before any step
    assert lines[1].startswith("step 1  drafting -> reviewing  [default]  ")
    assert lines[1].endswith(" ms")
    assert "step 2  reviewing -> drafting  [revise]" in result.stdout
    assert "waiting in 'approval' after 6 steps" in result.stdout
    assert "waiting for: approve, reject" in result.stdout
    assert f"""approve --data '{{"editor": "..."}}' --store {shlex.quote(store)}""" in result.stdout


def test_run_json_with_send_runs_end_to_end(store: str) -> None:
    """--send answers the wait; --json prints one object with the run's summary."""
    data = started(store, "--send", f"approve={APPROVE}")
    assert (data["status"], data["state"], data["steps"]) == ("completed", "published", 7)
    assert data["waiting_for"] == []
    context = data["context"]
    assert isinstance(context, dict)
    assert context["decision"] == {"editor": "ada", "comment": "Clear and complete. Ship it."}


def test_send_resume_history_show_fork_and_runs(store: str) -> None:
    """The other commands work on a stored run, each with --json."""
    run_id = str(started(store)["run_id"])
    sent = fsm("send", run_id, "approve", "--data", '{"editor": "ada"}', "--store", store, "--json")
    assert json.loads(sent.stdout)["status"] == "completed"
    resumed = fsm("resume", run_id, "--store", store, "--json")
    assert json.loads(resumed.stdout)["status"] == "completed"

    history = json.loads(fsm("history", run_id, "--store", store, "--json").stdout)
    assert [h["seq"] for h in history["history"]] == list(range(8))
    assert history["history"][2]["rule"] == "revise"
    text = fsm("history", run_id, "--store", store).stdout
    assert "step 7  approval -> published  [on approve]" in text
    assert "changed: review, log+" in text

    shown = json.loads(fsm("show", run_id, "--at", "3", "--store", store, "--json").stdout)
    assert (shown["seq"], shown["state"], shown["visits"]) == (
        3,
        "reviewing",
        {"drafting": 2, "reviewing": 2},
    )
    assert shown["context"]["draft"]["revision"] == 2

    forked = json.loads(fsm("fork", run_id, "--at", "3", "--store", store, "--json").stdout)
    assert (forked["status"], forked["state"], forked["steps"]) == ("waiting", "approval", 6)

    listed = json.loads(fsm("runs", "--store", store, "--json", "--status", "waiting").stdout)
    assert [r["run_id"] for r in listed] == [forked["run_id"]]
    assert listed[0]["parent_run_id"] == run_id
    assert run_id in fsm("runs", "--store", store).stdout


def test_history_names_the_event_a_named_transition_fired_on(store: str, tmp_path: Path) -> None:
    """A named event transition's label is its name; the history line says which event came
    too (it showed only the name, so text history could not tell `go` from `stop`)."""
    spec = tmp_path / "named.yaml"
    spec.write_text(
        "workflow: named\ncontext: {}\n"
        "states:\n  gate: {wait: [go, stop]}\n  done: {final: true}\n"
        "initial: gate\n"
        "transitions:\n  gate:\n    - {on: go, to: done, name: proceed}\n"
        "    - {on: stop, to: done, when: 'steps >= 0'}\n    - {on: stop, to: done}\n",
        encoding="utf-8",
    )
    first = fsm("run", str(spec), "--store", store, "--run-id", "a", "--send", "go")
    assert "step 1  gate -> done  [proceed, on go]" in first.stdout
    fsm("run", str(spec), "--store", store, "--run-id", "b", "--send", "stop")
    assert "[proceed, on go]" in fsm("history", "a", "--store", store).stdout
    assert "[on stop when steps >= 0]  " in fsm("history", "b", "--store", store).stdout


def test_history_is_one_consistent_view_while_the_run_advances(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transition committed by another process between `fsm history` reading the run and
    its records does not show up as a record newer than the run's own seq and status."""
    run_id = str(started(store)["run_id"])
    read_history = SqliteStore.history

    def advanced_meanwhile(self: SqliteStore, *args: object, **kwargs: object) -> object:
        monkeypatch.setattr(SqliteStore, "history", read_history)  # once
        with closing(open_store(store, cwd=Path.cwd())) as other:
            Workflow.from_spec(SPEC, store=other).run(run_id).deliver("approve", {"editor": "a"})
        return read_history(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(SqliteStore, "history", advanced_meanwhile)
    shown = json.loads(fsm("history", run_id, "--store", store, "--json").stdout)
    assert (shown["run"]["seq"], shown["run"]["status"]) == (6, "waiting")
    assert [record["seq"] for record in shown["history"]] == list(range(7))


def test_history_reads_a_long_run_in_batches_and_pages(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`fsm history` never holds a whole long run: it reads the records a batch at a time
    (the same output as one read), and --from/--to/--last read only the records they show."""
    from fsm.cli import run_commands

    run_id = str(started(store, "--send", f"approve={APPROVE}")["run_id"])
    whole = fsm("history", run_id, "--store", store, "--json").stdout
    text = fsm("history", run_id, "--store", store).stdout
    reads: list[tuple[int, int]] = []
    read_history = SqliteStore.history

    def counted_read(self: SqliteStore, run: str, start: int = 0, end: int | None = None) -> object:
        reads.append((start, -1 if end is None else end))
        return read_history(self, run, start, end)

    monkeypatch.setattr(SqliteStore, "history", counted_read)
    monkeypatch.setattr(run_commands, "_HISTORY_BATCH", 3)
    assert fsm("history", run_id, "--store", store, "--json").stdout == whole
    assert reads == [(0, 3), (3, 6), (6, 8)]
    assert fsm("history", run_id, "--store", store).stdout == text
    reads.clear()
    last = json.loads(fsm("history", run_id, "--store", store, "--json", "--last", "2").stdout)
    assert [record["seq"] for record in last["history"]] == [6, 7]
    assert reads == [(6, 8)]
    ranged = fsm("history", run_id, "--store", store, "--from", "2", "--to", "3").stdout
    assert [line.split()[1] for line in ranged.splitlines() if line.startswith("step")] == [
        "2",
        "3",
    ]
    past = fsm("history", run_id, "--store", store, "--from", "9")
    assert past.exit_code == 1
    assert "has records 0..7; there is no seq 9" in past.output
    assert fsm("history", run_id, "--store", store, "--from", "1", "--last", "2").exit_code == 2
    swapped = fsm("history", run_id, "--store", store, "--from", "5", "--to", "3")
    assert swapped.exit_code == 2
    assert "--to 3 is before --from 5" in swapped.output
    assert fsm("history", run_id, "--store", store, "--from", "3", "--to", "3").exit_code == 0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("run", SPEC, "--input", "{bad"), 2, "not valid JSON"),
        (("run", SPEC, "--input", "[1]"), 2, "must be a JSON object"),
        (("run", SPEC, "--input", '{"n": ' + "9" * 5000 + "}"), 2, "Exceeds the limit"),
        (("run", SPEC, "--input", "[" * 100_000 + "]" * 100_000), 2, "nested too deeply"),
        (("run", SPEC, "--input", '{"brief": {"a": 1, "a": 2}}'), 2, "key 'a' appears twice"),
        (("send", "r1", "go", "--data", '{"editor": "a", "editor": "b"}'), 2, "appears twice"),
        (("send", "r1", "go", "--data", '{"a": ' * 100_000 + "1" + "}" * 100_000), 2, "too deeply"),
        (("run", SPEC, "--input", '{"brief": {"topic": "x"}}'), 1, "input.brief.topic"),
        (("run", SPEC, "--input", INPUT, "--run-id=-r1"), 2, "'-r1' starts with '-'"),
        (("run", "missing.yaml"), 1, "missing.yaml"),
        (("show", "nope"), 1, "no run 'nope'"),
        (("resume", "nope"), 1, "no run 'nope'"),
        (("history", "nope"), 1, "no run 'nope'"),
        (("runs", "--status", "sleeping"), 2, "sleeping"),
        (("fork", "nope"), 2, "--at"),
    ],
)
def test_bad_input_is_a_message_and_an_exit_code(
    store: str, args: tuple[str, ...], code: int, message: str
) -> None:
    """Errors print a message (never a traceback): 1 for bad data or runs, 2 for usage."""
    SqliteStore(Path(store.removeprefix("sqlite:///"))).close()  # a store without that run
    result = fsm(*args, "--store", store)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_json_files_that_are_not_utf8_are_a_message_and_a_bom_is_dropped(
    store: str, tmp_path: Path
) -> None:
    """--input/--data/--send @FILE: bytes that are not UTF-8 are a usage error naming the
    file (not a traceback); a UTF-8 byte order mark, as some editors write, is ignored."""
    binary = tmp_path / "binary.json"
    binary.write_bytes(b'{"brief": "\xd1\xff"}')
    for option in ("--input", "--send"):
        value = f"@{binary}" if option == "--input" else f"approve=@{binary}"
        result = fsm("run", SPEC, option, value, "--store", store)
        assert result.exit_code == 2, result.output
        assert f"cannot read {binary}: not UTF-8 text (byte 11)" in result.output
    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b'\xef\xbb\xbf{"editor": "ada"}')
    run_id = str(started(store)["run_id"])
    sent = fsm("send", run_id, "approve", "--data", f"@{with_bom}", "--store", store, "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.stdout)["context"]["decision"]["editor"] == "ada"


def test_send_errors_name_the_accepted_events(store: str) -> None:
    """A wrong event, or sending to a finished run, exits 1 with an explanation."""
    run_id = str(started(store)["run_id"])
    wrong = fsm("send", run_id, "publish", "--store", store)
    assert wrong.exit_code == 1
    assert "for one of: approve, reject" in wrong.output
    invalid = fsm("send", run_id, "approve", "--data", '{"editor": ""}', "--store", store)
    assert invalid.exit_code == 1
    assert "approve.editor" in invalid.output
    fsm("send", run_id, "approve", "--data", '{"editor": "ada"}', "--store", store)
    finished = fsm("send", run_id, "approve", "--data", '{"editor": "ada"}', "--store", store)
    assert finished.exit_code == 1
    assert "is completed" in finished.output


def test_run_refuses_an_unknown_send_event_before_creating_a_run(store: str) -> None:
    """An event no wait state declares is a usage error, and no run is left behind."""
    result = fsm("run", SPEC, "--input", INPUT, "--store", store, "--send", "publish")
    assert result.exit_code == 2
    assert "'publish' is not an event of content_pipeline (its events: approve, reject)" in (
        result.output
    )
    listed = fsm("runs", "--store", store, "--json")
    assert json.loads(listed.stdout) == []


@pytest.mark.parametrize("as_json", [False, True])
def test_a_refused_send_still_names_the_run_it_left_waiting(store: str, as_json: bool) -> None:
    """Data that breaks the event's contract is refused after the run was created: the run id
    and how to answer it are printed with the error, so the run is not lost."""
    extra = ("--json",) if as_json else ()
    result = fsm("run", SPEC, "--input", INPUT, "--store", store, "--send", "approve", *extra)
    assert result.exit_code == 1
    assert "invalid data for Decision: approve.editor" in result.stderr
    (run,) = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert run["status"] == "waiting"
    assert run["lease_owner"] is None
    assert run["lease_seconds_left"] is None
    if as_json:
        assert json.loads(result.stdout)["run_id"] == run["run_id"]
    else:
        assert f"run {run['run_id']}" in result.stderr
        assert f"fsm send {run['run_id']} approve --data" in result.stderr


def test_a_run_stopped_by_a_store_failure_names_the_run_and_how_to_continue_it(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step the store refuses (here a full disk at seq 3) stops `fsm run` with the error,
    and the run it created, which keeps its committed steps, is named with its resume command."""
    append = SqliteStore.append

    def disk_full_at_3(self: SqliteStore, snapshot: Snapshot, run: RunRecord) -> None:
        if snapshot.seq == 3:
            raise StoreError(f"SQLite store {self.path} failed: database or disk is full")
        append(self, snapshot, run)

    monkeypatch.setattr(SqliteStore, "append", disk_full_at_3)
    result = CliRunner().invoke(main, ["run", SPEC, "--input", INPUT, "--store", store])
    assert result.exit_code == 1
    assert "database or disk is full" in result.stderr
    [run] = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert (run["seq"], run["status"]) == (2, "running")
    assert f"run {run['run_id']}" in result.stderr
    assert f"fsm resume {run['run_id']} --store {shlex.quote(store)}" in result.stderr
    monkeypatch.setattr(SqliteStore, "append", append)
    resumed = fsm("resume", str(run["run_id"]), "--store", store, "--json")
    assert json.loads(resumed.stdout)["status"] == "waiting"


STOPPING_SPEC = """
workflow: stopping
max_steps: 10
contracts:
  Out: {n: int}
context:
  n: {type: int, default: 0}
agents:
  count: {input: {n: n}, output: Out, impl: "stopping.py:count"}
states:
  counting: {agent: count, writes: {n: n}}
  done: {final: true}
initial: counting
transitions:
  counting:
    - {to: done, when: "n >= 3"}
    - {to: counting}
"""

STOPPING_AGENT = """
import os, sys

def count(inputs, call):
    marker = os.path.join(os.path.dirname(__file__), "stopped")
    if inputs.n == 1 and not os.path.exists(marker):
        open(marker, "w").close()
        if os.environ["HOW"] == "exit":
            sys.exit(0)
        raise KeyboardInterrupt
    return {"n": inputs.n + 1}
"""


@pytest.mark.parametrize("how", ["exit", "interrupt"])
def test_a_step_cut_short_by_ctrl_c_or_sys_exit_names_the_run_and_how_to_resume_it(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Ctrl-C (or an agent's sys.exit(0)) mid-step used to end `fsm run` with a bare
    "Aborted!" (or exit 0, as if the run had succeeded), naming no run: the run is left
    running, so the command fails, names it, and says how to continue it."""
    (tmp_path / "stopping.yaml").write_text(STOPPING_SPEC, encoding="utf-8")
    (tmp_path / "stopping.py").write_text(STOPPING_AGENT, encoding="utf-8")
    monkeypatch.setenv("HOW", how)
    result = fsm("run", str(tmp_path / "stopping.yaml"), "--store", store)
    assert result.exit_code == 1
    [run] = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert (run["seq"], run["status"], run["lease_owner"]) == (1, "running", None)
    stopped = {
        "interrupt": f"interrupted while advancing run {run['run_id']}",
        "exit": f"a step of run {run['run_id']} raised SystemExit(0)",
    }[how]
    assert stopped in result.stderr
    assert "the step in flight was not recorded" in result.stderr
    assert f"fsm resume {run['run_id']} --store {shlex.quote(store)}" in result.stderr
    resumed = fsm("resume", str(run["run_id"]), "--store", store, "--json")
    assert json.loads(resumed.stdout)["status"] == "completed"


def test_a_memory_store_run_says_it_cannot_be_answered_later() -> None:
    """The send hint would name a store that ends with the process: say so instead."""
    result = fsm("run", SPEC, "--input", INPUT, "--store", "memory://")
    assert result.exit_code == 0, result.output
    assert "cannot be answered later" in result.stdout
    assert "fsm send" not in result.stdout


def test_a_fork_says_which_steps_it_inherited(store: str) -> None:
    """A fork's step lines are its own seqs from 0, while its step count includes the
    parent's: the summary says both, so the two counters do not seem to disagree."""
    run_id = str(started(store)["run_id"])
    forked = fsm("fork", run_id, "--at", "3", "--store", store)
    assert forked.exit_code == 0, forked.output
    assert forked.stdout.splitlines()[0].startswith("step 0  fork in reviewing  (run ")
    assert "after 6 steps (3 in this run, the rest before its fork)" in forked.stdout
    plain = fsm("run", SPEC, "--input", INPUT, "--store", store)
    assert "after 6 steps\n" in plain.stdout


def test_a_detached_fork_is_queued_for_workers(store: str) -> None:
    """--detach creates the fork unleased at its start and prints its id; a worker drives it."""
    run_id = str(started(store)["run_id"])
    forked = fsm("fork", run_id, "--at", "3", "--detach", "--store", store)
    assert forked.exit_code == 0, forked.output
    fork_id = forked.stdout.strip()
    assert f"queued in 'reviewing'; workers advance it: fsm worker --store {store}" in (
        forked.stderr
    )
    with closing(open_store(store)) as opened:
        queued = opened.get_run(fork_id)
        assert (queued.status, queued.seq, queued.lease_owner) == ("running", 0, None)
        assert queued.parent_run_id == run_id
    worked = fsm("worker", "--store", store, "--idle-exit", "0.2", "--json")
    assert worked.exit_code == 0, worked.output
    with closing(open_store(store)) as opened:
        assert opened.get_run(fork_id).status == "waiting"


TRIAGE = str(ROOT / "specs" / "support_triage.yaml")
URGENT = f"@{ROOT / 'specs' / 'inputs' / 'support_triage_urgent.json'}"
RESOLVE = ("resolve", "--data", f"@{ROOT / 'specs' / 'inputs' / 'support_triage_resolve.json'}")


def escalated(store: str) -> str:
    """A support ticket waiting for a human (`resolve` hands it back to an agent)."""
    result = fsm("run", TRIAGE, "--input", URGENT, "--store", store, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["waiting_for"] == ["resolve", "close"]
    return str(data["run_id"])


def test_send_detach_only_delivers_and_a_worker_continues(store: str) -> None:
    """--detach records the event's transition and leaves the run queued for workers."""
    run_id = escalated(store)
    sent = fsm("send", run_id, *RESOLVE, "--detach", "--store", store)
    assert sent.exit_code == 0, sent.output
    assert sent.stdout.strip() == run_id
    assert "queued in 'resolving'; workers advance it" in sent.stderr
    (queued,) = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert (queued["status"], queued["state"]) == ("running", "resolving")
    worked = fsm("worker", "--store", store, "--idle-exit", "0.2", "--json")
    assert worked.exit_code == 0, worked.output
    (done,) = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert (done["status"], done["state"], done["seq"]) == ("completed", "resolved", 4)


def test_send_reports_a_worker_that_continued_the_run_first(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The event is delivered; if a worker advances the run before this process does, the
    command says so and shows where the run is, instead of failing."""
    run_id = escalated(store)
    original = RunHandle.advance

    def worker_first(self: RunHandle, max_steps: int | None = None) -> RunHandle:
        with Workflow.from_spec(TRIAGE, store=store) as other:
            original(other.run(self.run_id))  # a worker drives it to the end first
        return original(self, max_steps)

    monkeypatch.setattr(RunHandle, "advance", worker_first)
    sent = fsm("send", run_id, *RESOLVE, "--store", store)
    assert sent.exit_code == 0, sent.output
    assert "another process (a worker) continued run" in sent.stderr
    assert "completed in 'resolved'" in sent.stdout


def test_resume_and_fork_report_a_worker_that_continued_the_run_first(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Like send: a run another process advanced meanwhile ends the command with a note and
    the run's summary, exit 0, not with an error."""
    queued = fsm("run", SPEC, "--input", INPUT, "--store", store, "--detach")
    run_id = queued.stdout.strip()
    original = RunHandle.advance

    def worker_first(self: RunHandle, max_steps: int | None = None) -> RunHandle:
        with Workflow.from_spec(SPEC, store=store) as other:
            original(other.run(self.run_id))  # a worker drives it first
        return original(self, max_steps)

    monkeypatch.setattr(RunHandle, "advance", worker_first)
    resumed = fsm("resume", run_id, "--store", store)
    assert resumed.exit_code == 0, resumed.output
    assert f"another process (a worker) continued run {run_id}" in resumed.stderr
    assert "waiting in 'approval'" in resumed.stdout
    forked = fsm("fork", run_id, "--at", "1", "--store", store)
    assert forked.exit_code == 0, forked.output
    assert "another process (a worker) continued run" in forked.stderr


def test_a_lease_found_taken_at_renewal_stops_the_command(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lease lapsed (the machine slept, say) and a worker claimed the run: the heartbeat's
    renewal finds it gone, and after the transition in flight the command stops advancing
    instead of racing the worker."""
    monkeypatch.setattr("fsm.cli.run_commands.CLI_LEASE_SECONDS", 0.3)  # a beat every 0.1 s
    monkeypatch.setattr(SqliteStore, "renew", lambda *_: False)
    original = RunHandle._step

    def outlasting_a_beat(self: RunHandle) -> object:
        """The step lasts until the heartbeat has renewed, found the lease gone and ended (not
        a fixed sleep, which a loaded machine could outrun the beat within)."""
        deadline = time.monotonic() + 10
        while any(t.name.startswith("fsm-lease-") for t in threading.enumerate()):
            assert time.monotonic() < deadline, "the heartbeat never found the lease gone"
            time.sleep(0.01)
        return original(self)

    monkeypatch.setattr(RunHandle, "_step", outlasting_a_beat)
    result = fsm("run", SPEC, "--input", INPUT, "--store", store)
    assert result.exit_code == 0, result.output
    assert "this command's lease on run" in result.stderr
    assert "another process (a worker) holds the run now" in result.stderr
    assert result.stdout.count("\nstep ") == 1  # stopped after the first transition


def test_send_holds_the_run_while_it_advances_it(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A foreground send leases the run before delivering: a worker claiming meanwhile gets
    nothing, and the lease is given back at the end."""
    run_id = escalated(store)
    original = RunHandle.advance
    seen: list[tuple[list[str], str | None]] = []

    def observe(self: RunHandle, max_steps: int | None = None) -> RunHandle:
        with closing(open_store(store, cwd=Path.cwd())) as other:
            seen.append((other.claim("w1", 30), other.get_run(self.run_id).lease_owner))
        return original(self, max_steps)

    monkeypatch.setattr(RunHandle, "advance", observe)
    sent = fsm("send", run_id, *RESOLVE, "--store", store)
    assert sent.exit_code == 0, sent.output
    ((claimed, owner),) = seen
    assert claimed == []
    assert owner is not None
    assert owner.startswith("fsm-cli:")
    with closing(open_store(store, cwd=Path.cwd())) as other:
        assert other.get_run(run_id).lease_owner is None


def test_run_and_fork_create_their_run_already_leased(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A foreground run or fork is leased in the transaction that creates it: a worker
    claiming right after the creation (before the first step) gets nothing."""
    original = SqliteStore.create_run
    seen: list[tuple[list[str], str | None]] = []

    def observe(self: SqliteStore, run: object, start: object, **options: object) -> None:
        original(self, run, start, **options)  # type: ignore[arg-type]
        with closing(open_store(store, cwd=Path.cwd())) as other:
            run_id = run.run_id  # type: ignore[attr-defined]
            seen.append((other.claim("w1", 30), other.get_run(run_id).lease_owner))

    monkeypatch.setattr(SqliteStore, "create_run", observe)
    data = started(store)
    forked = fsm("fork", str(data["run_id"]), "--at", "2", "--store", store, "--json")
    assert forked.exit_code == 0, forked.output
    assert len(seen) == 2
    for claimed, owner in seen:
        assert claimed == []
        assert owner is not None
        assert owner.startswith("fsm-cli:")
    detached = fsm("run", SPEC, "--input", INPUT, "--store", store, "--detach")
    assert detached.exit_code == 0, detached.output
    assert seen[2] == ([detached.stdout.strip()], "w1")  # --detach: left to workers, unleased


def test_send_and_resume_refuse_a_run_a_worker_holds(store: str) -> None:
    """A run leased to a live worker is not advanced by a second process."""
    run_id = escalated(store)
    with closing(open_store(store, cwd=Path.cwd())) as other:
        assert other.lease(run_id, "w1", 300)
    for args in (("send", run_id, *RESOLVE), ("resume", run_id)):
        refused = fsm(*args, "--store", store)
        assert refused.exit_code == 1, refused.output
        assert f"run {run_id} is leased by w1" in refused.output
        assert "see `fsm runs`" in refused.output
    listed = fsm("runs", "--store", store)  # where the refusal points: the holder is there
    assert "leased to w1 for" in listed.stdout
    (as_json,) = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert as_json["lease_owner"] == "w1"
    assert as_json["lease_expires_at"] > time.time() + 200
    detached = fsm("send", run_id, *RESOLVE, "--detach", "--store", store)
    assert detached.exit_code == 0, detached.output


def test_resume_takes_over_the_lease_of_a_process_that_died(store: str) -> None:
    """A command killed mid-run leaves its lease behind; a process of this machine that no
    longer exists holds nothing, so `fsm resume` goes on at once instead of waiting it out."""
    run_id = escalated(store)
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = f"fsm-cli:{local_host()}:{ended.stdout.strip()}:abcdef"
    alive = f"fsm-cli:{local_host()}:{os.getpid()}:abcdef"
    with closing(open_store(store, cwd=Path.cwd())) as other:
        assert other.lease(run_id, alive, 300)
    assert fsm("send", run_id, *RESOLVE, "--store", store).exit_code == 1  # a live holder
    with closing(open_store(store, cwd=Path.cwd())) as other:
        other.release(run_id, alive)
        assert other.lease(run_id, dead, 300)
    sent = fsm("send", run_id, *RESOLVE, "--store", store)
    assert sent.exit_code == 0, sent.output
    assert "completed in 'resolved'" in sent.stdout


def test_a_holder_in_another_pid_namespace_is_never_taken_for_dead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A container with the machine's host name but its own PID namespace (--network host)
    numbers its processes apart: a PID gone here may be alive there, so only a holder of the
    same namespace can be found dead."""
    from fsm import hosts

    gone = str(2**22 + 12345)  # above Linux's default pid_max: no such process here
    monkeypatch.setattr(hosts, "pid_namespace", lambda: 0xF0001234)
    here = hosts.local_host()
    assert here == f"{socket.gethostname()}~f0001234"
    assert dead_holder(f"fsm-cli:{here}:{gone}:abcdef")
    assert not dead_holder(f"fsm-cli:{socket.gethostname()}:{gone}:abcdef")
    monkeypatch.setattr(hosts, "pid_namespace", lambda: 0xEFFFFFFC)  # the machine's own
    assert hosts.local_host() == socket.gethostname()
    assert not dead_holder(f"fsm-cli:{here}:{gone}:abcdef")


def test_resume_takes_over_a_parked_lease_without_a_worker_slipping_in(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Taking over a parked (or dead holder's) lease used to be a release, then a lease: a
    worker claiming in between took the run and `fsm resume` was refused as if that worker
    had been holding it all along. The lease now changes hands in one write."""
    queued = fsm("run", SPEC, "--input", INPUT, "--store", store, "--detach")
    assert queued.exit_code == 0, queued.output
    run_id = queued.stdout.strip()
    with closing(open_store(store, cwd=Path.cwd())) as other:
        assert other.lease(run_id, "parked:w1", 300)  # as a worker leaves a run it parked
    rival_got: list[list[str]] = []
    for name in ("lease", "release", "hand_over"):
        original = getattr(SqliteStore, name, None)
        if original is None:
            continue

        def then_a_worker_claims(self: SqliteStore, *args: object, _o: object = original) -> object:
            result = _o(self, *args)  # type: ignore[operator]
            with closing(open_store(store, cwd=Path.cwd())) as other:
                rival_got.append(other.claim("w2", 300))
            return result

        monkeypatch.setattr(SqliteStore, name, then_a_worker_claims)
    resumed = fsm("resume", run_id, "--store", store)
    assert resumed.exit_code == 0, resumed.output
    assert rival_got
    assert all(got == [] for got in rival_got)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_resume_takes_over_the_lease_of_a_killed_process_not_yet_reaped(store: str) -> None:
    """A supervisor that kills a command and has not waited for it yet leaves a zombie, which
    `os.kill(pid, 0)` still finds: it advances nothing, so its lease does not keep `fsm send`
    (or `resume`) out either."""
    run_id = escalated(store)
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        killed.kill()
        deadline = time.monotonic() + 10
        stat = Path(f"/proc/{killed.pid}/stat")
        while stat.read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        holder = f"fsm-cli:{local_host()}:{killed.pid}:abcdef"
        with closing(open_store(store, cwd=Path.cwd())) as other:
            assert other.lease(run_id, holder, 300)
        sent = fsm("send", run_id, *RESOLVE, "--store", store)
        assert sent.exit_code == 0, sent.output
        assert "completed in 'resolved'" in sent.stdout
    finally:
        killed.wait()


def test_a_slow_agent_call_keeps_the_run_leased(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A heartbeat renews the command's lease every third of it, whatever the steps do: a
    single agent call longer than the lease (a slow model) no longer lets a worker claim the
    run and call the agent a second time. Renewals are few: one per beat, not per step."""
    monkeypatch.setattr("fsm.cli.run_commands.CLI_LEASE_SECONDS", 0.6)  # a beat every 0.2 s
    renewals: list[str] = []
    original = SqliteStore.renew

    def counted(self: SqliteStore, run_id: str, worker_id: str, seconds: float) -> bool:
        renewals.append(worker_id)
        return original(self, run_id, worker_id, seconds)

    monkeypatch.setattr(SqliteStore, "renew", counted)
    claimed: list[list[str]] = []
    original_step = RunHandle._step

    def slow_then_claim(self: RunHandle) -> object:
        time.sleep(0.7)  # longer than the whole lease
        with closing(open_store(store, cwd=Path.cwd())) as other:
            claimed.append(other.claim("w1", 30))
        return original_step(self)

    monkeypatch.setattr(RunHandle, "_step", slow_then_claim)
    result = fsm("run", SPEC, "--input", INPUT, "--store", store)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\nstep ") == 6
    assert len(claimed) >= 6
    assert all(found == [] for found in claimed)  # the run was never up for claiming
    assert len(claimed) <= len(renewals) <= len(claimed) * 0.7 / 0.2 + 2
    assert all(owner.startswith("fsm-cli:") for owner in renewals)


def test_failed_run_exits_1_and_show_at_unknown_seq_is_clear(store: str) -> None:
    """A run hitting its step limit fails (exit 1); show --at past the head is an error."""
    result = fsm("run", SPEC, "--input", INPUT, "--store", store, "--max-steps", "2", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["status"] == "failed"
    assert "step limit reached" in str(data["error"])
    shown = fsm("show", str(data["run_id"]), "--at", "9", "--store", store)
    assert shown.exit_code == 1
    assert "there is no seq 9" in shown.output


def test_a_run_stopped_by_the_step_limit_is_continued_by_a_fork_with_more_steps(
    store: str,
) -> None:
    """The limit error gives the `fsm fork --max-steps` command, and that fork gets the new
    limit (steps counting on from its parent's); a fork that would stop at once under the
    parent's limit is refused, and no run is made."""
    result = fsm("run", SPEC, "--input", INPUT, "--store", store, "--json", "--max-steps", "3")
    stopped = json.loads(result.stdout)
    assert (result.exit_code, stopped["status"]) == (1, "failed")
    run_id = str(stopped["run_id"])
    assert f"fsm fork {run_id} --at 3 --max-steps 6" in str(stopped["error"])
    runs_before = fsm("runs", "--store", store, "--json").stdout
    again = fsm("fork", run_id, "--at", "3", "--store", store)  # by default the parent's limit
    assert again.exit_code == 1
    assert "would stop at once" in again.output
    assert f"fsm fork {run_id} --at 3 --max-steps 6" in again.output
    assert fsm("runs", "--store", store, "--json").stdout == runs_before
    result = fsm("fork", run_id, "--at", "3", "--max-steps", "10", "--store", store, "--json")
    assert result.exit_code == 0, result.output
    forked = json.loads(result.stdout)
    assert (forked["status"], forked["state"], forked["steps"]) == ("waiting", "approval", 6)
    too_few = fsm("fork", run_id, "--at", "3", "--max-steps", "0", "--store", store)
    assert too_few.exit_code == 2


def test_spec_change_is_refused_then_allowed(store: str, tmp_path: Path) -> None:
    """resume under an edited spec says --allow-spec-change; with it the run continues."""
    spec = tmp_path / "pipeline.yaml"
    spec.write_text(Path(SPEC).read_text())
    agents = tmp_path / "agents"
    agents.mkdir()
    (agents / "content_pipeline.py").write_text(
        (ROOT / "specs" / "agents" / "content_pipeline.py").read_text()
    )
    result = fsm("run", str(spec), "--input", INPUT, "--store", store, "--json")
    run_id = json.loads(result.stdout)["run_id"]
    spec.write_text(spec.read_text() + "\n# edited\n")
    refused = fsm("send", run_id, "approve", "--data", '{"editor": "a"}', "--store", store)
    assert refused.exit_code == 1
    assert "--allow-spec-change" in refused.output
    allowed = fsm(
        "send", run_id, "approve", "--data", '{"editor": "a"}', "--store", store,
        "--allow-spec-change", "--json",
    )  # fmt: skip
    assert json.loads(allowed.stdout)["status"] == "completed"
    shown = json.loads(fsm("history", run_id, "--store", store, "--json").stdout)
    pinned = shown["run"]["spec_hash"]
    hashes = [record["spec_hash"] for record in shown["history"]]
    assert hashes[:7] == [pinned] * 7  # the records written under the original spec
    assert hashes[7] != pinned  # the event's record, under the edited one


def test_a_run_without_its_required_input_says_to_pass_it(store: str) -> None:
    """The context's required fields are missing: the error says how to give them."""
    result = fsm("run", SPEC, "--store", store)
    assert result.exit_code == 1
    assert "input.brief: expected Brief, got nothing (missing)" in result.output
    assert "give them as --input JSON or --input @FILE" in result.output


def test_replay_against_the_runs_own_spec_matches_every_record(store: str) -> None:
    run_id = str(started(store)["run_id"])
    result = fsm("replay", run_id, "--store", store)
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        f"replayed 6 records of run {run_id} against {SPEC} (the spec it ran with): every "
        "route and context change is as recorded\n"
    )


def test_replay_against_an_edited_spec_shows_the_first_change_and_fails(
    store: str, tmp_path: Path
) -> None:
    """The edit lowers the review threshold; the agents' code is not even reachable from the
    edited copy (`impl` paths are relative to the spec), and replay calls none of it."""
    run_id = str(started(store)["run_id"])
    edited = tmp_path / "edited.yaml"
    text = Path(SPEC).read_text(encoding="utf-8")
    edited.write_text(text.replace("review.score >= 0.8", "review.score >= 0.5"), "utf-8")
    result = fsm("replay", run_id, "--spec", str(edited), "--store", store)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"run {run_id} replayed against {edited} (edited since the run started) differs at "
        "seq 2 in 'reviewing', after 1 matching record:",
        "  recorded: → drafting by `revise` (running, changed review, log+)",
        "  replayed: → approval by `good_enough` (waiting, changed review, log+)",
    ]
    as_json = fsm("replay", run_id, "--spec", str(edited), "--store", store, "--json")
    data = json.loads(as_json.stdout)
    assert (data["pinned"], data["records"], data["matched"]) == (False, 6, 1)
    assert data["divergence"]["seq"] == 2


def test_replay_of_a_run_whose_spec_is_gone_asks_for_one(store: str, tmp_path: Path) -> None:
    moved = tmp_path / "pipeline.yaml"
    moved.write_text(Path(SPEC).read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "agents").symlink_to(ROOT / "specs" / "agents")
    result = fsm("run", str(moved), "--input", INPUT, "--store", store, "--json")
    assert result.exit_code == 0, result.output
    moved.unlink()
    result = fsm("replay", json.loads(result.stdout)["run_id"], "--store", store)
    assert result.exit_code == 1
    assert "which no longer exists; pass the spec to replay against with --spec PATH" in (
        result.output
    )


def test_a_run_whose_spec_moved_is_continued_with_spec(store: str, tmp_path: Path) -> None:
    """Moving the project strands no run: send, resume and fork take the spec's new place with
    --spec (the same spec: its hash is the run's), and an edited one still needs
    --allow-spec-change."""
    old, new = tmp_path / "old", tmp_path / "new"
    for folder in (old, new):
        folder.mkdir()
        (folder / "agents").symlink_to(ROOT / "specs" / "agents")
    text = Path(SPEC).read_text(encoding="utf-8")
    (old / "pipeline.yaml").write_text(text, "utf-8")
    result = fsm("run", str(old / "pipeline.yaml"), "--input", INPUT, "--store", store, "--json")
    waiting = json.loads(result.stdout)
    run_id = str(waiting["run_id"])
    assert waiting["status"] == "waiting"
    (old / "pipeline.yaml").rename(new / "pipeline.yaml")
    lost = fsm("send", run_id, "approve", "--data", APPROVE, "--store", store)
    assert lost.exit_code == 1
    assert "or pass its new place with --spec PATH" in lost.output
    edited = new / "edited.yaml"
    edited.write_text(text.replace("review.score >= 0.8", "review.score >= 0.5"), "utf-8")
    refused = fsm(
        "send", run_id, "approve", "--data", APPROVE, "--spec", str(edited), "--store", store
    )
    assert refused.exit_code == 1
    assert "--allow-spec-change" in refused.output
    # both files named: the one the run started from (gone) and the one given, which differs
    assert f"of {old / 'pipeline.yaml'} than {edited} (spec hash" in refused.output.replace(
        "\n", " "
    )
    fork = fsm("fork", run_id, "--at", "1", "--spec", str(new / "pipeline.yaml"), "--store", store)
    assert fork.exit_code == 0, fork.output
    spec = str(new / "pipeline.yaml")
    sent = fsm("send", run_id, "approve", "--data", APPROVE, "--spec", spec, "--store", store)
    assert sent.exit_code == 0, sent.output
    shown = fsm("show", run_id, "--store", store, "--json")
    assert json.loads(shown.stdout)["status"] == "completed"
    resumed = fsm("resume", run_id, "--spec", spec, "--store", store)
    assert resumed.exit_code == 0, resumed.output


def test_replay_of_a_record_written_under_a_later_spec_version_says_so(
    store: str, tmp_path: Path
) -> None:
    """A run continued with --allow-spec-change holds records of two spec versions: against
    the one it started with, the later record differs because the edit decided it, not
    because the store was tampered with (the docs' reading of a difference under "the spec
    it ran with")."""
    original = tmp_path / "original.yaml"
    original.write_text(Path(SPEC).read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "agents").symlink_to(ROOT / "specs" / "agents")
    result = fsm("run", str(original), "--input", INPUT, "--store", store, "--json")
    run_id = json.loads(result.stdout)["run_id"]
    copy = tmp_path / "copy.yaml"
    copy.write_text(original.read_text(encoding="utf-8"), "utf-8")
    original.write_text(
        original.read_text(encoding="utf-8").replace(
            "    - {on: approve, to: published}",
            "    - {on: approve, to: failed, when: \"decision.editor == 'ada'\", name: veto}\n"
            "    - {on: approve, to: published}",
        ),
        "utf-8",
    )
    sent = fsm(
        "send", run_id, "approve", "--data", APPROVE, "--store", store, "--allow-spec-change"
    )
    assert sent.exit_code == 0, sent.output
    result = fsm("replay", run_id, "--spec", str(copy), "--store", store)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"run {run_id} replayed against {copy} (the spec it started with) differs at seq 7 in "
        "'approval', after 6 matching records:"
    )
    assert lines[-1].startswith("seq 7 was written under another version of the spec (hash ")
    assert lines[-1].endswith(
        "the run was continued with --allow-spec-change, so that version "
        "decided it; replay against it with --spec"
    )
    data = json.loads(fsm("replay", run_id, "--spec", str(copy), "--store", store, "--json").stdout)
    history = json.loads(fsm("history", run_id, "--store", store, "--json").stdout)["history"]
    assert data["divergence"]["spec_hash"] == history[7]["spec_hash"] != data["spec_hash"]
    assert fsm("replay", run_id, "--store", store).exit_code == 0  # the edited file: as recorded


@pytest.mark.parametrize(
    "args", [("history", "abc"), ("show", "abc"), ("replay", "abc"), ("runs",), ("resume", "abc")]
)
def test_commands_that_read_runs_leave_no_empty_store_behind(
    args: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a folder where no run was started, they say so instead of creating .fsm/runs.db
    and then not finding the run in it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FSM_STORE", raising=False)
    result = fsm(*args)
    assert result.exit_code == 1
    assert f"the default store {tmp_path / '.fsm' / 'runs.db'} does not exist" in result.output
    assert not (tmp_path / ".fsm").exists()


def test_runs_json_counts_a_held_lease_down(store: str) -> None:
    """`lease_seconds_left` spares a script comparing `lease_expires_at` with its own clock."""
    run_id = started(store)["run_id"]
    with closing(open_store(store)) as opened:
        assert opened.lease(str(run_id), "worker-9", 120)
    (run,) = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert run["lease_owner"] == "worker-9"
    assert 100 < run["lease_seconds_left"] <= 120


def test_a_refused_lease_suggests_detach_only_where_it_helps(store: str) -> None:
    """`send --detach` records an event without the lease: the hint is for a waiting run, not
    for a running one that someone is advancing (which --detach cannot reach)."""
    waiting = str(started(store)["run_id"])
    running = str(started(store, "--detach")["run_id"])
    with closing(open_store(store)) as opened:
        for run_id in (waiting, running):
            assert opened.lease(run_id, "worker-9", 120)
    sent = fsm("send", waiting, "approve", "--data", APPROVE, "--store", store)
    assert sent.exit_code == 1
    assert "leased by worker-9, which is advancing it" in sent.stderr
    assert "with `fsm send` pass --detach" in sent.stderr
    resumed = fsm("resume", running, "--store", store)
    assert resumed.exit_code == 1
    assert "leased by worker-9, which is advancing it" in resumed.stderr
    assert "--detach" not in resumed.stderr


@pytest.mark.parametrize("recorded", [False, True])
def test_ctrl_c_while_an_event_is_recorded_says_whether_it_was(
    store: str, monkeypatch: pytest.MonkeyPatch, recorded: bool
) -> None:
    """`fsm send` interrupted in the event's own write used to print a bare "Aborted!": the
    user could not tell whether to send again or resume."""
    run_id = escalated(store)
    deliver = RunHandle.deliver

    def interrupted(self: RunHandle, event: str, data: object = None) -> RunHandle:
        if recorded:
            deliver(self, event, data)
        raise KeyboardInterrupt

    monkeypatch.setattr(RunHandle, "deliver", interrupted)
    result = fsm("send", run_id, *RESOLVE, "--store", store)
    assert result.exit_code == 1
    if recorded:
        assert f"interrupted after event 'resolve' was recorded; run {run_id} is running" in (
            result.stderr
        )
        assert f"fsm resume {run_id} --store {shlex.quote(store)}" in result.stderr
    else:
        assert f"interrupted before event 'resolve' was recorded; run {run_id} is waiting" in (
            result.stderr
        )
        assert "send it again" in result.stderr


def test_run_whose_stdout_reader_went_away_still_drives_the_run(store: str) -> None:
    """`fsm run SPEC | head -1`: the step lines are only progress, so once nobody reads them
    the run goes on to its wait (it used to stop after the first step, still running, and
    exit 1 without a word)."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first line: every write breaks the pipe
    try:
        done = subprocess.run(
            [sys.executable, "-m", "fsm", "run", SPEC, "--input", INPUT, "--store", store],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "stdout was closed" in done.stderr
    (run,) = json.loads(fsm("runs", "--store", store, "--json").stdout)
    assert (run["status"], run["state"], run["seq"]) == ("waiting", "approval", 6)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["run", "missing.yaml"], 1),
        (["run", SPEC, "--input", "[1]"], 2),
        (["run", SPEC, "--input", "{}"], 1),
        (["run", SPEC, "--input", INPUT, "--max-steps", "2"], 1),  # a failed run: its report
        (["send", "no-such-run", "approve"], 1),
        (["resume", "no-such-run"], 1),
        (["fork", "no-such-run", "--at", "0"], 1),
        (["history", "no-such-run"], 1),
        (["show", "no-such-run"], 1),
        (["replay", "no-such-run"], 1),
        (["runs", "--store", "bogus://"], 1),
        (["check", "missing.yaml"], 1),
        (["validate", "missing.yaml"], 1),
        (["copy", "no-such-run", "--to", "memory://"], 2),
    ],
)
def test_json_output_on_error_is_json_or_nothing(store: str, args: list[str], code: int) -> None:
    """What `fsm --help` promises: with --json, stdout is one JSON document or nothing, the
    error is on stderr, and the exit status is 1 (failed) or 2 (wrong usage)."""
    fsm("run", SPEC, "--input", INPUT, "--store", store, "--json")  # the store exists
    if "--store" not in args and args[0] not in ("check", "validate"):
        args = [*args, "--store", store]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == code, result.output
    assert not isinstance(result.exception, Exception), result.exception
    if result.stdout:
        json.loads(result.stdout)
    assert result.stderr or result.stdout
    assert "Traceback" not in result.stderr


def test_detach_refuses_a_memory_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """A detached run is left to workers, which run in other processes; a memory store ends
    with this one. It used to print "queued; workers advance it: fsm worker --store
    memory://", a worker that would never see the run."""
    for args, env in ((["--store", "memory://"], None), ([], "memory://")):
        if env is not None:
            monkeypatch.setenv("FSM_STORE", env)
        result = fsm("run", SPEC, "--input", INPUT, "--detach", *args)
        assert result.exit_code == 2, result.output
        assert "a memory:// store ends with this command" in result.stderr
        assert result.stdout == ""


def test_a_wait_in_a_memory_store_named_by_the_environment_offers_no_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """FSM_STORE=memory:// as --store memory://: the store ends with the command, so the
    summary says the wait cannot be answered (it printed `fsm send` commands that could
    never find the run)."""
    monkeypatch.setenv("FSM_STORE", "MEMORY://")
    result = fsm("run", SPEC, "--input", INPUT)
    assert result.exit_code == 0, result.output
    assert "a memory store ends with this process" in result.stdout
    assert "fsm send" not in result.stdout


def _pipeline_with_agents(tmp_path: Path, edit: Callable[[str], str]) -> Path:
    """A copy of the content pipeline spec in ``tmp_path`` whose agents module is the shipped
    one with ``edit`` applied; the copied spec's path."""
    (tmp_path / "agents").mkdir()
    agents = (ROOT / "specs" / "agents" / "content_pipeline.py").read_text(encoding="utf-8")
    (tmp_path / "agents" / "content_pipeline.py").write_text(edit(agents), encoding="utf-8")
    spec = tmp_path / "content_pipeline.yaml"
    spec.write_text(Path(SPEC).read_text(encoding="utf-8"), encoding="utf-8")
    return spec


def test_json_stdout_holds_only_the_document_when_agents_print(store: str, tmp_path: Path) -> None:
    """What `fsm --help` promises of --json: stdout is the JSON document and nothing else. An
    agent's print() (a debugging line, a chatty client library) went to stdout too, so the
    caller's JSON parser broke; it now goes to stderr."""
    spec = _pipeline_with_agents(
        tmp_path,
        lambda agents: (
            agents.replace(
                "def write_draft(", 'print("agents loaded")\n\n\ndef write_draft(', 1
            ).replace("def review_draft(", "def _review_draft(", 1)
            + "\n\ndef review_draft(*args, **kwargs):\n"
            '    print("reviewing a draft")\n'
            "    return _review_draft(*args, **kwargs)\n"
        ),
    )

    ran = fsm("run", str(spec), "--input", INPUT, "--store", store, "--json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["status"] == "waiting"
    assert "agents loaded" in ran.stderr
    assert "reviewing a draft" in ran.stderr
    run_id = json.loads(ran.stdout)["run_id"]
    forked = fsm("fork", run_id, "--at", "1", "--store", store, "--json")
    assert json.loads(forked.stdout)["state"] == "approval"
    assert "reviewing a draft" in forked.stderr
    history = fsm("history", run_id, "--store", store, "--json")
    assert len(json.loads(history.stdout)["history"]) == 7

    text = fsm("run", str(spec), "--input", INPUT, "--store", store)
    assert "reviewing a draft" in text.stdout  # without --json, prints stay where they were


def test_runs_lines_up_its_columns_for_names_of_any_length(store: str) -> None:
    """Columns were fixed at 20 characters for the workflow and 16 for the state, so a longer
    name pushed the rest of its line out of line with the others."""
    short = started(store, "--run-id", "r1")
    long_id = "a-run-id-chosen-by-a-caller-" + "x" * 20
    started(store, "--run-id", long_id, "--send", f"approve={APPROVE}")
    lines = fsm("runs", "--store", store).stdout.splitlines()
    assert len(lines) == 2
    assert {line.index("content_pipeline") for line in lines} == {len(long_id) + 2}
    assert len({line.index("seq ") for line in lines}) == 1
    assert short["run_id"] == "r1"


def test_history_shows_the_failures_an_agent_was_retried_after(store: str, tmp_path: Path) -> None:
    """A step whose agent succeeded at its second attempt says what failed the first, in text
    and in --json (it said only "(attempt 2)")."""
    spec = _pipeline_with_agents(
        tmp_path,
        lambda agents: (
            agents.replace("def write_draft(", "def _write_draft(", 1)
            + "\n\ndef write_draft(inputs, call):\n"
            "    if call.attempt == 1 and call.seq == 1:\n"
            "        raise TimeoutError('the model took too long')\n"
            "    return _write_draft(inputs, call)\n"
        ),
    )
    ran = fsm("run", str(spec), "--input", INPUT, "--store", store, "--json")
    assert ran.exit_code == 0, ran.output
    run_id = json.loads(ran.stdout)["run_id"]

    lines = fsm("history", run_id, "--store", store).stdout.splitlines()
    step = next(index for index, line in enumerate(lines) if line.startswith("step 1 "))
    assert lines[step].endswith("(attempt 2)")
    assert lines[step + 1] == (
        "        retried: agent 'writer' failed (attempt 1 of 3):"
        " TimeoutError: the model took too long"
    )
    records = json.loads(fsm("history", run_id, "--store", store, "--json").stdout)["history"]
    assert records[1]["failed_attempts"] == [lines[step + 1].split("retried: ")[1]]
    assert records[2]["failed_attempts"] == []


def test_a_lease_that_cannot_be_given_back_is_a_note_not_a_failed_command(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store failing just when the command gives its lease back (its server went down
    after the last step) made a completed run's command exit 1 without its summary."""

    def down(*_: object) -> None:
        raise StoreError("the server closed the connection")

    monkeypatch.setattr(SqliteStore, "release", down)
    result = fsm("run", SPEC, "--input", INPUT, "--store", store, "--send", f"approve={APPROVE}")
    assert result.exit_code == 0, result.output
    assert "completed in 'published'" in result.stdout
    assert "could not give back the lease on run" in result.stderr
    assert "it expires within 60 s" in result.stderr
