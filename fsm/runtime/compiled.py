"""Everything the runtime derives from a spec, computed once per ``Workflow``.

A ``CompiledWorkflow`` is shared by every run of its spec: the router (the ``transitions``
machine), the loaded agents, the contract classes and their converter, and each state's and
event's resolved writes. Nothing in it changes while runs execute.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import cattrs

from fsm.contracts import ContractConverter, build_classes, make_converter
from fsm.contracts.hooks import new_cattrs_converter
from fsm.datatypes import EnumType, RecordType
from fsm.runtime.agents import LoadedAgent, load_agents
from fsm.runtime.builders import (
    Builder,
    InstanceBuilder,
    compile_builder,
    compile_instance_builder,
)
from fsm.runtime.checks import Check, compile_check
from fsm.runtime.engine import Router
from fsm.runtime.merge import WritePlan, plan_writes
from fsm.runtime.plans import AgentPlan, input_builder, output_validator
from fsm.spec.checked import CheckedSpec
from fsm.spec.model import StateDef


@attrs.frozen
class RecordCodec:
    """One record type, compiled: a fast validity check, then cattrs without re-checking.

    ``structure`` is for data the check accepted; anything it refuses goes through the
    ``ContractConverter``, which reports every problem (and never accepts what the check
    refused, since both implement ``check_value``)."""

    data_type: RecordType
    python_type: Any
    check: Check
    engine: cattrs.Converter
    builder: Builder | None
    """Checks and builds in one go when the record is made of scalars (see ``builders``)."""
    instance_builder: InstanceBuilder | None
    """``builder`` without the JSON, for input records."""

    def structure(self, data: object, converter: ContractConverter, path: str) -> object:
        """Contract-valid ``data`` as an instance; ``ContractError`` otherwise."""
        if self.builder is not None:
            built = self.builder(data)
            if built is not None:
                return built[0]
        if self.check(data):
            return self.engine.structure(data, self.python_type)
        return converter.structure(data, self.data_type, path)


@attrs.frozen
class CompiledWorkflow:
    checked: CheckedSpec
    router: Router
    agents: Mapping[str, LoadedAgent]
    converter: ContractConverter
    states: Mapping[str, StateDef]
    state_writes: Mapping[str, tuple[WritePlan, ...]]
    event_writes: Mapping[tuple[str, str], tuple[WritePlan, ...]]
    inputs: Mapping[str, RecordCodec]
    """Per agent: its input record, which the runtime builds from the context every step."""
    outputs: Mapping[str, RecordCodec]
    """Per agent: its output contract, which every agent result is validated against."""
    agent_plans: Mapping[str, AgentPlan]
    """Per agent state: its step, resolved (see ``fsm.runtime.plans``)."""
    plain_states: frozenset[str]
    """States a run is simply ``running`` in after entering them: neither final nor wait."""
    spec_hash: str = attrs.field(init=False)
    """The checked spec's hash, copied once: every record of every step carries it."""

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "spec_hash", self.checked.spec_hash)

    @property
    def context_type(self) -> RecordType:
        return self.checked.context_type

    def context_instance(self, context_json: object) -> object:
        """The context as an attrs instance (fresh objects, never shared with the JSON)."""
        return self.converter.structure(context_json, self.context_type, "context")

    def context_json(self, context: object) -> dict[str, object]:
        """A context instance as the JSON the runtime keeps (every field, defaults too)."""
        data = self.converter.unstructure(context)
        assert isinstance(data, dict)
        return data


def compile_workflow(
    checked: CheckedSpec, agents: Mapping[str, object] | None = None
) -> CompiledWorkflow:
    spec = checked.spec
    loaded = load_agents(spec, agents)
    named: list[RecordType | EnumType] = [checked.context_type]
    named.extend(checked.agent_inputs.values())
    named.extend(agent.output_type for agent in spec.agents)
    for state in spec.states:
        named.extend(event.data_type for event in state.events if event.data_type is not None)
    converter = make_converter(build_classes(named))
    engine = new_cattrs_converter()

    def codec(record: RecordType) -> RecordCodec:
        annotation = converter.classes.python_type(record)
        return RecordCodec(
            record,
            annotation,
            compile_check(record),
            engine,
            compile_builder(record, annotation),
            compile_instance_builder(record, annotation),
        )

    state_writes: dict[str, tuple[WritePlan, ...]] = {}
    event_writes: dict[tuple[str, str], tuple[WritePlan, ...]] = {}
    for state in spec.states:
        agent = spec.agent(state.agent) if state.agent is not None else None
        if agent is not None:
            state_writes[state.name] = plan_writes(spec, state.writes, agent.output_type)
        for event in state.events:
            if event.data_type is not None:
                event_writes[(state.name, event.name)] = plan_writes(
                    spec, event.writes, event.data_type
                )
    inputs = {name: codec(record) for name, record in checked.agent_inputs.items()}
    outputs = {agent.name: codec(agent.output_type) for agent in spec.agents}
    plans: dict[str, AgentPlan] = {}
    for state in spec.states:
        if state.agent is None:
            continue
        runner = loaded[state.agent]
        definition = runner.definition
        plans[state.name] = AgentPlan(
            agent=runner,
            build_inputs=input_builder(
                definition.inputs, inputs[runner.name], converter, f"{runner.name}.input"
            ),
            validate=output_validator(
                converter, runner.name, definition.output_type, outputs[runner.name]
            ),
            writes=state_writes[state.name],
        )
    return CompiledWorkflow(
        checked=checked,
        router=Router(checked),
        agents=loaded,
        converter=converter,
        states={state.name: state for state in spec.states},
        state_writes=state_writes,
        event_writes=event_writes,
        inputs=inputs,
        outputs=outputs,
        agent_plans=plans,
        plain_states=frozenset(
            state.name for state in spec.states if not state.final and state.kind != "wait"
        ),
    )
