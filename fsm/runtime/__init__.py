"""Running workflows: agents called, outputs validated and merged, one snapshot per transition.

``Workflow.from_spec(path, agents=..., store=...)`` binds a checked spec to its agents and a
store; ``start`` creates a run and drives it until it waits, completes or fails; ``run(run_id)``
reopens one (after a crash, ``resume()`` continues from the last committed transition);
``send`` answers a waiting run; ``fork`` starts a new run from any seq of another; ``replay``
feeds a run's records through the spec again. See ``docs/runtime.md``.
"""

from fsm.runtime.agents import AgentCall, AgentFn, LoadedAgent, load_agents
from fsm.runtime.engine import Router
from fsm.runtime.replay import Divergence, ReplayReport
from fsm.runtime.run import OnTransition, RunHandle
from fsm.runtime.workflow import Workflow

__all__ = [
    "AgentCall",
    "AgentFn",
    "Divergence",
    "LoadedAgent",
    "OnTransition",
    "ReplayReport",
    "Router",
    "RunHandle",
    "Workflow",
    "load_agents",
]
