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
from fsm.runtime.builders import compile_context_reader
from fsm.runtime.invoke import Validate
from fsm.runtime.merge import WritePlan
from fsm.spec.model import AgentInput

if TYPE_CHECKING:
    from fsm.runtime.compiled import RecordCodec

ReadInputs = Callable[[dict[str, object]], dict[str, object]]
"""Context JSON → the agent's input record as JSON-ready data (not yet validated)."""


BuildInputs = Callable[[dict[str, object]], object]
"""Context JSON → the agent's validated input record; ``ContractError`` if it breaks the
contract."""


@attrs.frozen
class AgentPlan:
    """An agent state's step, resolved: what to read, whom to call, how to check and merge."""

    agent: LoadedAgent
    build_inputs: BuildInputs
    validate: Validate
    writes: tuple[WritePlan, ...]
    bounded: bool = attrs.field(init=False)
    """Some write goes to a context field with constraints of its own (see
    ``merge.check_writes``)."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "bounded", any(w.bounded is not None for w in self.writes))


def input_builder(
    inputs: tuple[AgentInput, ...], codec: RecordCodec, converter: ContractConverter, path: str
) -> BuildInputs:
    """Builds the input record from the context: in one generated function when every input
    reads a top-level context field of a type builders handle (nearly always), else by
    reading the inputs into a dict and building from that. Whatever the fast path does not
    accept outright takes the general path, which accepts or reports it."""
    read = input_reader(inputs)
    fast = _fast_inputs(inputs, codec, read)
    if fast is None:
        return lambda context: codec.structure(read(context), converter, path)

    def build(context: dict[str, object]) -> object:
        built = fast(context)
        return built if built is not None else codec.structure(read(context), converter, path)

    return build


def _fast_inputs(
    inputs: tuple[AgentInput, ...], codec: RecordCodec, read: ReadInputs
) -> Callable[[dict[str, object]], object | None] | None:
    """The input record from the context, or None when it takes the general path."""
    if all(len(item.path) == 1 for item in inputs):
        keys = {item.name: item.path[0] for item in inputs}
        return compile_context_reader(codec.data_type, codec.python_type, keys)
    instance_builder = codec.instance_builder
    if instance_builder is None:
        return None
    return lambda context: instance_builder(read(context))


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
