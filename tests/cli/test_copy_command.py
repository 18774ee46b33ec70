"""``fsm copy``: runs moved to another store with their history, safely repeatable."""

from __future__ import annotations

import json
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import attrs
import pytest
from click.testing import CliRunner, Result

from fsm.cli import copy_commands, main
from fsm.hosts import local_host
from fsm.store import open_store

ROOT = Path(__file__).parents[2]
SPEC = str(ROOT / "specs" / "content_pipeline.yaml")
INPUT = f"@{ROOT / 'specs' / 'inputs' / 'content_pipeline.json'}"
APPROVE = f"@{ROOT / 'specs' / 'inputs' / 'content_pipeline_approve.json'}"


def fsm(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def stores(tmp_path: Path) -> tuple[str, str]:
    return f"sqlite:///{tmp_path / 'old.db'}", f"sqlite:///{tmp_path / 'new.db'}"


def _start(store: str, *extra: str) -> str:
    result = fsm("run", SPEC, "--input", INPUT, "--store", store, "--json", *extra)
    assert result.exit_code == 0, result.output
    run_id: str = json.loads(result.stdout)["run_id"]
    return run_id


def test_unfinished_runs_are_copied_and_continue_in_the_target(stores: tuple[str, str]) -> None:
    """--unfinished takes the waiting run, not the completed one; the copy answers its wait
    in the target; copying again reports it as already there and changes nothing."""
    old, new = stores
    waiting = _start(old)
    done = _start(old, "--send", f"approve={APPROVE}")
    result = fsm("copy", "--unfinished", "--store", old, "--to", new)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"{waiting}  copied: content_pipeline waiting in approval at seq 6",
        "1 run copied of 1",
    ]
    history = fsm("history", waiting, "--store", new, "--json")
    assert history.exit_code == 0, history.output
    assert history.stdout == fsm("history", waiting, "--store", old, "--json").stdout
    again = fsm("copy", "--unfinished", "--store", old, "--to", new, "--json")
    assert again.exit_code == 0, again.output
    assert [entry["result"] for entry in json.loads(again.stdout)] == ["already there"]
    sent = fsm("send", waiting, "approve", "--data", APPROVE, "--store", new)
    assert sent.exit_code == 0, sent.output
    with closing(open_store(new)) as target:
        assert target.get_run(waiting).status == "completed"
        assert [run.run_id for run in target.list_runs()] == [waiting]
    assert fsm("copy", done, "--store", old, "--to", new).exit_code == 0


def test_one_run_that_cannot_be_copied_does_not_stop_the_others(stores: tuple[str, str]) -> None:
    """A run something is advancing is named with its holder and exits 1; the rest are copied."""
    old, new = stores
    busy, free = _start(old), _start(old)
    with closing(open_store(old)) as source:
        assert source.lease(busy, "worker-elsewhere", 60)
    result = fsm("copy", busy, free, "--store", old, "--to", new)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{busy}  not copied: run {busy} is leased by worker-elsewhere")
    assert lines[1].startswith(f"{free}  copied: ")
    assert lines[2] == "1 run copied of 2"


def test_a_run_moved_on_in_the_target_is_not_copied_over(stores: tuple[str, str]) -> None:
    old, new = stores
    run_id = _start(old)
    assert fsm("copy", run_id, "--store", old, "--to", new).exit_code == 0
    assert fsm("send", run_id, "approve", "--data", APPROVE, "--store", new).exit_code == 0
    result = fsm("copy", run_id, "--store", old, "--to", new, "--json")
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)
    assert entry["result"] == "failed"
    assert "copied before and has moved on in the target store" in entry["error"]


@pytest.mark.parametrize(
    "args", [(), ("--all", "--unfinished"), ("some-run", "--all")], ids=["none", "both", "ids+all"]
)
def test_which_runs_must_be_said_once(stores: tuple[str, str], args: tuple[str, ...]) -> None:
    old, new = stores
    _start(old)
    result = fsm("copy", *args, "--store", old, "--to", new)
    assert result.exit_code == 2
    assert "name the runs to copy, or pass --unfinished or --all" in result.output


def test_a_missing_source_store_is_an_error_not_an_empty_copy(tmp_path: Path) -> None:
    result = fsm(
        "copy", "--all", "--store", f"sqlite:///{tmp_path / 'nope.db'}", "--to", "memory://"
    )
    assert result.exit_code == 1
    assert "nope.db" in result.output


def test_a_half_copy_is_refused_by_commands_with_the_way_to_finish_it(
    stores: tuple[str, str],
) -> None:
    """A run whose copy stopped half-way is not resumed in the target, and the refusal says
    to copy it again rather than to wait for a lease that does not lapse."""
    old, new = stores
    run_id = _start(old, "--send", f"approve={APPROVE}")
    with closing(open_store(old)) as source, closing(open_store(new)) as target:
        head = source.get_run(run_id)
        start, *rest = source.history(run_id)
        target.create_run(
            attrs.evolve(head, seq=0, state=start.target, status=start.status),
            start,
            lease=("fsm-copy:elsewhere:1", 60),
        )
        assert rest
    result = fsm("resume", run_id, "--store", new)
    assert result.exit_code == 1
    assert "an `fsm copy` of it" in result.output
    assert "copy the run again" in result.output
    copied = fsm("copy", run_id, "--store", old, "--to", new)
    assert copied.exit_code == 0, copied.output


def _lease_to_a_killed_copy(store_url: str, run_id: str) -> str:
    """Lease the run as an `fsm copy` of this machine whose process has ended would leave it;
    the lease owner's name."""
    with subprocess.Popen([sys.executable, "-c", "pass"]) as ended:
        ended.wait()
    dead = f"fsm-copy:{local_host()}:{ended.pid}"
    with closing(open_store(store_url)) as source:
        assert source.lease(run_id, dead, 60)
    return dead


def test_a_killed_copy_s_lease_on_the_source_is_taken_over_at_once(
    stores: tuple[str, str],
) -> None:
    """A copy killed half-way on this machine leaves its lease on the run it copied from:
    copying again takes that lease over (as `fsm resume` does a killed command's) instead of
    refusing the run as one something is advancing, and lets go of it afterwards."""
    old, new = stores
    run_id = _start(old)
    _lease_to_a_killed_copy(old, run_id)
    result = fsm("copy", run_id, "--store", old, "--to", new)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{run_id}  copied: ")
    with closing(open_store(old)) as source:
        assert source.get_run(run_id).lease_owner is None


def test_nothing_to_copy_is_said_so(stores: tuple[str, str]) -> None:
    old, new = stores
    _start(old, "--send", f"approve={APPROVE}")
    result = fsm("copy", "--unfinished", "--store", old, "--to", new)
    assert result.exit_code == 0, result.output
    assert result.stdout == "no running or waiting runs to copy\n"


def test_a_killed_copy_s_lease_on_the_source_does_not_keep_resume_out(
    stores: tuple[str, str],
) -> None:
    """A copy killed on this machine leaves its (60 s) lease on the run it copied from: the
    run stays whole there, so `fsm send` and `fsm resume` take that lease over at once, as they
    do a killed command's, instead of refusing the run until the lease lapses. The copy's
    never-lapsing lease on a half copy is still refused (that run is behind its source)."""
    old, new = stores
    run_id = _start(old)
    dead = _lease_to_a_killed_copy(old, run_id)
    sent = fsm("send", run_id, "approve", "--data", APPROVE, "--store", old)
    assert sent.exit_code == 0, sent.output
    assert "completed in 'published'" in sent.output
    with closing(open_store(old)) as source, closing(open_store(new)) as target:
        head = source.get_run(run_id)
        start = source.history(run_id, 0, 1)[0]
        half = attrs.evolve(head, seq=0, state=start.target, status=start.status)
        target.create_run(half, start, lease=(dead, 100 * 365 * 86400.0))
    refused = fsm("resume", run_id, "--store", new)
    assert refused.exit_code == 1
    assert "copy the run again" in refused.output


def test_a_memory_store_is_refused_as_the_target(stores: tuple[str, str]) -> None:
    """It ends with the command: every run was reported "copied" into nothing."""
    source, _ = stores
    run_id = _start(source)
    result = CliRunner().invoke(main, ["copy", run_id, "--store", source, "--to", "memory://"])
    assert result.exit_code == 2, result.output
    assert "--to names a memory:// store, which ends with this command" in result.stderr
    assert result.stdout == ""


def test_ctrl_c_names_the_run_it_stopped_at_and_how_to_finish(
    stores: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C mid-copy said only click's "Aborted!"; it now says where the copy stopped and
    that running it again finishes it, which it does."""
    old, new = stores
    first, second = _start(old), _start(old)
    real_copy = copy_commands.copy_run

    def interrupted_at_the_second(source: object, target: object, run_id: str) -> object:
        if run_id == second:
            raise KeyboardInterrupt
        return real_copy(source, target, run_id)  # type: ignore[arg-type]

    monkeypatch.setattr(copy_commands, "copy_run", interrupted_at_the_second)
    stopped = fsm("copy", first, second, "--store", old, "--to", new)
    assert stopped.exit_code == 1
    assert f"interrupted while copying run {second} (1 of 2 done)" in stopped.stderr
    assert "run the same `fsm copy` again" in stopped.stderr
    monkeypatch.setattr(copy_commands, "copy_run", real_copy)
    again = fsm("copy", first, second, "--store", old, "--to", new, "--json")
    assert [entry["result"] for entry in json.loads(again.stdout)] == ["already there", "copied"]
