"""Names of generated code, and the spec errors that keep them valid Python.

The spec parser already insists on identifiers that are not keywords. Generating code adds
problems the spec alone does not have: two spec names can map to one Python name (agents
``foo_bar`` and ``fooBar`` both give ``FooBarInput``), a spec name can equal a name the generated
code needs (a contract called ``WriterInput`` next to agent ``writer``, a field called ``list``
in a class whose annotations use ``list``), or shadow a builtin. ``check_names`` finds all of
them, each with the span of the spec text to rename, and raises them as one ``SpecError``.

The rules are deliberately about what generated code *uses*: a record field called ``type`` or
``id`` is fine (a class attribute shadows nothing the class body reads), a field called ``str``
is not when the class annotates another field with ``str``.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable, Iterator

import attrs

from codegen.template_names import GENERATED_AGENT_MODULES, template_bindings
from fsm.datatypes import EnumType, RecordType, named_types
from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import SpecError
from fsm.spec.checked import CheckedSpec
from fsm.spec.model import Spec

BUILTIN_NAMES = frozenset(name for name in dir(builtins) if not name.startswith("_"))

CLASS_NAME_TEMPLATES = (
    "package/__init__.py.jinja",
    "package/contracts.py.jinja",
    "package/agents.py.jinja",
    "package/workflow.py.jinja",
    "package/agents_impl/__init__.py.jinja",
    "package/agents_impl/scaffold.py.jinja",
)
"""The templates of the modules that define or import the spec's class names (contracts,
enums, agent input records and Protocols, ``<Name>Agents``, ``<Name>Workflow``)."""

AGENT_FUNCTION_TEMPLATES = (
    "package/agents_impl/__init__.py.jinja",
    "package/agents_impl/scaffold.py.jinja",
)
"""The templates of the modules that bind an agent's name (its scaffold function)."""


def module_helpers(templates: tuple[str, ...] = CLASS_NAME_TEMPLATES) -> dict[str, list[str]]:
    """Module-level names ``templates`` bind for themselves (imports, functions, constants),
    read from the templates, each with the generated modules binding it: a spec name landing
    in one of those modules must differ."""
    helpers: dict[str, list[str]] = {}
    for template in templates:
        module = template.removeprefix("package/").removesuffix(".jinja")
        module = module.replace("scaffold.py", "<agent>.py")
        for name in sorted(template_bindings(template)):
            helpers.setdefault(name, []).append(module)
    return helpers


CLASS_BODY_NAMES = frozenset(
    {"attrs", "matches_pattern", "str", "int", "float", "bool", "list", "dict", "None"}
)
"""Names a generated record class body reads (annotations, ``attrs.field`` calls and the
``matches_pattern`` validator of fields with a ``pattern``)."""

START_PARAMETERS = frozenset({"self", "run_id", "max_steps"})
"""Parameters of the generated ``start()`` besides the context fields."""


def pascal_case(name: str) -> str:
    """``content_pipeline`` → ``ContentPipeline``; the same rule as agent input record names."""
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


_MEMBER_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")


def enum_member_name(value: str, index: int) -> str:
    """An UPPER_SNAKE member name for an enum value: ``in progress`` → ``IN_PROGRESS``,
    ``Zürich`` → ``ZURICH`` (accents dropped, other non-ASCII letters too).

    Values with nothing usable (``""``, ``"¿?"``) become ``VALUE_<index>``; a leading digit gets
    a ``V_`` prefix; leading underscores are dropped because ``enum`` reserves such names."""
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    name = _MEMBER_UNSAFE.sub("_", ascii_value).strip("_").upper()
    name = re.sub(r"_+", "_", name)
    if not name:
        return f"VALUE_{index}"
    if name[0].isdigit():
        return f"V_{name}"
    return name


def enum_member_names(enum_type: EnumType) -> tuple[str, ...]:
    return tuple(enum_member_name(v, i) for i, v in enumerate(enum_type.values))


@attrs.frozen
class GeneratedNames:
    """The Python names chosen for one spec (computed once, read by the view model)."""

    workflow_class: str
    agents_class: str
    input_classes: dict[str, str]  # agent name → input record class
    protocol_classes: dict[str, str]  # agent name → Protocol class


def generated_names(checked: CheckedSpec) -> GeneratedNames:
    spec = checked.spec
    base = pascal_case(spec.workflow)
    return GeneratedNames(
        workflow_class=f"{base}Workflow",
        agents_class=f"{base}Agents",
        input_classes={a.name: checked.agent_inputs[a.name].name for a in spec.agents},
        protocol_classes={a.name: f"{pascal_case(a.name)}Agent" for a in spec.agents},
    )


def all_named_types(checked: CheckedSpec) -> list[RecordType | EnumType]:
    """Every contract and enum the generated ``contracts.py`` defines, dependencies first."""
    spec = checked.spec
    roots: list[RecordType | EnumType] = [c.type for c in spec.contracts]
    roots.extend(_context_and_event_types(spec))
    found: dict[str, RecordType | EnumType] = {}
    for root in roots:
        for named in named_types(root):
            found.setdefault(named.name, named)
    return list(found.values())


def _context_and_event_types(spec: Spec) -> Iterator[RecordType | EnumType]:
    for field in spec.context:
        yield from named_types(field.type)
    for state in spec.states:
        for event in state.events:
            if event.data_type is not None:
                yield event.data_type


def check_names(checked: CheckedSpec) -> GeneratedNames:
    """The generated names, or ``SpecError`` listing every name problem with its position."""
    problems = list(name_problems(checked))
    if problems:
        spec = checked.spec
        raise SpecError(problems, {spec.path: spec.source})
    return generated_names(checked)


def name_problems(checked: CheckedSpec) -> Iterator[Diagnostic]:
    spec = checked.spec
    names = generated_names(checked)
    spans = _type_spans(spec)
    owners: dict[str, tuple[str, SourceSpan]] = {}
    helpers = module_helpers()
    agent_helpers = module_helpers(AGENT_FUNCTION_TEMPLATES)

    def claim(name: str, owner: str, span: SourceSpan) -> Iterator[Diagnostic]:
        if name in BUILTIN_NAMES or keyword.iskeyword(name):
            yield Diagnostic(
                span,
                f"{owner} would generate the Python name '{name}', which shadows a builtin",
                "codegen-name",
                hint="rename it in the spec",
            )
        elif name in helpers:
            yield Diagnostic(
                span,
                f"{owner} would generate the name '{name}', which the generated code already "
                f"uses for itself (in {', '.join(helpers[name])})",
                "codegen-name",
                hint="rename it in the spec",
            )
        elif name in owners:
            other, other_span = owners[name]
            yield Diagnostic(
                span,
                f"{owner} and {other} (line {other_span.line}) would both generate the Python "
                f"name '{name}'",
                "codegen-collision",
                hint="rename one of them in the spec",
            )
        else:
            owners[name] = (owner, span)

    yield from claim(names.workflow_class, f"workflow '{spec.workflow}'", spec.span)
    yield from claim(names.agents_class, f"workflow '{spec.workflow}'", spec.span)
    types = all_named_types(checked)
    for named in types:
        kind = "enum" if isinstance(named, EnumType) else "contract"
        yield from claim(named.name, f"{kind} '{named.name}'", spans.get(named.name, spec.span))
    for agent in spec.agents:
        owner = f"agent '{agent.name}'"
        yield from claim(names.input_classes[agent.name], owner, agent.span)
        yield from claim(names.protocol_classes[agent.name], owner, agent.span)
        if agent.name in agent_helpers or agent.name[:1].isupper():
            yield Diagnostic(
                agent.span,
                f"agent '{agent.name}' would become a scaffold function next to the generated "
                "names (classes and helpers) it must import",
                "codegen-name",
                hint="use a lower_snake_case agent name",
            )
        elif agent.name in GENERATED_AGENT_MODULES:
            yield Diagnostic(
                agent.span,
                f"agent '{agent.name}' would get the scaffold agents_impl/{agent.name}.py, a "
                "file fsm generate writes itself",
                "codegen-name",
                hint="rename the agent",
            )
        elif agent.name in BUILTIN_NAMES:
            yield Diagnostic(
                agent.span,
                f"agent '{agent.name}' would become a function '{agent.name}' in its scaffold, "
                "which shadows a builtin",
                "codegen-name",
                hint="rename the agent",
            )
    yield from _scaffold_case_problems(spec)
    class_names = {named.name for named in types} | set(names.input_classes.values())
    yield from _field_problems(checked, class_names, spans)
    yield from _context_problems(spec, class_names)
    yield from _enum_problems(types, spans, spec.span)
    yield from _event_problems(spec)


def _scaffold_case_problems(spec: Spec) -> Iterator[Diagnostic]:
    """Scaffolds ``agents_impl/writer.py`` and ``agents_impl/wRiter.py`` are one file on the
    case-insensitive file systems of macOS and Windows: the second agent would silently get
    the first one's scaffold, and its import would fail there."""
    seen: dict[str, str] = {}
    for agent in spec.agents:
        other = seen.setdefault(agent.name.casefold(), agent.name)
        if other != agent.name:
            yield Diagnostic(
                agent.span,
                f"agents '{other}' and '{agent.name}' differ only in case, so their scaffolds "
                f"agents_impl/{other}.py and agents_impl/{agent.name}.py would be one file on "
                "macOS and Windows",
                "codegen-collision",
                hint="rename one of the agents",
            )


def _type_spans(spec: Spec) -> dict[str, SourceSpan]:
    """Where each named type was declared: contracts by their key, inline enums by their field."""
    spans: dict[str, SourceSpan] = {}
    for contract in spec.contracts:
        spans[contract.name] = contract.span
        if isinstance(contract.type, RecordType):
            for field in contract.type.fields:
                inner = field.type
                for named in named_types(inner):
                    spans.setdefault(
                        named.name, contract.field_spans.get(field.name, contract.span)
                    )
    return spans


def _field_problems(
    checked: CheckedSpec, class_names: set[str], spans: dict[str, SourceSpan]
) -> Iterator[Diagnostic]:
    spec = checked.spec
    taken = CLASS_BODY_NAMES | class_names
    records: list[tuple[RecordType, dict[str, SourceSpan], SourceSpan]] = []
    for named in all_named_types(checked):
        if isinstance(named, RecordType):
            contract = spec.contract(named.name)
            field_spans = dict(contract.field_spans) if contract else {}
            records.append((named, field_spans, spans.get(named.name, spec.span)))
    for agent in spec.agents:
        input_spans = {item.name: item.span for item in agent.inputs}
        records.append((checked.agent_inputs[agent.name], input_spans, agent.span))
    for record, field_spans, record_span in records:
        for field in record.fields:
            if field.name in taken:
                yield Diagnostic(
                    field_spans.get(field.name, record_span),
                    f"field '{field.name}' of '{record.name}' would hide the name "
                    f"'{field.name}' that the generated class uses in its annotations",
                    "codegen-name",
                    hint="rename the field",
                )


def _context_problems(spec: Spec, class_names: set[str]) -> Iterator[Diagnostic]:
    for field in spec.context:
        if field.name in START_PARAMETERS or field.name in class_names:
            yield Diagnostic(
                field.span,
                f"context field '{field.name}' would clash with the parameter or type "
                f"'{field.name}' of the generated start() method",
                "codegen-name",
                hint="rename the context field",
            )


def _enum_problems(
    types: Iterable[RecordType | EnumType], spans: dict[str, SourceSpan], fallback: SourceSpan
) -> Iterator[Diagnostic]:
    for named in types:
        if not isinstance(named, EnumType):
            continue
        seen: dict[str, str] = {}
        for value, member in zip(named.values, enum_member_names(named), strict=True):
            if member in seen:
                yield Diagnostic(
                    spans.get(named.name, fallback),
                    f"enum '{named.name}': values {seen[member]!r} and {value!r} would both "
                    f"become the member name {member}",
                    "codegen-collision",
                    hint="member names are the values in UPPER_SNAKE_CASE without accents, so "
                    "make the values differ in more than case, accents or punctuation",
                )
            seen.setdefault(member, value)


def _event_problems(spec: Spec) -> Iterator[Diagnostic]:
    """One ``send_<event>`` method per event name, so an event name must carry one data type."""
    first: dict[str, tuple[str | None, str]] = {}
    for state in spec.states:
        for event in state.events:
            if event.name not in first:
                first[event.name] = (event.data, state.name)
                continue
            data, where = first[event.name]
            if data != event.data:
                yield Diagnostic(
                    event.span,
                    f"event '{event.name}' carries {event.data or 'no data'} here but "
                    f"{data or 'no data'} in state '{where}'; the generated send_{event.name}() "
                    "needs one data type per event name",
                    "codegen-collision",
                    hint="give the events different names, or the same data contract",
                )
