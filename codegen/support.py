"""What generated workflow packages import at run time: the bridge to the untyped runtime.

The runtime builds its own contract classes from the spec; a generated package has its own,
typed ones. ``TypedBridge`` converts between the two through JSON-ready data, using one
``fsm.contracts`` converter built with the generated classes *provided* (which also checks that
they still match the spec — stale generated code fails loudly at start, not subtly later):

- agents written against the generated Protocols receive generated input records and may return
  generated contract instances (sync or async); the runtime sees plain data it validates itself;
- typed start and event data are turned into the data the runtime expects.

This module is part of the Flow Orchestra distribution (``codegen`` ships in the wheel), so a
generated package needs nothing beyond ``flow-orchestra`` installed.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Iterable, Mapping
from typing import Any

import attrs

from fsm.contracts import ContractConverter, build_classes, make_converter
from fsm.datatypes import EnumType, RecordType, named_types
from fsm.runtime import AgentCall, AgentFn
from fsm.spec.checked import CheckedSpec


@attrs.frozen
class TypedBridge:
    """Converts between one spec's generated classes and the runtime's data."""

    checked: CheckedSpec
    converter: ContractConverter

    @classmethod
    def build(cls, checked: CheckedSpec, classes: Iterable[type]) -> TypedBridge:
        """A bridge for ``checked`` using the generated ``classes`` (records, enums, inputs)."""
        provided = {c.__name__: c for c in classes}
        named: list[RecordType | EnumType] = list(checked.agent_inputs.values())
        named.extend(c.type for c in checked.spec.contracts)
        named.extend(_context_and_event_types(checked))
        return cls(checked, make_converter(build_classes(named, provided=provided)))

    def data(self, value: object) -> Any:
        """A generated instance (or plain data) as the JSON-ready data the runtime takes."""
        return self.converter.unstructure(value)

    def start_input(self, fields: Mapping[str, object]) -> dict[str, object]:
        return {name: self.data(value) for name, value in fields.items()}

    def agents(self, agents: object) -> dict[str, AgentFn]:
        """Each agent of the generated ``<Name>Agents`` value, adapted to the runtime."""
        given = attrs.asdict(agents, recurse=False)  # type: ignore[arg-type]
        return {name: self._adapt(name, given[name]) for name in given}

    def _adapt(self, name: str, agent: Any) -> AgentFn:
        input_type = self.checked.agent_inputs[name]
        converter = self.converter

        def typed_inputs(inputs: object) -> object:
            return converter.structure(converter.unstructure(inputs), input_type, name)

        if _is_async(agent):

            async def call_async(inputs: object, call: AgentCall) -> object:
                return converter.unstructure(await agent(typed_inputs(inputs), call))

            return call_async

        def call_sync(inputs: object, call: AgentCall) -> object:
            result = agent(typed_inputs(inputs), call)
            if inspect.isawaitable(result):
                return _unstructure_later(result, converter)
            return converter.unstructure(result)

        return call_sync


async def _unstructure_later(result: Awaitable[object], converter: ContractConverter) -> object:
    return converter.unstructure(await result)


def _is_async(agent: object) -> bool:
    if inspect.iscoroutinefunction(agent):
        return True
    return callable(agent) and inspect.iscoroutinefunction(type(agent).__call__)


def _context_and_event_types(checked: CheckedSpec) -> list[RecordType | EnumType]:
    found: list[RecordType | EnumType] = []
    for field in checked.spec.context:
        found.extend(named_types(field.type))
    for state in checked.spec.states:
        found.extend(e.data_type for e in state.events if e.data_type is not None)
    return found
