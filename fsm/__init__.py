"""Flow Orchestra: production AI agent workflows as typed, checkable, persistent state machines.

The public API, re-exported here; everything else is internal and may change::

    from fsm import Workflow, load_checked

    workflow = Workflow.from_spec("specs/content_pipeline.yaml", store="sqlite:///runs.db")
    run = workflow.start({"brief": {"topic": "Durable agent workflows"}})
    print(run.status, run.state, run.waiting_for)
"""

from fsm.contracts import ContractClasses, ContractConverter, build_classes, json_schema
from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import (
    AgentError,
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
from fsm.runtime import AgentCall, RunHandle, Workflow
from fsm.spec.checked import CheckedSpec
from fsm.spec.model import Spec
from fsm.spec.parse import load_spec, parse_spec
from fsm.spec.validate import ValidationResult, check_spec, load_checked, validate
from fsm.store import MemoryStore, RunRecord, RunState, Snapshot, SqliteStore, Store, open_store
from fsm.worker import Worker, WorkerOptions, WorkerReport

__all__ = [
    "AgentCall",
    "AgentError",
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
