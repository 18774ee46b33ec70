"""Edges of contract checking at run time found by review: what an agent, an event or a start
input may hand the runtime, and what the caller may do with what the runtime hands back."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest

from fsm.datatypes import FLOAT, INT, STR, Constraints, DictType
from fsm.errors import ContractError, ContractProblem
from fsm.runtime import AgentCall, Workflow
from fsm.runtime.merge import compute_merge
from fsm.spec.validate import checked_from_text
from fsm.store import MemoryStore, SqliteStore, Store
from fsm.values import check_value
from tests.runtime.specs import gated

TEXT_YAML = """
workflow: text
contracts:
  Out: {title: str, tags: list[str], counts: 'dict[str, int]'}
context:
  note: {type: str, default: ""}
  out: Out?
agents:
  writer: {input: {note: note}, output: Out, retry: {attempts: 2, backoff: 0}}
states:
  writing: {agent: writer, writes: {out: .}, on_error: broken}
  done: {final: true}
  broken: {final: true}
initial: writing
transitions:
  writing: [{to: done}]
"""
TEXT = checked_from_text(TEXT_YAML, "text.yaml")

# ``json.loads`` of a model's reply cut in the middle of an emoji: half a surrogate pair.
CUT = json.loads('"cut \\ud83d"')


@pytest.mark.parametrize(
    "output",
    [
        {"title": CUT, "tags": [], "counts": {}},
        {"title": "t", "tags": ["a", CUT], "counts": {}},
        {"title": "t", "tags": [], "counts": {CUT: 1}},
    ],
)
def test_a_lone_surrogate_in_an_output_is_a_failed_attempt(
    store: Store, output: dict[str, Any]
) -> None:
    """Text no store can encode breaks the contract: retried, then the on_error route, with
    the field named. It used to pass validation and fail the store's append with a
    StoreError, leaving the run stuck repeating the same step on every resume."""
    attempts: list[int] = []

    def writer(inputs: Any, call: AgentCall) -> dict[str, Any]:
        attempts.append(call.attempt)
        return output

    workflow = Workflow.from_spec(TEXT, agents={"writer": writer}, store=store)
    run = workflow.start({})
    assert (run.status, run.state, attempts) == ("completed", "broken", [1, 2])
    assert run.context_json == {"note": "", "out": None}
    failure = workflow.history(run.run_id)[-1]
    assert failure.changes == {}
    assert failure.error is not None
    assert "agent 'writer' failed (attempt 2 of 2)" in failure.error
    assert "(valid Unicode: no lone surrogates)" in failure.error


def test_a_lone_surrogate_in_a_start_input_is_a_contract_error(store: Store) -> None:
    workflow = Workflow.from_spec(TEXT, agents={"writer": lambda inputs, call: {}}, store=store)
    with pytest.raises(ContractError, match=r"input\.note: expected str \(valid Unicode"):
        workflow.start({"note": CUT})
    assert store.list_runs() == []


def test_check_value_names_a_lone_surrogate_in_a_dict_key() -> None:
    (problem,) = check_value({"ok": 1, CUT: 2}, DictType(INT), "counts")
    assert problem.expected == "string keys (valid Unicode: no lone surrogates)"


def test_a_string_too_long_is_never_matched_against_its_pattern() -> None:
    """``max_len`` bounds a pattern's time: a value over it is refused by its length alone (one
    problem), before ``re.fullmatch`` could backtrack on it. This pattern takes seconds on
    2,000 characters that do not match; here the check is instant."""
    slow = Constraints(max_len=20, pattern=r"\w+\s*\w+\s*\w+\s*\w+!")
    started = time.perf_counter()
    (problem,) = check_value("a" * 2_000, STR, "title", slow)
    assert time.perf_counter() - started < 0.5
    assert problem.expected.startswith("str with length <= 20 matching")


NOTES = checked_from_text(
    """
workflow: notes
max_steps: 10
contracts:
  Note: {text: str, tags: list[str]}
context:
  last: Note?
  notes: {type: list[Note], merge: append}
agents:
  noter: {input: {notes: notes}, output: Note}
states:
  noting: {agent: noter, writes: {last: ., notes: .}}
  done: {final: true}
initial: noting
transitions:
  noting:
    - {to: done, when: "len(notes) >= 2"}
    - {to: noting}
""",
    "notes.yaml",
)


def test_changing_a_returned_or_notified_snapshot_changes_nothing_in_the_run(
    store: Store,
) -> None:
    """A snapshot's changes, appended items and output are the caller's: redacting them in an
    ``on_transition`` logger, or editing what ``step()`` returns, used to edit the live run's
    context too (the handle and the next agent's input then differed from the store)."""
    seen: list[list[str]] = []

    def noter(inputs: Any, call: AgentCall) -> dict[str, Any]:
        seen.append([note.text for note in inputs.notes])
        return {"text": f"note {call.seq}", "tags": ["t"]}

    def redact(snapshot: Any) -> None:
        if snapshot.seq > 0:
            snapshot.output["text"] = "[redacted]"
            snapshot.changes["last"]["tags"].append("x")
            snapshot.appended["notes"][0]["tags"].clear()

    workflow = Workflow.from_spec(NOTES, agents={"noter": noter}, store=store, on_transition=redact)
    run = workflow.start({}, detach=True)
    first = run.step()
    assert first is not None
    first.changes["last"]["text"] = "edited by the caller"
    run.advance()
    expected = {
        "last": {"text": "note 2", "tags": ["t"]},
        "notes": [{"text": "note 1", "tags": ["t"]}, {"text": "note 2", "tags": ["t"]}],
    }
    assert seen == [[], ["note 1"]]
    assert run.context_json == expected
    assert workflow.run(run.run_id).context_json == expected


def test_a_returned_or_notified_snapshot_carries_no_frame_of_the_live_run(
    tmp_path: Path,
) -> None:
    """A snapshot on a frame seq is handed out without its frame: the frame's records and
    list items are the live run's own, so redacting them in ``on_transition`` edited the
    handle, the next agent's input and every frame stored after it. The store still gets the
    frame, exact."""
    seen: list[list[str]] = []
    notified: list[object] = []

    def noter(inputs: Any, call: AgentCall) -> dict[str, Any]:
        seen.append([note.text for note in inputs.notes])
        return {"text": f"note {call.seq}", "tags": ["t"]}

    for store in (MemoryStore(frame_interval=2), SqliteStore(tmp_path / "f.db", frame_interval=2)):
        seen.clear()
        notified.clear()
        workflow = Workflow.from_spec(
            NOTES, agents={"noter": noter}, store=store, on_transition=notified.append
        )
        run = workflow.start({}, detach=True)
        run.step()
        framed = run.step()
        assert framed is not None
        assert framed.seq == 2
        assert framed.frame is None
        assert [s.seq for s in notified if s.frame is not None] == [0]  # type: ignore[attr-defined]
        expected = {
            "last": {"text": "note 2", "tags": ["t"]},
            "notes": [{"text": "note 1", "tags": ["t"]}, {"text": "note 2", "tags": ["t"]}],
        }
        assert seen == [[], ["note 1"]]
        assert run.context_json == expected
        assert workflow.run(run.run_id).context_json == expected
        stored = workflow.history(run.run_id)[2].frame
        assert stored is not None
        assert stored["context"] == expected
        store.close()


def _counting(inputs: Any, call: AgentCall) -> dict[str, Any]:
    return {"n": inputs.n + 1, "tag": "t"}


def test_an_event_takes_an_instance_of_its_contract_class(store: Store) -> None:
    """Agents may return instances; so may the caller of ``send``. It used to be refused with
    "expected a Ack object, got Ack(by='boss')"."""
    workflow = Workflow.from_spec(gated(), agents={"worker": _counting}, store=store)
    run = workflow.start({})
    assert run.status == "waiting"
    ack = workflow.compiled.converter.classes.get("Ack")
    run.send("go", ack(by="boss"))
    assert (run.status, run.state) == ("completed", "done")
    assert workflow.run(run.run_id).context_json["ack"] == {"by": "boss"}


def test_an_event_refuses_an_instance_of_another_class_by_name(store: Store) -> None:
    workflow = Workflow.from_spec(gated(), agents={"worker": _counting}, store=store)
    run = workflow.start({})
    step = workflow.compiled.converter.classes.get("Step")
    with pytest.raises(ContractError, match=r"go: expected an instance of Ack .* of Step"):
        run.send("go", step(n=1, tag="x"))
    assert (run.status, run.seq) == ("waiting", workflow.run(run.run_id).seq)


def test_a_start_input_takes_instances_of_contract_classes(store: Store) -> None:
    """As agents and events may: it used to be refused as "expected a Note object, got
    Note(...)"; a wrong instance is still refused, naming both classes."""
    workflow = Workflow.from_spec(NOTES, agents={"noter": lambda inputs, call: {}}, store=store)
    note = workflow.compiled.converter.classes.get("Note")
    run = workflow.start({"last": note(text="given", tags=["a"])}, detach=True)
    assert run.context_json == {"last": {"text": "given", "tags": ["a"]}, "notes": []}
    with pytest.raises(ContractError, match=r"input\.last\.tags\[0\]: expected str, got 1"):
        workflow.start({"last": note(text="given", tags=[1])}, detach=True)


class _Unprintable(str):
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_a_wrong_value_whose_repr_raises_is_still_reported_by_field(store: Store) -> None:
    """The failure names the field and the rule; it used to be only "RuntimeError: no repr"."""
    output = {"title": "t", "tags": [], "counts": {"a": _Unprintable("x")}}
    workflow = Workflow.from_spec(TEXT, agents={"writer": lambda inputs, call: output}, store=store)
    run = workflow.start({})
    assert run.state == "broken"
    error = workflow.history(run.run_id)[-1].error
    assert error is not None
    assert "writer.counts['a']: expected int, got <_Unprintable object; its repr raised" in error


class _ShortStr(str):
    def __len__(self) -> int:
        return 1

    def isascii(self) -> bool:
        return True


class _ShortList(list[str]):
    def __len__(self) -> int:
        return 0


class _EmptyDict(dict[str, int]):
    def __len__(self) -> int:
        return 0


BOUNDED = checked_from_text(
    """
workflow: bounded
contracts:
  Out:
    title: {type: str, max_len: 3}
    tags: {type: list[str], max_len: 1}
    counts: {type: 'dict[str, int]', max_len: 1}
context:
  out: Out?
agents:
  writer: {input: {}, output: Out}
states:
  writing: {agent: writer, writes: {out: .}, on_error: broken}
  done: {final: true}
  broken: {final: true}
initial: writing
transitions:
  writing: [{to: done}]
""",
    "bounded.yaml",
)


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ({"title": _ShortStr("too long"), "tags": [], "counts": {}}, "writer.title"),
        ({"title": _ShortStr("a\ud800"), "tags": [], "counts": {}}, "writer.title"),
        ({"title": "t", "tags": _ShortList(["a", "b", "c"]), "counts": {}}, "writer.tags"),
        ({"title": "t", "tags": [], "counts": _EmptyDict(a=1, b=2)}, "writer.counts"),
    ],
)
def test_a_subclass_cannot_talk_its_way_past_a_bound(
    store: Store, output: dict[str, Any], problem: str
) -> None:
    """Lengths (and text) are measured on what the value converts to, not on what its own
    ``__len__``/``isascii`` say: such values used to enter the context past ``max_len``."""
    workflow = Workflow.from_spec(
        BOUNDED, agents={"writer": lambda inputs, call: output}, store=store
    )
    run = workflow.start({})
    assert (run.state, run.context_json) == ("broken", {"out": None})
    error = workflow.history(run.run_id)[-1].error
    assert error is not None
    assert f"{problem}: expected" in error


ZEROS = checked_from_text(
    """
workflow: zeros
max_steps: 5
contracts:
  Out: {fs: list[float], by: 'dict[str, float]', n: int}
context:
  fs: list[float]
  by: 'dict[str, float]'
  n: {type: int, default: 0}
  o: Out?
agents:
  a: {input: {}, output: Out}
states:
  s: {agent: a, writes: {fs: fs, by: by, n: n, o: .}}
  done: {final: true}
initial: s
transitions:
  s:
    - {to: done, when: "n >= 2"}
    - {to: s}
""",
    "zeros.yaml",
)


def test_negative_zero_inside_a_list_or_dict_is_a_change(store: Store) -> None:
    """As at the top level (docs/runtime.md): [-0.0] over [0.0] is merged and recorded; it
    used to be dropped as unchanged, so the context kept [0.0]."""

    def agent(inputs: Any, call: AgentCall) -> dict[str, Any]:
        zero = 0.0 if call.seq == 1 else -0.0
        return {"fs": [1.0, zero], "by": {"k": zero}, "n": call.seq}

    workflow = Workflow.from_spec(ZEROS, agents={"a": agent}, store=store)
    run = workflow.start({})
    out = "{'fs': [1.0, -0.0], 'by': {'k': -0.0}, 'n': 2}"
    expected = out[:-1] + f", 'o': {out}}}"
    assert str(run.context_json) == expected
    assert str(workflow.run(run.run_id).context_json) == expected
    assert set(workflow.history(run.run_id)[2].changes) == {"fs", "by", "n", "o"}


def test_an_async_agent_returning_after_its_timeout_cancelled_it_has_failed(store: Store) -> None:
    """An agent that catches the cancellation and returns (say, a partial answer) is past its
    timeout all the same: the attempt fails, as a late sync agent's does. Its late output
    used to be merged as a success."""
    spec = checked_from_text(
        TEXT_YAML.replace("backoff: 0}", "backoff: 0}, timeout: 0.05"), "late.yaml"
    )

    async def writer(inputs: Any, call: AgentCall) -> dict[str, Any]:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            return {"title": "partial", "tags": [], "counts": {}}
        return {"title": "full", "tags": [], "counts": {}}

    workflow = Workflow.from_spec(spec, agents={"writer": writer}, store=store)
    run = workflow.start({})
    assert (run.state, run.context_json["out"]) == ("broken", None)
    error = workflow.history(run.run_id)[-1].error
    assert error == "agent 'writer' failed (attempt 2 of 2): no result within its timeout of 0.05 s"


@pytest.mark.parametrize("n", [10**4300, -(10**4300)], ids=["big", "negative"])
def test_an_int_too_long_for_json_is_a_failed_attempt(store: Store, n: int) -> None:
    """4,301 digits: Python refuses to write it as text, so the store could not; it used to
    pass the contract and fail the append with a StoreError, the run stuck on the step."""
    output = {"fs": [], "by": {}, "n": n}
    workflow = Workflow.from_spec(ZEROS, agents={"a": lambda inputs, call: output}, store=store)
    run = workflow.start({})
    assert (run.status, run.context_json["n"]) == ("failed", 0)
    error = workflow.history(run.run_id)[-1].error
    assert error is not None
    assert "a.n: expected int (at most 4,300 digits), got <int object" in error


def test_an_int_of_4300_digits_is_stored(store: Store) -> None:
    output = {"fs": [], "by": {}, "n": 10**4300 - 1}
    workflow = Workflow.from_spec(ZEROS, agents={"a": lambda inputs, call: output}, store=store)
    run = workflow.start({})
    assert workflow.run(run.run_id).context_json["n"] == 10**4300 - 1


class _UnreadableError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no message")


def _raises(failure: Exception) -> Any:
    def agent(inputs: Any, call: AgentCall) -> dict[str, Any]:
        raise failure

    return agent


@pytest.mark.parametrize(
    ("agent", "recorded"),
    [
        (_raises(ValueError(f"cannot parse {CUT!r}: {CUT}")), "ValueError: cannot parse"),
        (_raises(_UnreadableError()), "<its message could not be read: RuntimeError>"),
        (lambda inputs, call: {"title": "t", "tags": [], "counts": {}, CUT: 1}, "writer.cut"),
    ],
    ids=["message-with-surrogate", "str-raises", "unknown-field-with-surrogate"],
)
def test_a_failure_is_recorded_whatever_its_message(
    store: Store, agent: Any, recorded: str
) -> None:
    """The failed attempt is recorded and the on_error route taken. An exception quoting a
    cut-off model reply used to fail the store's append (StoreError, run stuck on the step),
    and one whose __str__ raised escaped from step() itself."""
    workflow = Workflow.from_spec(TEXT, agents={"writer": agent}, store=store)
    run = workflow.start({})
    assert (run.state, run.context_json["out"]) == ("broken", None)
    error = workflow.history(run.run_id)[-1].error
    assert error is not None
    assert recorded in error


def test_negative_zero_inside_a_record_is_a_change() -> None:
    workflow = Workflow.from_spec(ZEROS, agents={"a": lambda inputs, call: {}}, store=MemoryStore())
    plans = workflow.compiled.state_writes["s"]
    before = {"fs": [0.0], "by": {}, "n": 1}
    after = {"fs": [-0.0], "by": {}, "n": 1}
    context = {"fs": [0.0], "by": {}, "n": 1, "o": before}
    instance, output = workflow.compiled.agent_plans["s"].validate(after)
    assert set(compute_merge(plans, output, instance, context).changes) == {"fs", "o"}
    same, output = workflow.compiled.agent_plans["s"].validate(before)
    assert compute_merge(plans, output, same, context).changes == {}


class _SaysNinetyNineInt(int):
    def __int__(self) -> int:
        return 99

    def __float__(self) -> float:
        return 99.0


class _SaysNinetyNineFloat(float):
    def __float__(self) -> float:
        return 99.0


NUMBERS = checked_from_text(
    """
workflow: numbers
contracts:
  Out: {i: {type: int, max: 10}, f: {type: float, max: 1}}
context:
  out: Out?
agents:
  a: {input: {}, output: Out}
states:
  s: {agent: a, writes: {out: .}}
  done: {final: true}
initial: s
transitions:
  s: [{to: done}]
""",
    "numbers.yaml",
)


@pytest.mark.parametrize(
    "output",
    [
        {"i": _SaysNinetyNineInt(1), "f": 0.5},
        {"i": 1, "f": _SaysNinetyNineFloat(0.5)},
        {"i": 1, "f": _SaysNinetyNineInt(1)},
    ],
    ids=["int", "float", "int-in-float"],
)
def test_a_number_is_stored_as_the_value_that_was_checked(
    store: Store, output: dict[str, Any]
) -> None:
    """A subclass's own __int__/__float__ is not asked: 99 used to be stored past `max`."""
    workflow = Workflow.from_spec(NUMBERS, agents={"a": lambda inputs, call: output}, store=store)
    run = workflow.start({})
    stored = workflow.run(run.run_id).context_json["out"]
    expected = {"i": 1, "f": 1.0 if type(output["f"]) is _SaysNinetyNineInt else 0.5}
    assert stored == run.context_json["out"] == expected


class _ComparesAsOneInt(int):
    """Holds 99 (what converting it gives), compares as 1."""

    def __lt__(self, other: float) -> bool:
        return other > 1

    def __le__(self, other: float) -> bool:
        return other >= 1

    def __gt__(self, other: float) -> bool:
        return other < 1

    def __ge__(self, other: float) -> bool:
        return other <= 1


class _ComparesAsHalfFloat(float):
    """Holds 5.0, compares as 0.5."""

    def __lt__(self, other: float) -> bool:
        return other > 0.5

    def __le__(self, other: float) -> bool:
        return other >= 0.5

    def __gt__(self, other: float) -> bool:
        return other < 0.5

    def __ge__(self, other: float) -> bool:
        return other <= 0.5


@pytest.mark.parametrize(
    ("output", "problem"),
    [
        ({"i": _ComparesAsOneInt(99), "f": 0.5}, "a.i: expected int <= 10, got 99"),
        ({"i": 1, "f": _ComparesAsHalfFloat(5.0)}, "a.f: expected float <= 1, got 5.0"),
        ({"i": 1, "f": _ComparesAsOneInt(5)}, "a.f: expected float <= 1, got 5"),
    ],
    ids=["int", "float", "int-in-float"],
)
def test_a_number_is_bounded_by_the_value_that_is_stored(
    store: Store, output: dict[str, Any], problem: str
) -> None:
    """Bounds compare the builtin number the value converts to, never with the subclass's own
    comparisons: 99 (and 5.0) used to be stored past `max` by numbers comparing as 1."""
    workflow = Workflow.from_spec(NUMBERS, agents={"a": lambda inputs, call: output}, store=store)
    run = workflow.start({})
    assert (run.status, run.state, run.context_json) == ("failed", "s", {"out": None})
    assert run.error is not None
    assert problem in run.error
    assert check_value(output["f"], FLOAT, "f", Constraints(maximum=1)) == (
        [] if output["f"] == 0.5 else [ContractProblem("f", "float <= 1", repr(output["f"]))]
    )


CONSTRAINED = checked_from_text(
    """
workflow: constrained
contracts:
  Out: {raw: float, tags: list[str], name: str}
context:
  score: {type: float, min: 0, max: 1, default: 0.5}
  log: {type: list[str], merge: append, max_len: 2}
  name: {type: str?, pattern: '[a-z]+'}
agents:
  a: {input: {}, output: Out, retry: {attempts: 2, backoff: 0}}
states:
  s: {agent: a, writes: {score: raw, log: tags, name: name}, on_error: broken}
  gate: {wait: {go: {data: Out, writes: {score: raw, log: tags}}}}
  done: {final: true}
  broken: {final: true}
initial: s
transitions:
  s: [{to: gate}]
  gate: [{on: go, to: done}]
""",
    "constrained.yaml",
)
BAD_FOR_CONTEXT = {"raw": 7.0, "tags": ["x", "y", "z"], "name": "BAD NAME"}


def test_an_output_breaking_a_context_fields_constraints_is_a_failed_attempt(
    store: Store,
) -> None:
    """The output's contract allows a float, a list of any length and any text; the fields it
    is written to do not. Such an output used to be merged and stored, and the run could not
    be opened again (its stored context broke the Context contract)."""
    outputs = iter([BAD_FOR_CONTEXT, {"raw": 0.25, "tags": ["x"], "name": "ok"}])
    workflow = Workflow.from_spec(
        CONSTRAINED, agents={"a": lambda i, c: next(outputs)}, store=store
    )
    run = workflow.start({})
    assert (run.status, run.state) == ("waiting", "gate")
    assert run.context_json == {"score": 0.25, "log": ["x"], "name": "ok"}
    assert workflow.run(run.run_id).context_json == run.context_json
    assert workflow.history(run.run_id)[-1].attempt == 2

    failing = Workflow.from_spec(
        CONSTRAINED, agents={"a": lambda i, c: BAD_FOR_CONTEXT}, store=store
    ).start({})
    assert (failing.status, failing.state) == ("completed", "broken")
    assert failing.context_json == {"score": 0.5, "log": [], "name": None}
    error = workflow.history(failing.run_id)[-1].error
    assert error is not None
    assert "context.score: expected float >= 0 <= 1, got 7.0" in error
    assert "context.log: expected list[str] with length <= 2" in error
    assert "context.name: expected str matching '[a-z]+'" in error
    assert workflow.run(failing.run_id).context_json == failing.context_json


def test_event_data_breaking_a_context_fields_constraints_is_refused(store: Store) -> None:
    workflow = Workflow.from_spec(
        CONSTRAINED,
        agents={"a": lambda i, c: {"raw": 0.25, "tags": ["x"], "name": "ok"}},
        store=store,
    )
    run = workflow.start({})
    seq = run.seq
    with pytest.raises(ContractError, match=r"context\.log: expected list\[str\] with length <= 2"):
        run.send("go", {"raw": 0.5, "tags": ["p", "q"], "name": "n"})
    with pytest.raises(ContractError, match=r"context\.score: expected float >= 0 <= 1"):
        run.send("go", {"raw": -1.0, "tags": [], "name": "n"})
    assert (run.status, run.seq, workflow.run(run.run_id).seq) == ("waiting", seq, seq)
    run.send("go", {"raw": 1.0, "tags": ["p"], "name": "n"})
    assert workflow.run(run.run_id).context_json == {"score": 1.0, "log": ["x", "p"], "name": "ok"}


class _Shifting(list[object]):
    """Gives its items once, then others: what converting it reads after the check."""

    def __init__(self, first: list[object], later: list[object]) -> None:
        super().__init__(first)
        self.reads = [first, later]

    def __iter__(self) -> Any:
        return iter(self.reads.pop(0) if len(self.reads) > 1 else self.reads[0])


class _ShiftingDict(dict[str, object]):
    def __init__(self, first: dict[str, object], later: dict[str, object]) -> None:
        super().__init__(first)
        self.reads = [first, later]

    def items(self) -> Any:
        return (self.reads.pop(0) if len(self.reads) > 1 else self.reads[0]).items()

    def __iter__(self) -> Any:
        return iter(self.reads.pop(0) if len(self.reads) > 1 else self.reads[0])


SHIFTING = checked_from_text(
    """
workflow: shifting
contracts:
  Tag: {t: {type: str, pattern: '[a-z]+'}}
  Out:
    tags: {type: list[str], max_len: 1}
    nested: list[Tag]
    counts: {type: 'dict[str, int]', max_len: 1}
    floats: list[float]
context:
  out: Out?
agents:
  a: {input: {}, output: Out}
states:
  s: {agent: a, writes: {out: .}}
  done: {final: true}
initial: s
transitions:
  s: [{to: done}]
""",
    "shifting.yaml",
)
_PLAIN = {"tags": [], "nested": [], "counts": {}, "floats": []}


@pytest.mark.parametrize(
    ("field", "first", "later"),
    [
        ("tags", _Shifting, (["a"], ["a", "b", "c"])),
        ("nested", _Shifting, ([{"t": "ok"}], [{"t": "NOT OK"}])),
        ("counts", _ShiftingDict, ({"a": 1}, {"a": 1, "b": 2})),
        ("floats", _Shifting, ([1.0], [float("nan")])),
    ],
    ids=["max_len", "pattern", "dict-max_len", "nan"],
)
def test_a_collection_is_stored_as_it_was_checked(
    store: Store, field: str, first: Any, later: tuple[Any, Any]
) -> None:
    """A list or dict subclass whose items change between reads is stored as the items the
    check saw: the second read (cattrs building the instance) used to store a list past
    its max_len, text breaking its pattern, or a NaN the store then refused (StoreError)."""
    output = {**_PLAIN, field: first(*later)}
    workflow = Workflow.from_spec(SHIFTING, agents={"a": lambda i, c: output}, store=store)
    run = workflow.start({})
    stored = {**_PLAIN, field: later[0]}
    assert (run.status, run.context_json) == ("completed", {"out": stored})
    assert workflow.run(run.run_id).context_json == {"out": stored}
