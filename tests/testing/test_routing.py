"""check_routing: each property holds on sound specs and fails with a readable counterexample."""

from __future__ import annotations

import json
import time
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings

from fsm.errors import FsmError
from fsm.runtime import RunHandle
from fsm.spec.validate import checked_from_text, load_checked
from fsm.testing import (
    RoutingCase,
    assert_routing_ok,
    check_routing,
    contexts,
    routing,
    termination,
)
from fsm.testing.runs import _compress, check_runs
from fsm.values import check_value
from tests.testing.specs import PLAIN, plain, scoring

SPECS = sorted(Path(__file__).parents[2].joinpath("specs").glob("*.yaml"))


def test_sound_spec_passes() -> None:
    """The scoring spec routes totally, without shadowing, and with a bounded loop."""
    report = check_routing(scoring(), runs=10)
    assert not report.findings, report.render()
    (point,) = report.points
    assert all(count > 0 for count in point.fired.values())


def test_missing_default_is_incomplete_with_counterexample() -> None:
    """Without a default, a low score with few issues fires nothing: shown with its context."""
    spec = scoring(
        '    - {to: done, when: "review.score >= 0.8"}\n'
        '    - {to: failed, when: "len(review.issues) > 2"}\n'
    )
    report = check_routing(spec, examples=100, runs=0)
    (finding,) = [f for f in report.findings if f.kind == "incomplete"]
    example = finding.counterexample
    assert example is not None
    assert example.state == "reviewing"
    review = example.context["review"]
    assert isinstance(review, dict)
    assert review["score"] < 0.8
    assert len(review["issues"]) <= 2
    assert example.guards[-1] == "=> no transition fires"
    assert "counterexample" in report.render()
    assert not report.ok


def test_boundary_gap_is_found() -> None:
    """`> 0.8` then `< 0.8` leaves exactly 0.8 unrouted; the boundary candidates find it."""
    spec = scoring(
        '    - {to: done, when: "review.score > 0.8"}\n'
        '    - {to: failed, when: "review.score < 0.8"}\n'
    )
    (finding,) = check_routing(spec, examples=100, runs=0).findings
    assert finding.kind == "incomplete"
    assert finding.counterexample is not None
    assert finding.counterexample.context["review"]["score"] == 0.8  # type: ignore[index]


def test_shadowed_transition_names_the_winner() -> None:
    """A transition whose guard implies an earlier one's is reported with that earlier one."""
    spec = scoring(
        '    - {to: done, when: "review.score >= 0.5"}\n'
        '    - {to: failed, when: "review.score >= 0.8"}\n'
        "    - {to: failed}\n"
    )
    (finding,) = check_routing(spec, examples=100, runs=0).findings
    assert finding.kind == "shadowed"
    assert "earlier transitions win: 1" in finding.message
    assert finding.span.line == 20


def test_dead_guard_is_reported() -> None:
    """A guard no valid context satisfies (score above its maximum) is dead."""
    spec = scoring('    - {to: done, when: "review.score > 1"}\n    - {to: failed}\n')
    kinds = [f.kind for f in check_routing(spec, examples=100, runs=0).findings]
    assert kinds.count("shadowed") == 1
    assert "unreachable" in kinds


def test_unbounded_loop_is_a_warning_and_strict_error() -> None:
    """A loop without a visit cap warns; under strict it fails."""
    spec = scoring(
        '    - {to: done, when: "review.score >= 0.8"}\n'
        '    - {to: failed, when: "review.score < 0.1"}\n'
        "    - {to: reviewing}\n"
    )
    relaxed = check_routing(spec, examples=100, runs=0)
    assert relaxed.ok
    assert [f.kind for f in relaxed.warnings] == ["unbounded"]
    strict = check_routing(spec, runs=0, strict=True)
    assert not strict.ok
    assert strict.errors[0].kind == "unbounded"


def test_run_level_property_reports_step_limit() -> None:
    """Fake agents scoring low forever drive an unbounded loop into the step limit."""
    spec = scoring(
        '    - {to: done, when: "len(review.issues) > 50"}\n'
        '    - {to: failed, when: "len(review.issues) == 49"}\n'
        "    - {to: reviewing}\n"
    )
    report = check_routing(spec, runs=20)
    (finding,) = [f for f in report.findings if f.kind == "run-invariant"]
    assert finding.severity == "warning"  # an error only under strict
    assert "step limit" in finding.message
    assert "recorded an error" not in finding.message
    strict = check_routing(spec, runs=20, strict=True)
    assert [f.severity for f in strict.findings if f.kind == "run-invariant"] == ["error"]


def test_report_json_and_reproducibility() -> None:
    """The JSON report is serialisable and the same seed gives the same report."""
    spec = scoring(
        '    - {to: done, when: "review.score > 0.8"}\n'
        '    - {to: failed, when: "review.score < 0.8"}\n'
    )
    first = check_routing(spec, runs=0, seed=7).to_json()
    second = check_routing(spec, runs=0, seed=7).to_json()
    first.pop("seconds"), second.pop("seconds")
    assert first == second
    assert json.loads(json.dumps(first))["ok"] is False


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_example_specs_pass_with_the_helper(path: Path) -> None:
    """The one-line helper passes on every example spec."""
    assert assert_routing_ok(path, examples=100, runs=5).ok


def test_helper_raises_with_the_report() -> None:
    """The helper's AssertionError carries the rendered counterexample."""
    spec = scoring(
        '    - {to: done, when: "review.score >= 0.8"}\n'
        '    - {to: failed, when: "review.score < 0.1"}\n'
    )
    with pytest.raises(AssertionError, match="no transition fires"):
        assert_routing_ok(spec, examples=100, runs=0)


@pytest.mark.parametrize(
    ("field", "guard"),
    [
        ("s: str", "len(s) > 3"),
        ("d: dict[str, int]", "len(d) > 2"),
        ("s: {type: str, min_len: 2, max_len: 9}", "len(s) == 4"),
        ("s: {type: str, pattern: '[ab]+'}", "len(s) > 3"),
    ],
)
def test_guards_counting_strings_and_dicts_are_checked(field: str, guard: str) -> None:
    """`len(x)` of a str or dict field, used only inside `len`, is drawn at the lengths the
    guard compares with (it used to assume a list and crash with an AssertionError)."""
    report = check_routing(plain(guard, f"  {field}"), examples=30, runs=0)
    assert report.ok, report.render()
    (point,) = report.points
    assert all(count > 0 for count in point.fired.values()), point


WIDE_INT = "  n: {type: int, min: -1000000000, max: 1000000000}"


@pytest.mark.parametrize(
    "guard", ["n - 100 == 7", "-n == 1234", "n * 3 == 2001", "n // 1000 == 77", "abs(n + 5) == 99"]
)
def test_a_guard_on_arithmetic_of_a_field_is_not_reported_dead(guard: str) -> None:
    """The guard holds only where the expression meets its literal (n = 107, -1234, ...):
    aiming n at the literal itself never fired it, so a sound spec was reported dead."""
    report = check_routing(plain(guard, WIDE_INT), examples=50, runs=0)
    assert report.ok, report.render()


@pytest.mark.parametrize(
    "guard",
    [
        "s.strip().lower() == 'approve'",
        "s.lower().startswith('approve')",
        "'approve' in s.upper().lower()",
        "s.strip().upper() in ['APPROVE', 'YES']",
    ],
)
def test_a_guard_on_chained_string_methods_is_not_reported_dead(guard: str) -> None:
    """`answer.strip().lower() == 'approve'` fires only for strings near the literal: the
    candidates must reach the field under the methods (it was reported dead, exit 1)."""
    report = check_routing(plain(guard, "  s: str"), examples=50, runs=0)
    assert report.ok, report.render()


def test_a_gap_under_a_case_method_is_found() -> None:
    """`s.startswith('A')` then `not s.lower().startswith('a')` leaves every string starting
    with a lowercase 'a' unrouted; only a candidate under `.lower()` shows it."""
    text = PLAIN.replace("{{to: c}}", "{{to: c, when: \"not s.lower().startswith('a')\"}}")
    text = text.format(context="  s: str", guard="s.startswith('A')")
    report = check_routing(checked_from_text(text, "gap.yaml"), examples=50, runs=0)
    (finding,) = report.findings
    assert finding.kind == "incomplete"
    assert finding.counterexample is not None
    assert str(finding.counterexample.context["s"]).startswith("a")


@pytest.mark.parametrize(
    "guard",
    [
        "s.startswith('https://') and len(s) > 12",
        "s.lower().endswith('.pdf') and len(s) > 4",
        "'urgent' in s.lower() and len(s) > 10",
        "s.isdigit() and len(s) == 5",
        "len(s.strip()) == 0 and len(s) > 2",
    ],
)
def test_a_guard_on_a_string_and_its_length_is_not_reported_dead(guard: str) -> None:
    """The literal's variants were all shorter than the length aimed at, and the strings of
    that length all 'a's, so no candidate met both conditions: reported dead, exit 1."""
    report = check_routing(plain(guard, "  s: str"), examples=50, runs=0)
    assert report.ok, report.render()


@pytest.mark.parametrize(
    "guard",
    ["d['k'] is not None and d['k'] > 0.5", "d['k'] is not None and d['k'] == 7 and len(d) == 1"],
)
def test_a_guard_on_a_dict_key_is_not_reported_dead(guard: str) -> None:
    """`d['k'] > 0.5` needs the key 'k' and a value past 0.5 together; drawn keys are never
    'k' and the present-key candidate held only the minimal value, so it was reported dead."""
    report = check_routing(plain(guard, "  d: dict[str, float]"), examples=50, runs=0)
    assert report.ok, report.render()


@pytest.mark.parametrize(
    ("field", "guard"),
    [
        ("d: dict[str, bool]", "d['k'] is not None and d['k']"),
        ("d: dict[str, Item]", "d['k'] is not None and d['k'].score > 0.5"),
    ],
)
def test_a_guard_on_a_dict_key_of_bools_or_records_is_not_reported_dead(
    field: str, guard: str
) -> None:
    """The present-key candidates held the simplest value only (False, a record scoring 0),
    so a guard needing True or a field past its literal was reported dead."""
    text = PLAIN.format(context=f"  {field}", guard=guard).replace(
        "context:", "contracts:\n  Item: {score: float}\ncontext:", 1
    )
    report = check_routing(checked_from_text(text, "dict.yaml"), examples=50, runs=0)
    assert report.ok, report.render()


def test_a_gap_at_a_dict_value_boundary_is_found() -> None:
    """`d['k'] > 0.5` then `d['k'] < 0.5` leaves exactly {'k': 0.5} unrouted."""
    first = "d['k'] is None or d['k'] > 0.5"
    second = "d['k'] is not None and d['k'] < 0.5"
    text = PLAIN.replace("{{to: c}}", f'{{{{to: c, when: "{second}"}}}}')
    text = text.format(context="  d: dict[str, float]", guard=first)
    report = check_routing(checked_from_text(text, "gap.yaml"), examples=50, runs=0)
    (finding,) = report.findings
    assert finding.kind == "incomplete"
    assert finding.counterexample is not None
    assert finding.counterexample.context["d"] == {"k": 0.5}


@pytest.mark.parametrize(
    ("first", "second", "gap"),
    [
        ("r.n + 7 > 10", "r.n + 7 < 10", 3),
        ("-r.n > 3", "-r.n < 3", -3),
        ("r.n / 3 > 2", "r.n / 3 < 2", 6),
    ],
)
def test_a_gap_behind_arithmetic_is_found(first: str, second: str, gap: int) -> None:
    """No transition fires where the expression equals the literal; that n is found."""
    transitions = f'    - {{to: done, when: "{first}"}}\n    - {{to: failed, when: "{second}"}}\n'
    text = SCORING_INT.replace("{transitions}", transitions)
    report = check_routing(checked_from_text(text, "gap.yaml"), examples=50, runs=0)
    (finding,) = report.findings
    assert finding.kind == "incomplete"
    assert finding.counterexample is not None
    assert finding.counterexample.context == {"r": {"n": gap}}


SCORING_INT = """
workflow: arith
max_steps: 20
contracts:
  R: {n: {type: int, min: -1000000000, max: 1000000000}}
context:
  r: R?
agents:
  a: {input: [], output: R}
states:
  s: {agent: a, writes: r}
  done: {final: true}
  failed: {final: true}
initial: s
transitions:
  s:
{transitions}
"""


OVERFLOWING = " * ".join(["9007199254740992"] * 20) + " + 0.5 > 1"


@pytest.mark.parametrize("bounded", [False, True])
def test_an_int_past_float_range_meeting_a_float_is_found(bounded: bool) -> None:
    """`n / 2 > f` raises OverflowError at run time for a contract-valid 400-digit n: the
    check tries such values for ints used in arithmetic, unless bounds rule them out."""
    kind = "{type: int, min: -1000000, max: 1000000}" if bounded else "int"
    field = f"  n: {kind}\n  f: float"
    report = check_routing(plain("n / 2 > f", field), examples=30, runs=0)
    errors = [f for f in report.findings if f.kind == "guard-error"]
    if bounded:
        assert report.ok, report.render()
    else:
        (finding,) = errors
        assert "OverflowError" in finding.message
        assert finding.hint is not None
        assert "`min` and `max`" in finding.hint


def test_a_guard_raising_is_a_finding_at_the_guard_not_a_traceback() -> None:
    """The product overflows a float on every context: routing reports it once, at the guard,
    and the whole runs (whose router raised the OverflowError straight through) do not crash."""
    spec = plain(OVERFLOWING)
    report = check_routing(spec, examples=20, runs=3)
    (finding,) = [f for f in report.findings if f.kind == "guard-error"]
    assert finding.severity == "error"
    assert "OverflowError: int too large to convert to float" in finding.message
    transition = spec.outgoing("a")[0].definition
    assert finding.span == transition.guard_span
    assert finding.hint is not None
    assert "is not None" in finding.hint


def test_a_guard_raising_only_in_runs_is_reported_with_its_path() -> None:
    """A guard that holds on every routing case but raises in a run (a context the flow
    analysis narrowed wrongly, say) is a guard-error finding from the run-level check."""
    spec = plain("n > 0")
    (transition, default) = spec.outgoing("a")

    def raising(context: object, steps: int, visits: object) -> bool:
        raise AttributeError("'NoneType' object has no attribute 'startswith'")

    broken = attrs.evolve(transition, guard_fn=raising)
    spec = attrs.evolve(spec, transitions={"a": (broken, default)})
    findings, ran = check_runs(spec, runs=3, seed=0)
    (finding,) = findings
    assert ran >= 1
    assert (finding.kind, finding.severity) == ("guard-error", "error")
    assert finding.span == transition.definition.guard_span
    assert "in state 'a' raised during a run with fake agents: AttributeError" in finding.message
    assert finding.message.endswith("path: a")


def test_anything_else_escaping_a_run_is_a_finding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not only guards: whatever the runtime lets through ends as a run-invariant finding."""

    def explode(self: RunHandle) -> RunHandle:
        raise RuntimeError("boom")

    monkeypatch.setattr(RunHandle, "advance", explode)
    findings, _ = check_runs(plain("n > 0"), runs=2, seed=0)
    (finding,) = findings
    assert (finding.kind, finding.severity) == ("run-invariant", "error")
    assert "RuntimeError: boom" in finding.message


def test_long_values_are_drawn_cheaply() -> None:
    """Fields that must be long (1,000 items, 50,000 characters, a 200-character pattern) are
    drawn in well under a second each: hypothesis used to grind for a minute over them, then
    give up with an Unsatisfiable traceback."""
    context = (
        "  xs: {type: 'list[int]', min_len: 1000}\n"
        "  d: {type: 'dict[str, int]', min_len: 1000}\n"
        "  s: {type: str, min_len: 50000}\n"
        "  p: {type: str, pattern: '[ab]{200}'}\n"
        "  n: int"
    )
    guard = (
        "n > 2 and xs[0] is not None and xs[0] > 3 and d['k'] is not None"
        " and s.startswith('a') and p.startswith('ab')"
    )
    spec = plain(guard, context)
    started = time.perf_counter()
    report = check_routing(spec, examples=20, runs=2)
    assert time.perf_counter() - started < 20
    assert report.points[0].examples >= 20  # the random examples, then the boundary grid
    assert report.runs == 2

    @settings(max_examples=10, deadline=None, database=None)
    @given(contexts(spec, "a", boundaries=False))
    def drawn(case: RoutingCase) -> None:
        assert not check_value(dict(case.context), spec.context_type, "context")
        assert len(case.context["xs"]) >= 1000  # type: ignore[arg-type]

    drawn()


def test_huge_length_literals_are_not_built() -> None:
    """`len(xs) > 100000000` used to build lists of a hundred million items to aim at the
    boundary (gigabytes, no progress); now the guard is simply reported as never firing."""
    started = time.perf_counter()
    report = check_routing(plain("len(xs) > 100000000", "  xs: list[int]"), examples=20, runs=2)
    assert time.perf_counter() - started < 20
    assert "shadowed" in report.kinds()


@pytest.mark.parametrize("path", SPECS, ids=lambda path: path.stem)
def test_runs_reports_the_runs_it_drove_to_their_end(path: Path) -> None:
    """`--runs N` drives N runs: examples hypothesis abandons when their data runs out are
    not counted (the shipped specs reported 31 to 37 for 30 before)."""
    findings, ran = check_runs(load_checked(path), runs=30, seed=0)
    assert findings == []
    assert ran == 30


def test_a_step_limit_walk_over_budget_is_reported_as_undecided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the walk gives up, the check says the question was not decided (a warning; an
    error under --strict) rather than running on or claiming an answer."""

    def small_budget(*args: object) -> object:
        return termination.run_to_step_limit(*args, budget=1)  # type: ignore[arg-type]

    monkeypatch.setattr(routing, "run_to_step_limit", small_budget)
    report = check_routing(scoring(), examples=10, runs=0)
    (finding,) = [f for f in report.findings if f.kind == "unbounded"]
    assert finding.severity == "warning"
    assert "was not decided: the search gave up after 1 combinations" in finding.message
    strict = check_routing(scoring(), examples=10, runs=0, strict=True)
    assert not strict.ok


FIVE_ENUMS = """
workflow: g4
max_steps: 10
context:
{fields}
states:
  start: {{}}
  rare: {{final: true}}
  usual: {{final: true}}
initial: start
transitions:
  start:
    - {{to: rare, when: "{guard}"}}
    - {{to: usual}}
"""


def _five_enums(guard: str) -> str:
    fields = "\n".join(f"  {name}: {{enum: [m1, m2, m3, m4, m5, m6]}}" for name in "abcde")
    return FIVE_ENUMS.format(fields=fields, guard=guard)


def test_a_region_where_every_field_is_at_its_edge_is_found_whatever_the_seed() -> None:
    """6**5 combinations are sampled, not swept; the one where all five fields hold m6 is
    among the first tried (it used to be reported dead for some seeds)."""
    rare = " and ".join(f"{name} not in ['m1','m2','m3','m4','m5']" for name in "abcde")
    spec = checked_from_text(_five_enums(rare), "g4.yaml")
    for seed in range(4):
        report = check_routing(spec, examples=50, runs=0, seed=seed)
        assert report.ok, report.render()
        (point,) = report.points
        assert point.sampled


def test_a_dead_guard_on_a_sampled_grid_says_it_is_a_search_result() -> None:
    impossible = "a == 'm1' and a == 'm2' and b != 'm1' and c != 'm1' and d != 'm1' and e != 'm1'"
    report = check_routing(checked_from_text(_five_enums(impossible), "g4.yaml"), runs=0)
    (finding,) = [f for f in report.findings if f.kind == "shadowed"]
    assert "is dead" in finding.message
    assert "were tried: a search result, not a proof" in finding.message
    assert "too large to sweep whole, sampled" in report.render()


GAP = """
workflow: gap
max_steps: 10
context:
  cat: {enum: [x, y, z, w]}
states:
  start: {}
  a: {final: true}
  b: {final: true}
initial: start
transitions:
  start:
    - {to: a, when: "cat == 'x'"}
    - {to: b, when: "cat in ['y', 'z']"}
"""


def test_a_gap_the_runs_also_meet_is_reported_once() -> None:
    """The routing cases report the gap at the state; a run failing there for the same reason
    adds nothing (it used to add a second error spanning the whole file)."""
    report = check_routing(checked_from_text(GAP, "gap.yaml"), examples=50, runs=30)
    assert [f.kind for f in report.findings] == ["incomplete"]


EVENT_GAP = """
workflow: desk
max_steps: 50
contracts:
  D: {n: {type: int, min: 0, max: 10}}
context:
  d: D?
states:
  open: {wait: {go: {data: D, writes: d}}}
  high: {final: true}
  low: {final: true}
initial: open
transitions:
  open:
    - {on: go, to: high, when: "d.n > 5"}
    - {on: go, to: low, when: "d.n < 5"}
"""


def test_a_gap_on_an_event_the_runs_also_meet_is_reported_once() -> None:
    """A run whose event no transition takes is refused (not recorded); that is the gap the
    routing cases report on the event, not a second error spanning the whole file."""
    report = check_routing(checked_from_text(EVENT_GAP, "desk.yaml"), examples=50, runs=30)
    assert [(f.kind, f.event) for f in report.findings] == [("incomplete", "go")]


EVENT_LOOP = """
workflow: desk
max_steps: 50
context: {n: int}
states:
  open: {wait: {reply: null, close: null}}
  closed: {final: true}
initial: open
transitions:
  open:
    - {on: reply, to: open}
    - {on: close, to: closed}
"""


def test_an_unbounded_event_loop_names_its_event() -> None:
    """The cycle's first transition is an event's: the finding says which (JSON included)."""
    report = check_routing(checked_from_text(EVENT_LOOP, "desk.yaml"), examples=10, runs=0)
    (finding,) = [f for f in report.findings if f.kind == "unbounded"]
    assert (finding.state, finding.event) == ("open", "reply")
    assert finding.to_json()["event"] == "reply"


def test_a_cycle_search_over_budget_is_reported_as_undecided(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The cycle search gives up honestly: a warning that says so, not a verdict."""

    def small_budget(edges: object) -> object:
        return termination.find_unbounded_cycles(edges, budget=0)  # type: ignore[arg-type]

    monkeypatch.setattr(routing, "find_unbounded_cycles", small_budget)
    report = check_routing(scoring(), examples=10, runs=0)
    (finding,) = [f for f in report.findings if f.kind == "unbounded"]
    assert finding.severity == "warning"
    assert "whether every cycle is bounded was not decided" in finding.message


SIZED = """
workflow: sized
contracts:
  Commit: {sha: {type: str, min_len: 40, max_len: 40, pattern: "[0-9a-f]+"}}
context:
  commit: Commit
states:
  start: {}
  zero: {final: true}
  other: {final: true}
initial: start
transitions:
  start:
    - {to: zero, when: "commit.sha.startswith('0')"}
    - {to: other}
"""


def test_a_pattern_with_a_far_length_is_drawn_at_that_length() -> None:
    """`[0-9a-f]+` of exactly 40 characters (a hash): hypothesis' own matches are short and
    filtering them by length finds none; the sized strategy builds them at that length, so
    both routes are reached."""
    report = check_routing(checked_from_text(SIZED, "sized.yaml"), examples=60, runs=0)
    assert report.ok, report.findings


UNDRAWABLE = """
workflow: undrawable
contracts:
  Commit: {sha: {type: str, min_len: 300, max_len: 300, pattern: "(?:0|ab)+"}}
context:
  commit: Commit
states:
  start: {}
  short: {final: true}
  other: {final: true}
initial: start
transitions:
  start:
    - {to: short, when: "commit.sha.startswith('0')"}
    - {to: other}
"""


def test_values_the_search_cannot_draw_are_an_error_naming_the_suspect_field() -> None:
    """A pattern of another shape (a group, a choice) is still drawn unsized and filtered by
    length; when hypothesis gives up, an FsmError (printed without a traceback) names the
    field and the rewrite."""
    checked = checked_from_text(UNDRAWABLE, "undrawable.yaml")
    with pytest.raises(FsmError) as caught:
        check_routing(checked, examples=20, runs=0)
    message = str(caught.value)
    assert message.startswith("fsm check could not draw values that meet the contracts of")
    assert "likely Commit.sha, whose pattern" in message


@pytest.mark.parametrize(("options", "message"), [
    ({"examples": 0}, "examples must be an integer of at least 1; got 0"),
    ({"examples": -3}, "examples must be an integer of at least 1; got -3"),
    ({"runs": -1}, "runs must be an integer of at least 0; got -1"),
])  # fmt: skip
def test_check_routing_refuses_counts_it_cannot_honour(
    options: dict[str, int], message: str
) -> None:
    """`examples=0` ran one example, silently."""
    spec = load_checked(str(Path(__file__).parents[2] / "specs" / "content_pipeline.yaml"))
    with pytest.raises(ValueError, match=message):
        check_routing(spec, **options)


def test_a_long_trail_counts_the_states_it_leaves_out() -> None:
    """The elided middle of a run's trail is counted in states, not states plus events."""
    trail = tuple(
        item for n in range(20) for item in (f"--e{n}-->" if n % 2 else "", f"s{n}") if item
    )
    text = _compress(trail, keep=4)
    left_out = trail[4:-4]
    states = [item for item in left_out if not item.startswith("--")]
    assert f"... ({len(states)} more states) ..." in text
    assert len(states) < len(left_out)
