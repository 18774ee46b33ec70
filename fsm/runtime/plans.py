"""Per-state step plans: everything an agent state's step needs, resolved once per workflow.

A step runs thousands of times per run; the spec does not change between them. So the lookups
a step would otherwise repeat (the state's agent, its input paths, its input and output
codecs, its writes) are done once here, and the step reads one ``AgentPlan``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import attrs

from fsm.contracts import ContractConverter
from fsm.datatypes import RecordType
from fsm.runtime.agents import LoadedAgent
from fsm.runtime.invoke import Validate
from fsm.runtime.merge import WritePlan
from fsm.spec.model import AgentInput

if TYPE_CHECKING:
    from fsm.runtime.compiled import RecordCodec

ReadInputs = Callable[[dict[str, object]], dict[str, object]]
"""Context JSON → the agent's input record as JSON-ready data (not yet validated)."""


@attrs.frozen
class AgentPlan:
    """An agent state's step, resolved: what to read, whom to call, how to check and merge."""

    agent: LoadedAgent
    read_inputs: ReadInputs
    build_inputs: Callable[[object], object]
    """Input data → the validated input record; ``ContractError`` if it breaks the contract."""
    validate: Validate
    writes: tuple[WritePlan, ...]


def input_reader(inputs: tuple[AgentInput, ...]) -> ReadInputs:
    """Reads each input field from its context path; a missing link reads as None (the spec
    checker proved required fields present, and optional ones may be absent)."""
    if all(len(item.path) == 1 for item in inputs):
        pairs = tuple((item.name, item.path[0]) for item in inputs)
        return lambda context: {name: context.get(key) for name, key in pairs}
    paths = tuple((item.name, item.path) for item in inputs)
    return lambda context: {name: json_path(context, path) for name, path in paths}


def json_path(data: Mapping[str, object], path: tuple[str, ...]) -> object:
    current: object = data
    for name in path:
        if type(current) is not dict and not isinstance(current, Mapping):  # dict: fast path
            return None
        current = current.get(name)
    return current


def output_validator(
    converter: ContractConverter, agent_name: str, output_type: RecordType, codec: RecordCodec
) -> Validate:
    """Output → (instance, JSON); raises ``ContractError`` for output breaking its contract.

    JSON comes from unstructuring the instance, never from the agent's own object, so the
    context holds canonical values (floats as floats) the agent can no longer mutate."""
    check, engine, annotation = codec.check, codec.engine, codec.python_type
    builder = codec.builder

    def validate(output: object) -> tuple[object, object]:
        if builder is not None:
            built = builder(output)  # scalars-only contracts: check and build in one go
            if built is not None:
                return built
        if type(output) is dict and check(output):  # the common case, checked once
            instance = engine.structure(output, annotation)
        else:  # instances, and anything invalid: the full path reports every problem
            instance = converter.validate(output, output_type, agent_name)
        return instance, engine.unstructure(instance)

    return validate
