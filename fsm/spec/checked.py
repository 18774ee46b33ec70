"""The result of validation: a spec proven consistent, with its guards compiled.

Everything downstream (runtime, codegen, routing tests) takes a ``CheckedSpec`` so that no
consumer can run a spec that was not validated, and none re-parses guard text.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from fsm.datatypes import RecordType
from fsm.guards import CheckedGuard, GuardFn
from fsm.spec.model import Spec, TransitionDef


@attrs.frozen
class CheckedTransition:
    definition: TransitionDef
    guard: CheckedGuard | None
    guard_fn: GuardFn | None
    # Copied from the definition once: the runtime reads them on every step, and ``label``
    # is formatted text.
    target: str = attrs.field(init=False)
    event: str | None = attrs.field(init=False)
    label: str = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "target", self.definition.target)
        object.__setattr__(self, "event", self.definition.event)
        object.__setattr__(self, "label", self.definition.label)


@attrs.frozen
class CheckedSpec:
    spec: Spec
    transitions: Mapping[str, tuple[CheckedTransition, ...]]
    """Each state's outgoing transitions in the order they are tried."""
    assigned_on_entry: Mapping[str, frozenset[str]]
    """Optional context fields certainly assigned whenever the state is entered."""
    agent_inputs: Mapping[str, RecordType]
    """Each agent's input record type, with fields narrowed by the flow analysis."""
    context_type: RecordType

    @property
    def spec_hash(self) -> str:
        return self.spec.spec_hash

    def outgoing(self, state: str, event: str | None = None) -> tuple[CheckedTransition, ...]:
        """Transitions tried after ``state``'s agent, or on ``event`` in a wait state."""
        return tuple(t for t in self.transitions.get(state, ()) if t.event == event)
