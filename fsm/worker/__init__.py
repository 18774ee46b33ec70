"""Workers: processes that claim runs from a shared store and advance them, on any number of
machines. ``Worker(store, WorkerOptions(...)).run()`` on an asyncio loop, or ``fsm worker``.
See ``docs/scaling.md``.
"""

from fsm.worker.loop import Worker
from fsm.worker.options import WorkerOptions, WorkerReport, default_worker_id
from fsm.worker.workflows import WorkflowSource

__all__ = ["Worker", "WorkerOptions", "WorkerReport", "WorkflowSource", "default_worker_id"]
