"""Flow Orchestra: production AI agent workflows as typed, checkable, persistent state machines.

The public API, re-exported here; everything else is internal and may change::

    from fsm import Workflow, load_checked

    workflow = Workflow.from_spec("specs/content_pipeline.yaml", store="sqlite:///runs.db")
    run = workflow.start({"brief": {"topic": "Durable agent workflows"}})
    print(run.status, run.state, run.waiting_for)
"""

import typing as _typing
from importlib import import_module as _import_module

from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import (
    AgentError,
    BlockingCallInEventLoopError,
    ConflictError,
    ContractError,
    ContractProblem,
    CorruptionError,
    FsmError,
    GuardError,
    NotFoundError,
    RoutingError,
    RunError,
    SpecError,
    StoreError,
)

if _typing.TYPE_CHECKING:
    from fsm.contracts import ContractClasses, ContractConverter, build_classes, json_schema
    from fsm.runtime import AgentCall, RunHandle, Workflow
    from fsm.spec.checked import CheckedSpec
    from fsm.spec.model import Spec
    from fsm.spec.parse import load_spec, parse_spec
    from fsm.spec.validate import ValidationResult, check_spec, load_checked, validate
    from fsm.store import MemoryStore, RunRecord, RunState, Snapshot, SqliteStore, Store, open_store
    from fsm.worker import Worker, WorkerOptions, WorkerReport

# Name -> module, imported on first use: ``import fsm`` (and so every ``fsm`` command) stays
# cheap, while ``from fsm import Workflow`` works as if everything were imported here.
_LAZY: dict[str, str] = {
    "ContractClasses": "fsm.contracts",
    "ContractConverter": "fsm.contracts",
    "build_classes": "fsm.contracts",
    "json_schema": "fsm.contracts",
    "AgentCall": "fsm.runtime",
    "RunHandle": "fsm.runtime",
    "Workflow": "fsm.runtime",
    "CheckedSpec": "fsm.spec.checked",
    "Spec": "fsm.spec.model",
    "load_spec": "fsm.spec.parse",
    "parse_spec": "fsm.spec.parse",
    "ValidationResult": "fsm.spec.validate",
    "check_spec": "fsm.spec.validate",
    "load_checked": "fsm.spec.validate",
    "validate": "fsm.spec.validate",
    "MemoryStore": "fsm.store",
    "RunRecord": "fsm.store",
    "RunState": "fsm.store",
    "Snapshot": "fsm.store",
    "SqliteStore": "fsm.store",
    "Store": "fsm.store",
    "open_store": "fsm.store",
    "Worker": "fsm.worker",
    "WorkerOptions": "fsm.worker",
    "WorkerReport": "fsm.worker",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fsm' has no attribute {name!r}")
    value = getattr(_import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "AgentCall",
    "AgentError",
    "BlockingCallInEventLoopError",
    "CheckedSpec",
    "ConflictError",
    "ContractClasses",
    "ContractConverter",
    "ContractError",
    "ContractProblem",
    "CorruptionError",
    "Diagnostic",
    "FsmError",
    "GuardError",
    "MemoryStore",
    "NotFoundError",
    "RoutingError",
    "RunError",
    "RunHandle",
    "RunRecord",
    "RunState",
    "Snapshot",
    "SourceSpan",
    "Spec",
    "SpecError",
    "SqliteStore",
    "Store",
    "StoreError",
    "ValidationResult",
    "Worker",
    "WorkerOptions",
    "WorkerReport",
    "Workflow",
    "build_classes",
    "check_spec",
    "json_schema",
    "load_checked",
    "load_spec",
    "open_store",
    "parse_spec",
    "validate",
]
