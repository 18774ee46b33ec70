"""Smoke tests of the benchmark harness: tiny sizes, no timing assertions.

Our own variants and the floor always run; peers run only where their packages are installed
(the ``bench`` extra), so CI keeps the harness working without installing LangGraph or Burr.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.check_bench import main as check_bench
from benchmarks.fusion_bound import measure as measure_fused
from benchmarks.profile_w1 import profile, summary
from benchmarks.report import paired_ratio, targets
from benchmarks.runner import REPO, Results, StepSample, _syscall_total, worker
from benchmarks.specgen import generate_record_chain
from benchmarks.variants import NAMES, OURS, variant_named
from benchmarks.w2_scale import main as w2_scale
from benchmarks.worker import MismatchError, _check, load_task, steps_task
from benchmarks.workloads import Workload, appended_bytes, digest, expected_context
from fsm.spec.validate import checked_from_text

ALWAYS = ("floor-json", OURS, "transitions")


def _variants() -> list[object]:
    """Every variant; those whose packages are missing are skipped, never the whole file."""
    return [
        pytest.param(
            name,
            marks=pytest.mark.skipif(
                not variant_named(name).available(),
                reason=f"{', '.join(variant_named(name).requires)} not installed",
            ),
        )
        for name in NAMES
    ]


def test_core_variants_need_no_extra() -> None:
    """The floor, ours and transitions run without the bench extra, so CI always covers them."""
    assert all(variant_named(name).available() for name in ALWAYS)
    assert variant_named("langgraph").requires
    assert variant_named("burr").requires


@pytest.mark.parametrize("variant", _variants())
@pytest.mark.parametrize("workload", ["W1", "W2"])
def test_variant_runs_steps_at_equal_settings(variant: str, workload: str, tmp_path: Path) -> None:
    """Each variant takes exactly the requested steps in WAL at the requested sync level and
    ends with the reference context (the worker checks it)."""
    result = steps_task(variant, Workload(workload, 6), "normal", tmp_path / "bench.db")
    assert len(result["step_us"]) == 6
    assert (result["journal_mode"], result["synchronous"]) == ("wal", "normal")
    assert result["bytes"] > 0


@pytest.mark.parametrize("variant", ["floor-json", OURS])
def test_full_sync_is_what_the_connection_reports(variant: str, tmp_path: Path) -> None:
    """At ``--sync full`` the connection really runs with synchronous=FULL."""
    result = steps_task(variant, Workload("W1", 2), "full", tmp_path / "bench.db")
    assert result["synchronous"] == "full"


@pytest.mark.parametrize("variant", _variants())
def test_variant_loads_the_head_state(variant: str, tmp_path: Path) -> None:
    """Each variant's loader returns the state after the last step, checked against the
    reference context."""
    path = tmp_path / "long.db"
    workload = Workload("W1", 10)
    steps_task(variant, workload, "normal", path)
    result = load_task(variant, workload, path)
    assert result["first_us"] > 0
    assert result["warm_us"] > 0


def test_reference_context_ends_published_at_the_target() -> None:
    """The reference loop does steps/2 revisions and appends one note per step in W2."""
    context = expected_context(Workload("W2", 8))
    assert context["revision"] == 4
    assert context["score"] == 0.9
    assert len(context["notes"]) == 8
    assert appended_bytes() == 1002


def test_digest_ignores_score_spelling_but_not_values() -> None:
    """0 and 0.0 digest alike (JSON spelling); a changed field changes the digest."""
    base = {"score": 0, "revision": 1}
    assert digest(base) == digest({"revision": 1, "score": 0.0})
    assert digest(base) != digest({"score": 0, "revision": 2})


def test_mismatched_context_fails_loudly() -> None:
    """A variant that did different work is an error naming the differing fields."""
    wrong = expected_context(Workload("W1", 4)) | {"revision": 99}
    with pytest.raises(MismatchError, match="revision"):
        _check("ours", wrong, Workload("W1", 4))


def test_workload_rejects_odd_step_counts() -> None:
    """Steps must be even: a writer and a reviewer call per pair, ending in published."""
    with pytest.raises(ValueError, match="even"):
        Workload("W1", 5)


def test_worker_failure_reports_its_stderr(tmp_path: Path) -> None:
    """A failing measurement process raises with its exit code and error output."""
    missing = tmp_path / "no" / "such" / "folder" / "bench.db"
    with pytest.raises(RuntimeError, match="failed"):
        worker("steps", "--variant", "floor-json", "--steps", "2", "--db", str(missing))


def test_strace_summary_counts_fsync_and_fdatasync() -> None:
    """Both sync calls are summed from an ``strace -c`` table, with or without errors."""
    text = (
        "% time     seconds  usecs/call     calls    errors syscall\n"
        "------ ----------- ----------- --------- --------- ----------------\n"
        " 90.00    0.008051          73       109           fdatasync\n"
        " 10.00    0.000100          10        10         1 fsync\n"
        "100.00    0.008151          68       119         1 total\n"
    )
    assert _syscall_total(text) == 119


def test_profile_summary_names_the_areas() -> None:
    """profile-w1 attributes our step time to the store, the runtime and SQLite itself."""
    stats, per_step = profile(4, "normal")
    text = summary(stats, top=5)
    assert per_step > 0
    for area in ("store (fsm/store)", "runtime (fsm/runtime)", "sqlite3"):
        assert area in text


def test_one_command_writes_the_results_file(tmp_path: Path) -> None:
    """``python -m benchmarks`` runs interleaved processes and writes every section."""
    out = tmp_path / "RESULTS.md"
    command = [
        sys.executable, "-m", "benchmarks", "--quick", "--steps", "4", "--w2-steps", "4",
        "--w3-steps", "6", "--reps", "1", "--w3-reps", "1", "--w4-states", "2",
        "--w5-calls", "50", "--sync", "normal", "--variants", "floor-json", OURS,
        "--out", str(out),
    ]  # fmt: skip
    subprocess.run(command, cwd=REPO, check=True, capture_output=True, timeout=240)
    text = out.read_text(encoding="utf-8")
    headings = [
        "## Targets (issue 6)",
        "### W1 at synchronous=NORMAL",
        "### W2 at",
        "### W3",
        "### W4",
    ]
    for heading in [*headings, "### W5", "## Where ours spends a W1 step"]:
        assert heading in text
    assert "| ours |" in text
    assert "| floor-json |" in text
    assert "nproc" in text


def test_a_quick_run_prints_instead_of_replacing_the_committed_results() -> None:
    """``--quick`` (the README's command) leaves RESULTS.md alone unless ``--out`` names it."""
    from benchmarks.__main__ import DEFAULT_OUT, _destination, _parser

    assert _destination(_parser().parse_args(["--quick"])) == "-"
    assert _destination(_parser().parse_args([])) == str(DEFAULT_OUT)
    assert _destination(_parser().parse_args(["--quick", "--out", "q.md"])) == "q.md"


def test_results_name_the_commit_of_an_exported_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ``git archive`` export has no .git: the commit comes from FSM_BENCH_COMMIT."""
    from benchmarks import report

    monkeypatch.setattr(report, "REPO", tmp_path)
    monkeypatch.setenv("FSM_BENCH_COMMIT", "abc1234")
    assert report._commit() == "abc1234 (exported tree)"


def test_paired_ratio_compares_variants_within_each_repetition() -> None:
    """A slow phase spanning two of three repetitions moves the ratio of medians (ours
    measured mostly slow, the floor mostly fast) but not the paired ratio, which is 2x in
    every repetition."""

    def sample(variant: str, rep: int, step_us: float) -> StepSample:
        return StepSample(variant, "W1", "normal", rep, 2, (step_us, step_us), 1, 1, "wal", "1")

    steps = (
        sample("floor-json", 1, 10.0),
        sample(OURS, 1, 20.0),
        sample("floor-json", 2, 10.0),
        sample(OURS, 2, 20.0),
        sample("floor-json", 3, 30.0),
        sample(OURS, 3, 60.0),
        sample("floor-json", 4, 30.0),
        sample(OURS, 4, 60.0),
        sample("floor-json", 5, 10.0),
    )
    results = Results(None, steps, (), {}, (), (), None)  # type: ignore[arg-type]
    assert paired_ratio(results, "W1", "normal", OURS, "floor-json") == 2.0
    assert paired_ratio(results, "W1", "full", OURS, "floor-json") is None


def test_peer_targets_are_judged_per_workload() -> None:
    """Each step workload gets its own verdict against Burr (4x) and LangGraph (20x)."""

    def sample(variant: str, workload: str, step_us: float) -> StepSample:
        return StepSample(variant, workload, "normal", 1, 2, (step_us, step_us), 1, 1, "wal", "1")

    steps = (
        sample(OURS, "W1", 30.0),
        sample("burr", "W1", 90.0),
        sample("langgraph", "W1", 600.0),
        sample(OURS, "W2", 40.0),
        sample("burr", "W2", 3000.0),
        sample("langgraph", "W2", 400.0),
        sample("floor-json", "W1", 25.0),
    )
    results = Results(None, steps, (), {}, (), (), None)  # type: ignore[arg-type]
    lines = targets(results)
    assert "- W1 at NORMAL: 3.00x as fast as burr" in "\n".join(lines)
    verdicts = {
        line.split(" by median")[0]: line.rsplit(": ", 1)[1].split(";")[0]
        for line in lines
        if "as fast" in line
    }
    missed = [line for line in lines if line.startswith("- W1") and "not met" in line]
    assert missed == [line for line in lines if "the floor itself" in line]
    assert missed[0].endswith("; the floor itself is 3.60x as fast as burr")
    assert verdicts == {
        "- W1 at NORMAL: 3.00x as fast as burr": "**not met**",
        "- W1 at NORMAL: 20.00x as fast as langgraph": "met",
        "- W2 at NORMAL: 75.00x as fast as burr": "met",
        "- W2 at NORMAL: 10.00x as fast as langgraph": "**not met**",
    }


def test_the_fused_bound_does_the_real_steps_work() -> None:
    """The hand-fused W1 loop ends on the context and history the real steps give."""
    _, real, _ = measure_fused(60, fused=False)
    _, fused, fallbacks = measure_fused(60, fused=True)
    assert fused == real == expected_context(Workload("W1", 60))
    assert fallbacks <= 3  # the first step (head unknown), frame candidates, the last step


@pytest.mark.skipif(not variant_named("langgraph").available(), reason="langgraph not installed")
def test_langgraph_sets_up_its_tables_before_any_timing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SqliteSaver creates its tables lazily, on first use: unless set up first, LangGraph's
    first timed step and its W3 load pay the setup ours and Burr pay when they open."""
    from benchmarks.variants import langgraph_peer

    saver_class = langgraph_peer.SqliteSaver
    done: list[bool] = []  # whether the saver of the current process is set up
    built: list[bool] = []
    loaded: list[bool] = []
    real_setup, real_build = saver_class.setup, langgraph_peer.build_graph
    real_time_load = langgraph_peer.time_load

    def setup(saver: Any) -> None:
        real_setup(saver)
        done.append(True)

    def build(workload: Workload, saver: Any) -> Any:
        built.append(bool(done))
        return real_build(workload, saver)

    def time_load(load: Any, context_of: Any) -> Any:
        loaded.append(bool(done))
        return real_time_load(load, context_of)

    monkeypatch.setattr(saver_class, "setup", setup)
    monkeypatch.setattr(langgraph_peer, "build_graph", build)
    monkeypatch.setattr(langgraph_peer, "time_load", time_load)
    workload = Workload("W1", 4)
    steps_task("langgraph", workload, "normal", tmp_path / "bench.db")
    done.clear()  # a resuming process starts with a saver of its own
    load_task("langgraph", workload, tmp_path / "bench.db")
    assert built == [True]
    assert loaded == [True]


def test_ours_loads_its_run_without_reading_the_runs_table_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The peers know their thread / app id; ours knows its run id too, so no lookup before
    the timed W3 load warms the cache it is about to read."""
    from fsm import SqliteStore

    workload = Workload("W1", 4)
    steps_task(OURS, workload, "normal", tmp_path / "bench.db")

    def lookup(self: SqliteStore, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("list_runs before the timed load")

    monkeypatch.setattr(SqliteStore, "list_runs", lookup)
    assert load_task(OURS, workload, tmp_path / "bench.db")["first_us"] > 0


def test_w2_growth_is_judged_against_the_floors() -> None:
    """At FULL the last W2 steps are cheaper for every variant (the WAL is reused, not grown):
    the floor, whose work per step never changes, goes 300 -> 150 µs. Ours going 300 -> 270
    then grows with its state 1.8x as fast as the floor, which must not pass as 0.9x."""

    def sample(variant: str, early: float, late: float) -> StepSample:
        times = (early,) + (200.0,) * 8 + (late,)
        return StepSample(variant, "W2", "full", 1, 10, times, 1, 1, "wal", "full")

    results = Results(
        None,  # type: ignore[arg-type]
        (sample("floor-json", 300.0, 150.0), sample(OURS, 300.0, 270.0)),
        (),
        {},
        (),
        (),
        None,
    )
    (line,) = [line for line in targets(results) if "late/early" in line]
    assert "= 0.90x, the floor's 0.50x: 1.80x the floor's" in line
    assert line.endswith("**not met**")
    alone = Results(None, (sample(OURS, 300.0, 270.0),), (), {}, (), (), None)  # type: ignore[arg-type]
    (line,) = [line for line in targets(alone) if "late/early" in line]
    assert line.endswith("0.90x (target ≤ 1.2x): met")


@pytest.mark.skipif(not variant_named("burr").available(), reason="burr not installed")
@pytest.mark.parametrize(("routing", "compiles"), [("expr", True), ("lmda", False)])
def test_burr_expr_compiles_at_every_step_and_lmda_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, routing: str, compiles: bool
) -> None:
    """``burr`` routes with ``expr``, as issue 6 names it, which compiles its expression again
    at every reviewing step; ``burr-lmda`` routes with a Python function, like LangGraph and
    transitions. Both are measured; this keeps each what its name says."""
    import builtins

    from benchmarks.measure import connect
    from benchmarks.variants import burr_peer

    db = connect(tmp_path / "bench.db", "normal", check_same_thread=False)
    persister = burr_peer.SQLitePersister(str(tmp_path / "bench.db"), connection=db)
    persister.initialize()  # type: ignore[no-untyped-call]
    app = burr_peer.build_app(Workload("W1", 6), persister, routing)
    compiled: list[object] = []
    real_compile = builtins.compile

    def counting_compile(*args: Any, **kwargs: Any) -> Any:
        compiled.append(args[0])
        return real_compile(*args, **kwargs)

    monkeypatch.setattr(builtins, "compile", counting_compile)
    for _ in range(6):
        app.step()
    monkeypatch.undo()
    db.close()
    assert app.get_next_action().name == "published"
    assert bool(compiled) == compiles


def test_check_bench_times_a_checkout(capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks.check_bench`` checks a generated record chain with this checkout and
    prints each run's summary and the medians."""
    check_bench(["--states", "3", "--reps", "1", "--tree", f"here={REPO}"])
    out = capsys.readouterr().out
    assert "chain_3.yaml: routing ok" in out
    assert "3 states here: median" in out


def test_w2_scale_times_each_tenth_of_a_checkouts_run(capsys: pytest.CaptureFixture[str]) -> None:
    """``benchmarks.w2_scale`` runs W2 in a fresh process of the given checkout and prints
    ten per-tenth figures, the mean and the growth."""
    w2_scale(["--steps", "40", "--reps", "1", "--tree", f"here={REPO}"])
    row = capsys.readouterr().out.splitlines()[-1]
    figures, _, rest = row.partition("|")
    assert len(figures.split(":")[1].split()) == 10
    assert "mean" in rest
    assert "last/first" in rest


def test_record_chain_specs_are_valid_and_grow_their_context() -> None:
    """Each state of a record chain writes its own optional record: N + 2 context fields."""
    checked = checked_from_text(generate_record_chain(5), "chain_5.yaml")
    assert len(checked.context_type.fields) == 7
    assert len(checked.spec.states) == 7
