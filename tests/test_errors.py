"""The exceptions a caller catches: one root, and each one survives pickling and copying."""

from __future__ import annotations

import copy
import pickle

import pytest

from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import (
    ConflictError,
    ContractError,
    ContractProblem,
    FsmError,
    GuardError,
    NotFoundError,
    RunError,
    SpecError,
)


def _roundtrips(error: FsmError) -> list[FsmError]:
    """The error back from pickle (a process pool, a test worker), ``copy`` and ``deepcopy``."""
    return [pickle.loads(pickle.dumps(error)), copy.copy(error), copy.deepcopy(error)]


def test_contract_error_keeps_its_problems_through_pickle_and_copy() -> None:
    error = ContractError("Draft", [ContractProblem("draft.word_count", "int >= 0", "-1")])
    error.add_note("while validating agent 'writer'")
    for again in _roundtrips(error):
        assert isinstance(again, ContractError)
        assert again.contract == "Draft"
        assert again.problems == error.problems
        assert str(again) == str(error)
        assert again.__notes__ == ["while validating agent 'writer'"]


@pytest.mark.parametrize("kind", [SpecError, GuardError])
def test_spec_error_keeps_its_diagnostics_through_pickle_and_copy(kind: type[SpecError]) -> None:
    span = SourceSpan("flow.yaml", 3, 5)
    error = kind(
        [Diagnostic(span, "unknown state 'x'", "unknown-state")], {"flow.yaml": "a\nb\nc: x\n"}
    )
    for again in _roundtrips(error):
        assert type(again) is kind
        assert again.diagnostics == error.diagnostics
        assert again.sources == error.sources
        assert str(again) == str(error)


@pytest.mark.parametrize("kind", [ConflictError, NotFoundError])
def test_store_errors_keep_run_id_and_seq_through_pickle(kind: type[ConflictError]) -> None:
    again = pickle.loads(pickle.dumps(kind("no such seq", run_id="r1", seq=4)))
    assert (type(again), again.run_id, again.seq, str(again)) == (kind, "r1", 4, "no such seq")


def test_run_error_keeps_its_run_id_through_pickle_and_copy() -> None:
    """RunError names its run like StoreError does (None where no run exists yet), and the
    name survives a process pool."""
    error = RunError("run r1 is completed in state 'done', not waiting", run_id="r1")
    error.add_note("while sending 'go'")
    for again in _roundtrips(error):
        assert (type(again), again.run_id, str(again)) == (RunError, "r1", str(error))
        assert again.__notes__ == ["while sending 'go'"]
    assert RunError("max_steps must be an integer").run_id is None
