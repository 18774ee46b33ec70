"""Field specs, shared by contracts and the context: read them, then resolve them to ``FieldDef``.

A field is written either as a type expression (``topic: str``) or as a mapping::

    topic: {type: str, min_len: 3, default: "", description: What the article is about.}
    tone:  {enum: [formal, casual], default: formal}      # inline enum, named <Owner><Field>
    log:   {type: list[str], merge: append}                # context fields only

Reading checks the shape of every key; resolving needs every contract, so it runs afterwards
and checks what depends on the type: that constraints fit it (``min``/``max`` on numbers,
``*_len`` on str/list/dict, ``pattern`` on str) and that the default is a valid value.
A pattern must also be one RE2 matches in linear time, read alike by Python's ``re``
(``fsm.spec.patterns``: no lookarounds or backreferences, no huge repeats), and ``min_len``
at most ``MAX_MIN_LEN``.
Context fields of list type without a default start as ``[]``, dict fields as ``{}`` (unless
that breaks a ``min_len``, in which case the field must be given when a run starts).
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Collection, Mapping

import attrs

from fsm.datatypes import (
    INT,
    NO_DEFAULT,
    SCALARS,
    STR,
    Constraints,
    DataType,
    DictType,
    EnumType,
    FieldDef,
    ListType,
    is_numeric,
    render_type,
    strip_optional,
)
from fsm.pattern_engine import python_pattern
from fsm.spec.load import LMap, LNode, LScalar, describe, to_plain
from fsm.spec.model import MergePolicy
from fsm.spec.parse_base import (
    Problems,
    check_keys,
    description,
    entries,
    exclusive,
    expect_int,
    expect_list,
    expect_str,
    number_value,
    yaml11_boolean_hint,
)
from fsm.spec.patterns import match_lengths, pattern_problem
from fsm.spec.typeexpr import (
    MAX_TYPE_DEPTH,
    TypeExpr,
    TypeExprError,
    build_type,
    names_in,
    parse_type_expr,
    type_depth,
    unknown_names,
)
from fsm.values import check_value

MAX_MIN_LEN = {"str": 100_000, "list": 1_000, "dict": 1_000}
"""The largest ``min_len`` per kind of value. Every valid value is at least that long, and is
built (defaults, ``fsm check``) and checked whole, item by item for lists and dicts."""

_CONSTRAINT_NAMES = ("min", "max", "min_len", "max_len", "pattern")
FIELD_KEYS = ("type", "enum", "default", "description", *_CONSTRAINT_NAMES)
CONTEXT_FIELD_KEYS = (*FIELD_KEYS, "merge")
MERGE_POLICIES: tuple[MergePolicy, ...] = ("replace", "append")
_TYPE_HINT = "e.g. str, list[Issue], Review?, or {type: ..., default: ...}"


@attrs.frozen
class FieldDecl:
    """A field as written: shape-checked, its type parsed but not yet resolved."""

    key: LScalar
    where: str  # "field 'Brief.topic'" or "context field 'log'", for messages
    type_expr: TypeExpr | None = None
    type_node: LScalar | None = None  # the scalar the type was written in, for positions
    inline_enum: EnumType | None = None
    default: LNode | None = None
    constraints: Constraints = attrs.field(factory=Constraints)
    constraint_keys: Mapping[str, LScalar] = attrs.field(factory=dict)
    description: str = ""
    merge: MergePolicy = "replace"
    merge_key: LScalar | None = None
    valid: bool = True

    @property
    def name(self) -> str:
        return self.key.text


def inline_enum_name(owner: str, field: str) -> str:
    """``Ticket`` + ``priority_level`` → ``TicketPriorityLevel``."""
    return owner + "".join(part[:1].upper() + part[1:] for part in field.split("_"))


def read_field(
    key: LScalar, node: LNode, owner: str, problems: Problems, *, context: bool = False
) -> FieldDecl:
    """Check the shape of one field spec; ``owner`` names the contract (``Context``)."""
    where = f"context field {key.text!r}" if context else f"field '{owner}.{key.text}'"
    before = len(problems.diagnostics)
    if isinstance(node, LScalar) and isinstance(node.value, str):
        type_expr = _parse_type(node, problems)
        return FieldDecl(key, where, type_expr, node, valid=type_expr is not None)
    if not isinstance(node, LMap):
        message = f"expected a type for {where} ({_TYPE_HINT}), got {describe(node)}"
        problems.error(node.span, message, "spec-shape")
        return FieldDecl(key, where, valid=False)
    check_keys(node, CONTEXT_FIELD_KEYS if context else FIELD_KEYS, where, problems)
    type_expr, type_node, inline_enum = None, None, None
    if exclusive(node, ("type", "enum"), where, problems):
        type_value, enum_value = node.get("type"), node.get("enum")
        if type_value is not None:
            if expect_str(type_value, f"a type expression ({_TYPE_HINT})", problems) is not None:
                assert isinstance(type_value, LScalar)
                type_node = type_value
                type_expr = _parse_type(type_value, problems)
        elif enum_value is not None:
            values = read_enum_values(enum_value, where, problems)
            if values is not None:
                inline_enum = EnumType(inline_enum_name(owner, key.text), values)
        else:
            message = f"missing 'type' in {where}"
            problems.error(node.span, message, "spec-missing-key", "write {type: str, ...}")
    text = description(node, problems)
    constraints, constraint_keys = _read_constraints(node, where, problems)
    merge, merge_key = _read_merge(node, problems)
    return FieldDecl(
        key,
        where,
        type_expr,
        type_node,
        inline_enum=inline_enum,
        default=node.get("default"),
        constraints=constraints,
        constraint_keys=constraint_keys,
        description=text,
        merge=merge,
        merge_key=merge_key,
        valid=len(problems.diagnostics) == before,
    )


def read_enum_values(node: LNode, where: str, problems: Problems) -> tuple[str, ...] | None:
    """A non-empty list of distinct, non-empty strings."""
    items = expect_list(node, f"a list of enum values for {where}", problems)
    if items is None:
        return None
    if not items.items:
        problems.error(items.span, f"the enum of {where} has no values", "spec-enum", None)
        return None
    values: list[str] = []
    for item in items.items:
        value = expect_str(item, "an enum value (a string)", problems)
        if value is None:
            continue
        if not value:
            problems.error(item.span, "enum values must not be empty", "spec-enum")
        elif value in values:
            problems.error(item.span, f"duplicate enum value {value!r}", "spec-enum")
        values.append(value)
    if len(values) != len(items.items) or len(set(values)) != len(values) or "" in values:
        return None
    return tuple(values)


def _parse_type(node: LScalar, problems: Problems) -> TypeExpr | None:
    try:
        return parse_type_expr(node.text)
    except TypeExprError as error:
        span = node.span_of(error.start, error.end)
        problems.error(
            span, f"invalid type {node.text!r}: {error.message}", "spec-type", error.hint
        )
        return None


def _read_constraints(
    node: LMap, where: str, problems: Problems
) -> tuple[Constraints, dict[str, LScalar]]:
    keys = {name: key for name, key, _ in entries(node) if name in _CONSTRAINT_NAMES}
    bounds: dict[str, float | None] = {}
    for name in ("min", "max"):
        value = node.get(name)
        bounds[name] = None if value is None else number_value(value)
        if value is not None and bounds[name] is None:
            problems.error(
                value.span,
                f"expected a finite number within float range for {name!r}, got {describe(value)}",
                "spec-value",
            )
    lengths: dict[str, int | None] = {}
    for name in ("min_len", "max_len"):
        value = node.get(name)
        lengths[name] = None if value is None else expect_int(value, repr(name), problems, 0)
    pattern = _read_pattern(node.get("pattern"), problems)
    low, high = bounds["min"], bounds["max"]
    if low is not None and high is not None and low > high:
        problems.error(
            keys["max"].span,
            f"'min' ({low:g}) is greater than 'max' ({high:g}) in {where}",
            "spec-constraint",
        )
    low_len, high_len = lengths["min_len"], lengths["max_len"]
    if low_len is not None and high_len is not None and low_len > high_len:
        message = f"'min_len' ({low_len}) is greater than 'max_len' ({high_len}) in {where}"
        problems.error(keys["max_len"].span, message, "spec-constraint")
    constraints = Constraints(low, high, low_len, high_len, pattern)
    return constraints, keys


def _read_pattern(node: LNode | None, problems: Problems) -> str | None:
    if node is None:
        return None
    pattern = expect_str(node, "a regular expression for 'pattern'", problems)
    if pattern is None:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)
            python_pattern(pattern)
    except FutureWarning as warning:  # '[[', '--', '&&' in a set: a future re reads them anew
        assert isinstance(node, LScalar)
        found = re.search(r"at position (\d+)", str(warning))
        span = node.span_of(int(found.group(1))) if found else node.span
        problems.error(
            span,
            f"invalid pattern {pattern!r}: {str(warning).lower()} (Python's re will read it "
            "differently in a future version; RE2 reads '[[:alpha:]]' as a POSIX class)",
            "spec-pattern",
            "escape the character inside the set ('[\\[a]'); for a POSIX class list its "
            "characters ('[a-zA-Z]' for '[[:alpha:]]')",
        )
        return None
    except re.error as error:
        assert isinstance(node, LScalar)
        span = node.span_of(error.pos) if error.pos is not None else node.span
        problems.error(
            span,
            f"invalid pattern {pattern!r}: {error.msg}",
            "spec-pattern",
            "use the regular expression syntax RE2 and Python's re share (docs/spec-format.md)",
        )
        return None
    unsafe = pattern_problem(pattern)
    if unsafe is not None:
        assert isinstance(node, LScalar)
        problems.error(node.span, unsafe.message, "spec-pattern", unsafe.hint)
        return None
    return pattern


def _read_merge(node: LMap, problems: Problems) -> tuple[MergePolicy, LScalar | None]:
    value = node.get("merge")
    if value is None:
        return "replace", None
    text = expect_str(value, "a merge policy", problems)
    for policy in MERGE_POLICIES:
        if text == policy:
            assert isinstance(value, LScalar)
            return policy, value
    if text is not None:
        message = f"unknown merge policy {text!r}"
        problems.error(value.span, message, "spec-value", "expected 'replace' or 'append'")
    return "replace", None


def report_unknown_types(decl: FieldDecl, known: Collection[str], problems: Problems) -> None:
    """An error for every type name in the field that nothing declares."""
    if decl.type_expr is None or decl.type_node is None:
        return
    for error in unknown_names(decl.type_expr, known):
        span = decl.type_node.span_of(error.start, error.end)
        problems.error(span, f"{error.message} in {decl.where}", "spec-unknown-type", error.hint)


def resolve_field(
    decl: FieldDecl, named: Mapping[str, DataType], problems: Problems, *, context: bool = False
) -> FieldDef | None:
    """The ``FieldDef``, or None when the field or a contract it uses is broken (already
    reported). Checks that constraints, default and merge policy fit the resolved type."""
    if not decl.valid:
        return None
    data_type: DataType
    if decl.inline_enum is not None:
        data_type = decl.inline_enum
    else:
        assert decl.type_expr is not None
        names = (n.name for n in names_in(decl.type_expr))
        if any(name not in named and name not in SCALARS for name in names):
            return None  # unknown (reported) or a broken contract (reported where it is)
        data_type = build_type(decl.type_expr, named)
        depth = type_depth(data_type, {})
        if depth > MAX_TYPE_DEPTH:  # contracts holding contracts: each within the limit alone
            message = (
                f"the type of {decl.where} nests {depth} levels deep, with the contracts it "
                f"uses; the limit is {MAX_TYPE_DEPTH}"
            )
            hint = "flatten the data: fewer contracts inside contracts, fewer nested lists"
            problems.error(decl.key.span, message, "spec-type", hint)
            return None
    fits = _check_constraints_fit(decl, data_type, problems)
    fits = _check_merge_fits(decl, data_type, problems) and fits
    if not fits:
        return None
    default = _default(decl, data_type, problems, context=context)
    if default is _INVALID:
        return None
    return FieldDef(decl.name, data_type, default, decl.constraints, decl.description)


_INVALID = object()


def _check_constraints_fit(decl: FieldDecl, data_type: DataType, problems: Problems) -> bool:
    base = strip_optional(data_type)
    allowed = {
        "min": is_numeric(base),
        "max": is_numeric(base),
        "min_len": base == STR or isinstance(base, ListType | DictType),
        "max_len": base == STR or isinstance(base, ListType | DictType),
        "pattern": base == STR,
    }
    applies_to = {"min": "int and float", "max": "int and float", "pattern": "str"}
    ok = True
    for name, key in decl.constraint_keys.items():
        if allowed[name]:
            continue
        kinds = applies_to.get(name, "str, list and dict")
        message = f"'{name}' does not apply to {decl.where} of type {render_type(data_type)}"
        problems.error(key.span, message, "spec-constraint", f"'{name}' applies to {kinds} fields")
        ok = False
    return (
        ok
        and _check_min_len_size(decl, base, problems)
        and _check_int_range(decl, base, problems)
        and _check_pattern_lengths(decl, problems)
    )


def _check_int_range(decl: FieldDecl, base: DataType, problems: Problems) -> bool:
    """An int field whose bounds hold no integer (``min: 0.5, max: 0.7``) has no valid value:
    every agent output would be refused, and ``fsm check`` could not build one."""
    low, high = decl.constraints.minimum, decl.constraints.maximum
    if base != INT or low is None or high is None or math.ceil(low) <= math.floor(high):
        return True
    message = f"no int lies between 'min' ({low:g}) and 'max' ({high:g}) in {decl.where}"
    hint = "use integer bounds, or make the field a float"
    problems.error(decl.constraint_keys["max"].span, message, "spec-constraint", hint)
    return False


def _check_min_len_size(decl: FieldDecl, base: DataType, problems: Problems) -> bool:
    low = decl.constraints.min_len
    kind = "str" if base == STR else "list" if isinstance(base, ListType) else "dict"
    if low is None or low <= MAX_MIN_LEN[kind]:
        return True
    unit = "characters" if kind == "str" else "items"
    message = (
        f"'min_len' is {low:,} in {decl.where}: every valid value would hold at least that many "
        f"{unit}, more than can be built and checked quickly (the limit for a {kind} is "
        f"{MAX_MIN_LEN[kind]:,})"
    )
    hint = f"use a 'min_len' of at most {MAX_MIN_LEN[kind]:,}"
    problems.error(decl.constraint_keys["min_len"].span, message, "spec-constraint", hint)
    return False


def _check_pattern_lengths(decl: FieldDecl, problems: Problems) -> bool:
    """A pattern whose matches are all shorter than ``min_len`` (or longer than ``max_len``)
    leaves the field no valid value: every output would be refused."""
    pattern = decl.constraints.pattern
    low_len, high_len = decl.constraints.min_len, decl.constraints.max_len
    if pattern is None or (low_len is None and high_len is None):
        return True
    shortest, longest = match_lengths(pattern)
    if low_len is not None and longest < low_len:
        conflict = f"at most {_characters(longest)} long, but 'min_len' is {low_len:,}"
    elif high_len is not None and shortest > high_len:
        conflict = f"at least {_characters(shortest)} long, but 'max_len' is {high_len:,}"
    else:
        return True
    message = f"pattern {pattern!r} only matches strings {conflict} in {decl.where}"
    hint = "make the pattern and the length bounds agree"
    problems.error(decl.constraint_keys["pattern"].span, message, "spec-constraint", hint)
    return False


def _characters(count: int) -> str:
    return f"{count:,} character" + ("" if count == 1 else "s")


def _check_merge_fits(decl: FieldDecl, data_type: DataType, problems: Problems) -> bool:
    if decl.merge != "append" or isinstance(data_type, ListType) or decl.merge_key is None:
        return True
    message = f"merge: append needs a list type, {decl.where} is {render_type(data_type)}"
    problems.error(
        decl.merge_key.span, message, "spec-merge", "use merge: replace, or a list[T] type"
    )
    return False


def _default(decl: FieldDecl, data_type: DataType, problems: Problems, *, context: bool) -> object:
    """The field's default as plain data, ``NO_DEFAULT``, or ``_INVALID`` (reported)."""
    if decl.default is None:
        return _implicit_default(decl, data_type) if context else NO_DEFAULT
    value = to_plain(decl.default)
    found = check_value(value, data_type, decl.name, decl.constraints)
    for problem in found:
        detail = f"expected {problem.expected}, got {problem.got}"
        if problem.path != decl.name:
            detail = f"{problem.path.removeprefix(decl.name)}: {detail}"
        message = f"the default of {decl.where} does not fit its type: {detail}"
        hint = None
        if problem.expected == "bool" and problem.got[:1] == problem.got[-1:] == "'":
            hint = yaml11_boolean_hint(problem.got[1:-1])
        problems.error(decl.default.span, message, "spec-default", hint)
    return _INVALID if found else value


def _implicit_default(decl: FieldDecl, data_type: DataType) -> object:
    """Context lists start empty, dicts too, when empty is a valid value."""
    empty: list[object] | dict[str, object]
    if isinstance(data_type, ListType):
        empty = []
    elif isinstance(data_type, DictType):
        empty = {}
    else:
        return NO_DEFAULT
    return NO_DEFAULT if check_value(empty, data_type, decl.name, decl.constraints) else empty
