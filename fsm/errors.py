"""The exceptions Flow Orchestra raises. One root, a shallow tree::

    FsmError
    ├── SpecError          a spec is invalid; carries every Diagnostic found
    │   └── GuardError     a guard does not parse or type-check
    ├── ContractError      a value breaks a contract; carries each field problem
    ├── RoutingError       no transition fires where one must, or an unknown event
    ├── AgentError         an agent cannot be loaded, or failed after its retries
    ├── RunError           a run cannot do what was asked (finished, pinned spec, step limit)
    └── StoreError         persistence failed
        ├── ConflictError  another writer appended the same seq first
        ├── CorruptionError  a stored record fails its checksum
        └── NotFoundError  no such run or seq

The CLI maps each branch to an exit code; users never see a traceback for bad input.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from fsm.diagnostics import Diagnostic, render_all


class FsmError(Exception):
    """Root of every error Flow Orchestra raises on purpose."""


class SpecError(FsmError):
    """A spec has one or more problems; ``diagnostics`` lists all of them."""

    def __init__(self, diagnostics: Sequence[Diagnostic], sources: dict[str, str] | None = None):
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        super().__init__(render_all(self.diagnostics, self.sources))

    def __reduce__(self) -> tuple[object, ...]:
        """Rebuilt from its diagnostics, not its message, so it survives ``pickle`` (a process
        pool, a test worker) and ``copy``, notes and attributes included."""
        return type(self), (self.diagnostics, self.sources), self.__dict__


class GuardError(SpecError):
    """A guard expression is outside the language or ill-typed."""


@attrs.frozen
class ContractProblem:
    """One field of one value that breaks its contract."""

    path: str  # e.g. "draft.word_count" or "issues[2]"
    expected: str  # e.g. "int >= 0"
    got: str  # repr of the offending value, shortened

    def __str__(self) -> str:
        return f"{self.path}: expected {self.expected}, got {self.got}"


class ContractError(FsmError):
    """A value breaks its contract; ``problems`` lists every offending field."""

    def __init__(self, contract: str, problems: Sequence[ContractProblem]):
        self.contract = contract
        self.problems = list(problems)
        detail = "; ".join(str(p) for p in self.problems)
        super().__init__(f"{contract}: {detail}" if detail else contract)

    def __reduce__(self) -> tuple[object, ...]:
        """Rebuilt from its contract and problems (see ``SpecError.__reduce__``)."""
        return type(self), (self.contract, self.problems), self.__dict__


class RoutingError(FsmError):
    """Routing could not choose a transition where the spec requires one."""


class AgentError(FsmError):
    """An agent could not be loaded or kept failing."""


class RunError(FsmError):
    """A run cannot perform the requested operation. ``run_id`` names the run, as it does on
    ``StoreError``; None when no run exists yet (e.g. ``start`` given a bad option)."""

    def __init__(self, message: str, *, run_id: str | None = None):
        self.run_id = run_id
        super().__init__(message)


class BlockingCallInEventLoopError(RunError):
    """The blocking API met a coroutine while an event loop runs in this thread: a misuse of
    the API, raised to the caller (the step is not recorded), never an attempt of the agent."""


class StoreError(FsmError):
    """A store could not read or write. ``run_id``/``seq`` say where, when known."""

    def __init__(self, message: str, *, run_id: str | None = None, seq: int | None = None):
        self.run_id = run_id
        self.seq = seq
        super().__init__(message)


class ConflictError(StoreError):
    """Optimistic concurrency: another writer committed this seq first. Reload and retry."""


class CorruptionError(StoreError):
    """A stored record does not match its checksum; it is never used."""


class NotFoundError(StoreError):
    """The run (or the seq of a run) does not exist in this store."""
