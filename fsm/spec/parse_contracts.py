"""``contracts:`` → resolved record and enum types.

A contract is an enum, ``{enum: [low, high], description: ...}``, or a record. A record is
written short, as a mapping of field names to field specs, or long, as
``{fields: {...}, description: ...}``. The long form is recognised when the keys are a subset of
``fields``/``description`` and ``fields`` maps names to field specs; so a record with a field
literally named ``fields`` or ``description`` (or ``enum``) must use the long form.

Contracts may refer to each other in any order. They are resolved after all are read, each
after the contracts it uses; a cycle (``A → B → A``) is an error, since contract values are
trees. A contract that cannot be built (an error was reported) is still *declared*: anything
using it is skipped silently instead of reporting a misleading "unknown type".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from fsm.datatypes import SCALARS, DataType, EnumType, FieldDef, RecordType
from fsm.diagnostics import SourceSpan, did_you_mean
from fsm.spec.load import LMap, LNode, LScalar, describe
from fsm.spec.model import ContractDef
from fsm.spec.parse_base import (
    Problems,
    check_keys,
    check_name,
    description,
    entries,
    expect_map,
    expect_str,
    is_identifier,
)
from fsm.spec.parse_fields import (
    FieldDecl,
    read_enum_values,
    read_field,
    report_unknown_types,
    resolve_field,
)
from fsm.spec.typeexpr import MAX_TYPE_DEPTH, names_in

RESERVED_CONTRACT_NAMES = frozenset({"Context"})
"""``Context`` names the run's context record (``Spec.context_type``)."""


@attrs.frozen
class ContractTable:
    """What the rest of the parser needs to know about the contracts."""

    contracts: tuple[ContractDef, ...]
    named: Mapping[str, DataType]  # resolved contracts and inline enums, by name
    declared: frozenset[str]  # every declared name, including ones that failed

    def known(self) -> frozenset[str]:
        return self.declared | frozenset(self.named)


@attrs.frozen
class _RecordDecl:
    key: LScalar
    description: str
    fields: tuple[FieldDecl, ...]


def parse_contracts(node: LNode | None, problems: Problems) -> ContractTable:
    """Read, link and resolve every contract, reporting all problems."""
    if node is None:
        return ContractTable((), {}, frozenset())
    table = expect_map(node, "a mapping of contract names to definitions", problems)
    if table is None:
        return ContractTable((), {}, frozenset())
    declared, enums, records = _read_declarations(table, problems)
    named: dict[str, DataType] = {name: enum for name, (enum, _) in enums.items()}
    _register_inline_enums(records.values(), declared, named, problems)
    known = declared | set(named)
    for record in records.values():
        for field in record.fields:
            report_unknown_types(field, known, problems)
    in_cycles = _report_cycles(records, problems)
    resolver = _Resolver(records, named, in_cycles, problems)
    for name in records:
        resolver.resolve(name)
    contracts = [ContractDef(name, enum, key.span) for name, (enum, key) in enums.items()]
    for name, record in records.items():
        resolved = named.get(name)
        if isinstance(resolved, RecordType):
            spans = {field.name: field.key.span for field in record.fields}
            contracts.append(ContractDef(name, resolved, record.key.span, spans))
    order = {name: index for index, name in enumerate(table.keys())}
    contracts.sort(key=lambda contract: order[contract.name])
    return ContractTable(tuple(contracts), named, frozenset(declared))


def _read_declarations(
    table: LMap, problems: Problems
) -> tuple[set[str], dict[str, tuple[EnumType, LScalar]], dict[str, _RecordDecl]]:
    """Every declared name, the enums (already complete) and the records (fields unresolved)."""
    declared: set[str] = set()
    enums: dict[str, tuple[EnumType, LScalar]] = {}
    records: dict[str, _RecordDecl] = {}
    for name, key, value in entries(table):
        declared.add(name)
        if not check_name(key, "contract", problems):
            continue
        if name in RESERVED_CONTRACT_NAMES:
            hint = "choose another name"
            problems.error(
                key.span, f"'{name}' is reserved for the run's context", "spec-name", hint
            )
            continue
        if isinstance(value, LMap) and value.key("enum") is not None:
            enum = _read_enum(key, value, problems)
            if enum is not None:
                enums[name] = (enum, key)
        else:
            record = _read_record(key, value, problems)
            if record is not None:
                records[name] = record
    return declared, enums, records


def record_contract(
    node: LNode, role: str, contracts: ContractTable, problems: Problems
) -> RecordType | None:
    """The record contract ``node`` names; ``role`` says what it is for ("event data").
    None, silently, when the contract is declared but failed (it was reported already)."""
    name = expect_str(node, "the name of a record contract", problems)
    if name is None:
        return None
    resolved = contracts.named.get(name)
    if isinstance(resolved, RecordType):
        return resolved
    if isinstance(resolved, EnumType):
        message = f"{role} must be a record contract; {name!r} is an enum"
        hint = f"wrap it in a record, e.g. Result: {{value: {name}}}"
        problems.error(node.span, message, "spec-not-a-record", hint)
    elif name in SCALARS or (name not in contracts.declared and not is_identifier(name)):
        # a type, not a contract name: str, list[Issue], Review?
        message = f"{role} must be a record contract; {name!r} is a type expression"
        hint = f"name a record contract, e.g. Result: {{value: {name}}}"
        if isinstance(contracts.named.get(name.removesuffix("?")), RecordType):
            hint = f"it is never None; write {name.removesuffix('?')!r}"
        problems.error(node.span, message, "spec-not-a-record", hint)
    elif name not in contracts.declared:
        hint = did_you_mean(name, contracts.known()) or "declare it under 'contracts:'"
        problems.error(node.span, f"unknown contract {name!r}", "spec-unknown-contract", hint)
    return None


def _read_enum(key: LScalar, node: LMap, problems: Problems) -> EnumType | None:
    where = f"enum contract {key.text!r}"
    check_keys(node, ("enum", "description"), where, problems)
    text = description(node, problems)
    enum_node = node.get("enum")
    assert enum_node is not None
    values = read_enum_values(enum_node, where, problems)
    return None if values is None else EnumType(key.text, values, text)


def _read_record(key: LScalar, node: LNode, problems: Problems) -> _RecordDecl | None:
    if not isinstance(node, LMap):
        message = f"expected a mapping of field names to types for contract {key.text!r}"
        hint = "a contract is a record {field: type, ...} or an enum {enum: [a, b]}"
        problems.error(node.span, f"{message}, got {describe(node)}", "spec-shape", hint)
        return None
    fields_node, text = node, ""
    long_form = node.get("fields")
    if _is_long_form(node) and isinstance(long_form, LMap):
        fields_node = long_form
        text = description(node, problems)
    fields: list[FieldDecl] = []
    for _, field_key, value in entries(fields_node):
        if check_name(field_key, "field", problems):
            fields.append(read_field(field_key, value, key.text, problems))
    return _RecordDecl(key, text, tuple(fields))


def _is_long_form(node: LMap) -> bool:
    fields = node.get("fields")
    return (
        set(node.keys()) <= {"fields", "description"}
        and isinstance(fields, LMap)
        and all(_looks_like_field_spec(value) for _, value in fields.entries)
    )


def _looks_like_field_spec(node: LNode) -> bool:
    return isinstance(node, LMap) or (isinstance(node, LScalar) and isinstance(node.value, str))


def _register_inline_enums(
    records: Iterable[_RecordDecl],
    declared: set[str],
    named: dict[str, DataType],
    problems: Problems,
) -> None:
    """Inline enums (``{enum: [...]}`` on a field) become types named ``<Contract><Field>``."""
    for record in records:
        for field in record.fields:
            register_inline_enum(field, declared, named, problems)


def register_inline_enum(
    field: FieldDecl, declared: set[str], named: dict[str, DataType], problems: Problems
) -> None:
    enum = field.inline_enum
    if enum is None:
        return
    if enum.name in declared or enum.name in named:
        message = f"the inline enum of {field.where} is named {enum.name!r}, which is taken"
        hint = "declare the enum under contracts: and use its name as the field's type"
        problems.error(field.key.span, message, "spec-name-clash", hint)
        return
    named[enum.name] = enum


def _report_cycles(records: Mapping[str, _RecordDecl], problems: Problems) -> set[str]:
    """Report each cycle of records once; return every record on a cycle."""
    deps = {name: _dependencies(record, records) for name, record in records.items()}
    on_cycle: set[str] = set()
    state: dict[str, str] = {}  # "active" while on the DFS stack, then "done"
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = "active"
        stack.append(name)
        if len(stack) > MAX_TYPE_DEPTH:  # too deep to build anyway; the resolver says so
            stack.pop()
            state[name] = "done"
            return
        for dep in deps[name]:
            if state.get(dep) == "active":
                cycle = [*stack[stack.index(dep) :], dep]
                if not on_cycle.issuperset(cycle):
                    _report_cycle(cycle, records, problems)
                on_cycle.update(cycle)
            elif dep not in state:
                visit(dep)
        stack.pop()
        state[name] = "done"

    for name in records:
        if name not in state:
            visit(name)
    return on_cycle


def _dependencies(record: _RecordDecl, records: Mapping[str, _RecordDecl]) -> list[str]:
    found: list[str] = []
    for field in record.fields:
        if field.type_expr is not None:
            found.extend(n.name for n in names_in(field.type_expr) if n.name in records)
    return list(dict.fromkeys(found))


def _report_cycle(cycle: list[str], records: Mapping[str, _RecordDecl], problems: Problems) -> None:
    first = records[cycle[0]]
    span: SourceSpan = first.key.span
    for field in first.fields:
        if field.type_expr is not None and any(
            n.name == cycle[1] for n in names_in(field.type_expr)
        ):
            span = field.key.span
            break
    path = " → ".join(cycle)
    message = f"recursive contracts: {path}" if len(cycle) > 2 else f"recursive contract: {path}"
    hint = "contract values are trees; break the cycle, e.g. refer to the other value by an id"
    problems.error(span, message, "spec-recursive-contract", hint)


class _Resolver:
    """Builds each record after the records it uses (depth first, memoised in ``named``)."""

    def __init__(
        self,
        records: Mapping[str, _RecordDecl],
        named: dict[str, DataType],
        in_cycles: set[str],
        problems: Problems,
    ):
        self.records = records
        self.named = named
        self.failed = set(in_cycles)
        self.problems = problems
        self.too_deep_reported = False

    def resolve(self, name: str, depth: int = 1) -> None:
        if name in self.named or name in self.failed:
            return
        self.failed.add(name)  # until proven otherwise; also stops any re-entry
        record = self.records[name]
        if depth > MAX_TYPE_DEPTH:  # a chain of contracts this long cannot nest within the limit
            if not self.too_deep_reported:  # once: later starts along the same chain hit it too
                message = f"contracts nested more than {MAX_TYPE_DEPTH} levels deep at {name!r}"
                hint = "flatten the data: fewer contracts inside contracts"
                self.problems.error(record.key.span, message, "spec-type", hint)
                self.too_deep_reported = True
            return
        for dep in _dependencies(record, self.records):
            self.resolve(dep, depth + 1)
        fields: list[FieldDef] = []
        for decl in record.fields:
            field = resolve_field(decl, self.named, self.problems)
            if field is not None:
                fields.append(field)
        if len(fields) == len(record.fields):
            self.named[name] = RecordType(name, tuple(fields), record.description)
            self.failed.discard(name)
