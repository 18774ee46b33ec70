"""The view model: every decision about the generated package, made in Python.

``build_package_view`` turns a ``CheckedSpec`` (and the names ``naming`` approved) into frozen
views holding ready-to-print source fragments: class names, annotations, laid-out defaults and
validators, docstrings, import lines. Templates then only loop over these values and print
them; no template computes a name, a type or a literal.
"""

from __future__ import annotations

import attrs

from codegen.naming import GeneratedNames, all_named_types, enum_member_names
from codegen.pysource import (
    INDENT,
    Atom,
    Group,
    Node,
    Pair,
    Text,
    annotation_layout,
    assignment,
    docstring,
    dunder_all_order,
    exempt_overlong,
    fitted_string_literal,
    from_import,
    import_order,
    json_node,
    layout,
    module_key,
    piece_literals,
    string_literal,
    text_pieces,
)
from codegen.typehints import annotation, field_arguments, referenced_types, simple_default
from fsm.contracts.schema import json_schema
from fsm.datatypes import EnumType, FieldDef, RecordType
from fsm.diagnostics import indefinite
from fsm.spec.checked import CheckedSpec
from fsm.spec.model import Spec


@attrs.frozen
class FieldView:
    name: str
    declaration: str
    """``name: annotation`` plus ``= default`` or ``= attrs.field(...)``, laid out."""
    docstring: str | None


@attrs.frozen
class RecordView:
    name: str
    docstring: str
    fields: tuple[FieldView, ...]
    is_enum: bool = False


@attrs.frozen
class MemberView:
    name: str
    value: str  # a string literal, laid out after ``<name> = ``


@attrs.frozen
class EnumView:
    name: str
    docstring: str
    members: tuple[MemberView, ...]
    is_enum: bool = True


@attrs.frozen
class ContractsView:
    docstring: str
    has_enums: bool  # ``import enum``
    has_records: bool  # ``import attrs``
    has_patterns: bool  # ``from fsm.contracts import matches_pattern``
    definitions: tuple[RecordView | EnumView, ...]
    json_schemas: str
    exports: tuple[str, ...]


@attrs.frozen
class AgentView:
    name: str
    function: str  # the scaffold's function name (the agent name)
    input_class: RecordView
    protocol: str
    protocol_docstring: str
    protocol_returns: str  # the laid-out ``Output | Awaitable[Output]`` of ``__call__``
    output_class: str
    scaffold_docstring: str
    scaffold_imports: tuple[str, ...]  # its ``from ..agents`` and ``from ..contracts`` lines
    function_docstring: str
    not_implemented: str  # the laid-out NotImplementedError(...) call
    import_line: str  # ``from .<agent> import <function>`` in ``agents_impl/__init__.py``


@attrs.frozen
class AgentsView:
    docstring: str
    contract_imports: tuple[str, ...]  # the contracts the agents' annotations mention
    has_patterns: bool  # ``from fsm.contracts import matches_pattern``
    agents: tuple[AgentView, ...]
    agents_class: str
    agents_docstring: str
    exports: tuple[str, ...]
    default_agents_call: str  # the laid-out ``<Name>Agents(agent=agent, ...)`` expression
    scaffold_files: str  # the laid-out list of the scaffolds' file names, for pytest to skip

    @property
    def agents_by_name(self) -> tuple[AgentView, ...]:
        """In the order isort wants their ``from .<agent> import`` lines."""
        return tuple(sorted(self.agents, key=lambda agent: module_key(agent.name)))


@attrs.frozen
class ParameterView:
    name: str
    annotation: str


@attrs.frozen
class EventView:
    signature: str  # the laid-out ``def send_<event>(...) -> RunHandle:``
    docstring: str
    send: str  # the laid-out expression the method returns
    async_signature: str  # ``async def async_send_<event>(...) -> RunHandle:``
    async_docstring: str
    async_send: str  # the laid-out awaited expression


@attrs.frozen
class WorkflowView:
    docstring: str
    class_name: str
    class_docstring: str
    agents_class: str
    contract_imports: tuple[str, ...]
    agents_imports: tuple[str, ...]
    bridge_call: str  # the laid-out ``TypedBridge.build(checked_spec(), (classes...))``
    start_parameters: tuple[ParameterView, ...]
    events: tuple[EventView, ...]


@attrs.frozen
class SpecTextView:
    spec_path: str  # string literal: the spec's path relative to the package folder
    spec_text: str  # laid-out string literal


@attrs.frozen
class RoutingTestsView:
    docstring: str
    contracts: str  # a laid-out tuple of contract names


@attrs.frozen
class PackageView:
    docstring: str
    spec_display_path: str
    contracts: ContractsView
    agents: AgentsView
    workflow_facade: WorkflowView
    spec_text: SpecTextView
    routing_tests: RoutingTestsView
    exports: tuple[tuple[str, tuple[str, ...]], ...]
    """(module, names) pairs re-exported by ``__init__``."""
    all_names: tuple[str, ...]


def build_package_view(
    checked: CheckedSpec, names: GeneratedNames, spec_path_from_package: str
) -> PackageView:
    spec = checked.spec
    contracts = contracts_view(checked)
    agents = agents_view(checked, names, spec_path_from_package)
    facade = workflow_view(checked, names)
    exports = (
        ("agents", agents.exports),
        ("contracts", contracts.exports),
        ("workflow", (facade.class_name,)),
    )
    all_names = dunder_all_order(name for _, group in exports for name in group)
    return PackageView(
        docstring=docstring(
            f"The {spec.workflow} workflow: typed contracts, agent Protocols and a workflow "
            "façade.",
            "",
        ),
        spec_display_path=spec_path_from_package,
        contracts=contracts,
        agents=agents,
        workflow_facade=facade,
        spec_text=spec_text_view(spec, spec_path_from_package),
        routing_tests=routing_tests_view(checked),
        exports=exports,
        all_names=all_names,
    )


# --- contracts.py -----------------------------------------------------------------------------


def contracts_view(checked: CheckedSpec) -> ContractsView:
    definitions: list[RecordView | EnumView] = []
    types = all_named_types(checked)
    for named in types:
        if isinstance(named, EnumType):
            definitions.append(enum_view(named))
        else:
            definitions.append(record_view(named, f"The {named.name} contract."))
    schemas = {named.name: json_schema(named) for named in types}
    head = "JSON_SCHEMAS: Final[Mapping[str, Any]] = "
    # a default or bound of a hundred digits is one word no layout can shorten
    schema_text = exempt_overlong(head + layout(json_node(schemas), "", len(head)))[len(head) :]
    return ContractsView(
        docstring=docstring(
            f"Contracts of the {checked.spec.workflow} workflow.\n\n"
            "One frozen attrs class per record contract and one ``enum.StrEnum`` per enum. "
            "Constraints are attrs validators, so an invalid value cannot be constructed. "
            "``JSON_SCHEMAS`` maps each contract name to its JSON Schema (e.g. for LLM "
            "structured output).",
            "",
        ),
        has_enums=any(isinstance(t, EnumType) for t in types),
        has_records=any(isinstance(t, RecordType) for t in types),
        has_patterns=any(isinstance(t, RecordType) and has_pattern(t) for t in types),
        definitions=tuple(definitions),
        json_schemas=schema_text,
        exports=import_order([t.name for t in types] + ["JSON_SCHEMAS"]),
    )


def enum_view(enum_type: EnumType) -> EnumView:
    members = tuple(
        member_view(name, value)
        for name, value in zip(enum_member_names(enum_type), enum_type.values, strict=True)
    )
    text = enum_type.description or f"The {enum_type.name} enum."
    return EnumView(enum_type.name, docstring(text, INDENT), members)


def member_view(name: str, value: str) -> MemberView:
    """``NAME = "value"``, exempt from the line-length rule where the name is a line long."""
    head = f"{INDENT}{name} = "
    literal = layout(Text(value), INDENT, len(head))
    return MemberView(name, exempt_overlong(head + literal)[len(head) :])


def has_pattern(record: RecordType) -> bool:
    """Whether a field of ``record`` has a ``pattern``, so its class needs ``matches_pattern``."""
    return any(field.constraints.pattern is not None for field in record.fields)


def record_view(record: RecordType, fallback_doc: str) -> RecordView:
    fields = tuple(field_view(field) for field in record.fields)
    text = record.description or fallback_doc
    return RecordView(record.name, docstring(text, INDENT), fields)


def field_view(field: FieldDef) -> FieldView:
    head = f"{field.name}: {annotation(field.type)}"
    arguments = field_arguments(field)
    value = simple_default(field) if arguments is None else Group("attrs.field(", arguments, ")")
    declaration = head
    if value is not None:
        declaration += " = " + assignment(value, INDENT, len(INDENT) + len(head) + 3)
    doc = docstring(field.description, INDENT) if field.description else None
    return FieldView(field.name, exempt_overlong(INDENT + declaration)[len(INDENT) :], doc)


# --- agents.py and the scaffolds --------------------------------------------------------------


def agents_view(checked: CheckedSpec, names: GeneratedNames, spec_path: str) -> AgentsView:
    spec = checked.spec
    agents: list[AgentView] = []
    used: set[str] = set()
    for agent in spec.agents:
        record = checked.agent_inputs[agent.name]
        used.add(agent.output)
        used.update(name for f in record.fields for name in referenced_types(f.type))
        about = agent.description or f"Agent '{agent.name}' of the {spec.workflow} workflow."
        message = (
            f"agent '{agent.name}' of spec {spec_path} (the path from this package) is not"
            f" implemented yet: fill in agents_impl/{agent.name}.py"
        )
        call = Group("NotImplementedError(", (Text(message),), ")")
        raise_call = layout(call, INDENT, len(INDENT) + len("raise "))
        agents.append(
            AgentView(
                name=agent.name,
                function=agent.name,
                input_class=record_view(record, f"Input of agent '{agent.name}'."),
                protocol=names.protocol_classes[agent.name],
                protocol_docstring=docstring(
                    f"{about}\n\nCalled as agent(inputs, call); returns "
                    f"{indefinite(agent.output)}, or an awaitable of one.",
                    INDENT,
                ),
                protocol_returns=annotation_layout(
                    f"{agent.output} | Awaitable[{agent.output}]",
                    INDENT,
                    len(INDENT) + len(") -> "),
                    len(": ..."),
                ),
                output_class=agent.output,
                scaffold_docstring=docstring(
                    f"{about}\n\nThis file was written once by 'fsm generate' and is yours: "
                    "fill in the body. It is never overwritten.",
                    "",
                ),
                scaffold_imports=(
                    from_import("..agents", [record.name]),
                    from_import("..contracts", [agent.output]),
                ),
                function_docstring=docstring(
                    f"Return the agent's {agent.output} for ``inputs`` (``call`` identifies the "
                    "attempt).",
                    INDENT,
                ),
                not_implemented=raise_call,
                import_line=from_import(f".{agent.name}", [agent.name]),
            )
        )
    exports = [names.agents_class]
    for view in agents:
        exports.extend([view.input_class.name, view.protocol])
    wiring = Group(
        f"{names.agents_class}(",
        tuple(Pair(view.name, "=", Atom(view.function)) for view in agents),
        ")",
    )
    return AgentsView(
        docstring=docstring(
            f"Agents of the {spec.workflow} workflow: one input record and one Protocol per "
            "agent.\n\n"
            "An agent is any callable ``agent(inputs, call)`` returning its output contract (or "
            "an awaitable of it): a function, an ``async def`` function, or an object with "
            "``__call__``.",
            "",
        ),
        contract_imports=import_order(used),
        has_patterns=any(has_pattern(checked.agent_inputs[agent.name]) for agent in spec.agents),
        default_agents_call=layout(wiring, INDENT, len(INDENT) + len("return ")),
        scaffold_files=assignment(
            Group("[", tuple(Text(f"{view.name}.py") for view in agents), "]"),
            "",
            len("collect_ignore: list[str] = "),
        ),
        agents=tuple(agents),
        agents_class=names.agents_class,
        agents_docstring=docstring(
            f"The agents of the {spec.workflow} workflow, one typed callable per agent.", INDENT
        ),
        exports=import_order(exports),
    )


# --- workflow.py ------------------------------------------------------------------------------


def workflow_view(checked: CheckedSpec, names: GeneratedNames) -> WorkflowView:
    spec = checked.spec
    parameters = tuple(
        ParameterView(field.name, annotation(field.type))
        for field in spec.context
        if field.required
    )
    contract_names: set[str] = set()
    for field in spec.context:
        if field.required:
            contract_names.update(referenced_types(field.type))
    events: dict[str, EventView] = {}
    for state in spec.states:
        for event in state.events:
            if event.name in events:
                continue
            if event.data is not None:
                contract_names.add(event.data)
            about = f"Send '{event.name}' to a run waiting for it, then advance the run."
            events[event.name] = event_view(event.name, event.data, about)
    typed = sorted(t.name for t in all_named_types(checked))
    inputs = sorted(names.input_classes.values())
    about = spec.description or f"The {spec.workflow} workflow."
    return WorkflowView(
        docstring=docstring(
            f"The {spec.workflow} workflow as a typed façade over ``fsm.runtime.Workflow``.", ""
        ),
        class_name=names.workflow_class,
        class_docstring=docstring(
            f"{about}\n\nA typed façade over fsm.runtime.Workflow: typed start() and send_*() "
            "methods, agents checked by mypy against their Protocols.",
            INDENT,
        ),
        agents_class=names.agents_class,
        contract_imports=import_order(typed),
        agents_imports=import_order([*inputs, names.agents_class]),
        bridge_call=layout(
            Group(
                "TypedBridge.build(",
                (
                    Atom("checked_spec()"),
                    Group("(", tuple(Atom(n) for n in sorted([*typed, *inputs])), ")", True),
                ),
                ")",
            ),
            INDENT,
            len(INDENT) + len("return "),
        ),
        start_parameters=parameters,
        events=tuple(events.values()),
    )


def event_view(event: str, data_class: str | None, about: str) -> EventView:
    """``send_<event>(run_id[, data])``: its signature and return value, laid out."""
    parameters = [Atom("self"), Atom("run_id: str")]
    arguments: list[Node] = [Atom(string_literal(event))]
    if data_class is not None:
        parameters.append(Atom(f"data: {data_class}"))
        arguments.append(Atom("self._bridge.data(data)"))
    signature = Group(f"def send_{event}(", tuple(parameters), ") -> RunHandle:")
    send = Group("self.workflow.run(run_id).send(", tuple(arguments), ")")
    waited = Group(f"async def async_send_{event}(", tuple(parameters), ") -> RunHandle:")
    awaited = Group("self.workflow.run(run_id).async_send(", tuple(arguments), ")")
    body_indent = INDENT * 2
    return EventView(
        signature=layout(signature, INDENT, len(INDENT)),
        docstring=docstring(about, body_indent),
        send=layout(send, body_indent, len(body_indent) + len("return ")),
        async_signature=layout(waited, INDENT, len(INDENT)),
        async_docstring=docstring(
            f"``send_{event}`` for an event loop: async agents are awaited.", body_indent
        ),
        async_send=layout(awaited, body_indent, len(body_indent) + len("return await ")),
    )


# --- test_routing.py -------------------------------------------------------------------------


def routing_tests_view(checked: CheckedSpec) -> RoutingTestsView:
    spec = checked.spec
    names = tuple(Text(c.name) for c in spec.contracts if isinstance(c.type, RecordType))
    contracts = layout(Group("(", names, ")", trailing_comma_if_one=True), "", len("CONTRACTS = "))
    about = docstring(
        f"Property tests of the {spec.workflow} workflow; run them with pytest.\n\n"
        "They check that the generated contract classes accept exactly what the spec's "
        "contracts accept, and the routing properties of ``fsm check`` (every state routes "
        "somewhere, no transition is shadowed, routing is deterministic; an unbounded loop is "
        "a warning, as in ``fsm check``: pass ``strict=True`` to fail on it).",
        "",
    )
    return RoutingTestsView(about, contracts)


# --- spec.py ----------------------------------------------------------------------------------


def spec_text_view(spec: Spec, spec_path: str) -> SpecTextView:
    pieces = text_pieces(spec.source, 100 - len(INDENT))
    body = "\n".join(INDENT + literal for literal in piece_literals(pieces))
    return SpecTextView(
        fitted_string_literal(spec_path, len("SPEC_PATH: Final = ")), f"(\n{body}\n)"
    )
