"""Patterns are matched by RE2 at run time: linear time, whatever the spec's pattern.

Python's backtracking ``re`` takes ~10 s on ``a*a*a*a*a*a*b`` against 100 characters and never
finishes ``(a|aa)+`` against a thousand; no agent timeout interrupts a running match, so one
such value hung the whole run (and its worker)."""

from __future__ import annotations

import time

import attrs
import pytest

from fsm.contracts import matches_pattern
from fsm.datatypes import STR, Constraints
from fsm.errors import ContractError
from fsm.runtime import Workflow
from fsm.runtime.checks import compile_check
from fsm.spec.validate import checked_from_text
from fsm.store import Store
from fsm.values import check_value

NEAR_MISS = "a" * 1000 + "!"
"""Almost matches each pattern below: every way of splitting the a's is tried by ``re``."""

SPEC = """\
workflow: linear
contracts:
  Out: {{code: {{type: str, pattern: '{pattern}'}}}}
context:
  code: {{type: str?, pattern: '{pattern}'}}
agents:
  writer: {{input: {{}}, output: Out}}
states:
  writing: {{agent: writer, writes: {{code: code}}, on_error: broken}}
  waiting: {{wait: {{code: {{data: Out, writes: {{code: code}}}}}}}}
  done: {{final: true}}
  broken: {{final: true}}
initial: writing
transitions:
  writing: [{{to: waiting}}]
  waiting: [{{on: code, to: done}}]
"""

HANGING = ["(a|aa)+", "a*a*a*a*a*a*b", "(a{1,10}){10}b", "(a+)+b"]


@pytest.mark.parametrize("pattern", HANGING)
def test_an_agent_output_breaking_a_formerly_hanging_pattern_fails_fast(
    store: Store, pattern: str
) -> None:
    """The output is checked against the contract's pattern, refused at once, and the run
    takes its on_error route instead of hanging."""
    checked = checked_from_text(SPEC.format(pattern=pattern), "linear.yaml")
    workflow = Workflow.from_spec(
        checked, agents={"writer": lambda i, c: {"code": NEAR_MISS}}, store=store
    )
    started = time.perf_counter()
    run = workflow.start({})
    assert time.perf_counter() - started < 1.0
    assert (run.status, run.state) == ("completed", "broken")
    error = workflow.history(run.run_id)[-1].error
    assert error is not None
    assert f"writer.code: expected str matching {pattern!r}" in error


@pytest.mark.parametrize("pattern", HANGING)
def test_event_data_and_start_input_breaking_a_formerly_hanging_pattern_fail_fast(
    store: Store, pattern: str
) -> None:
    checked = checked_from_text(SPEC.format(pattern=pattern), "linear.yaml")
    matching = "a" * 10 + ("b" if pattern.endswith("b") else "")
    workflow = Workflow.from_spec(
        checked, agents={"writer": lambda i, c: {"code": matching}}, store=store
    )
    started = time.perf_counter()
    with pytest.raises(ContractError):
        workflow.start({"code": NEAR_MISS})
    run = workflow.start({})
    assert run.state == "waiting"
    with pytest.raises(ContractError):
        run.send("code", {"code": NEAR_MISS})
    assert time.perf_counter() - started < 1.0
    assert run.send("code", {"code": matching}).status == "completed"


def test_every_check_of_a_formerly_hanging_pattern_is_fast() -> None:
    constraints = Constraints(pattern="(a|aa)+")
    check = compile_check(STR, constraints)
    started = time.perf_counter()
    assert not check(NEAR_MISS)
    assert check_value(NEAR_MISS, STR, "", constraints) != []
    assert check("a" * 1000)
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("pattern", "text"),
    [(r"\d+", "\u0663\u0664"), (r"\w+", "caf\u00e9"), (r"a\sb", "a\u00a0b")],
)
def test_classes_are_ascii_as_in_re2(pattern: str, text: str) -> None:
    """``\\d``, ``\\w`` and ``\\s`` are ASCII in RE2: an Arabic-Indic digit is no ``\\d``,
    everywhere a value is checked (Python's ``re`` said it was)."""
    constraints = Constraints(pattern=pattern)
    assert check_value(text, STR, "", constraints) != []
    assert not compile_check(STR, constraints)(text)


class _Disguised(str):
    """A str whose ``encode`` and ``len`` tell of other text than it holds (the ``re2`` module
    reads a text through both)."""

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        return b"abc1"

    def __len__(self) -> int:
        return 2


def test_a_str_subclass_is_matched_by_the_text_it_holds(store: Store) -> None:
    """A value breaking the pattern was accepted and recorded when it was a ``str`` subclass
    overriding ``encode`` (or ``len``, which made RE2 match only a prefix)."""
    disguised = _Disguised("!!! not a code")
    constraints = Constraints(pattern=r"[a-z]+\d")
    assert check_value(disguised, STR, "", constraints) != []
    assert not compile_check(STR, constraints)(disguised)
    assert not compile_check(STR, Constraints(pattern=r"\d+"))(_Disguised("12abc"))
    with pytest.raises(ValueError, match="must match"):
        matches_pattern(r"[a-z]+\d")(None, attrs.fields(_Holder).value, disguised)
    checked = checked_from_text(SPEC.format(pattern=r"[a-z]+\d"), "linear.yaml")
    workflow = Workflow.from_spec(
        checked, agents={"writer": lambda i, c: {"code": disguised}}, store=store
    )
    run = workflow.start({})
    assert (run.status, run.state) == ("completed", "broken")
    assert run.context_json["code"] is None


@attrs.define
class _Holder:
    value: str
