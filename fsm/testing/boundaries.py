"""Boundary-seeking candidates: values that sit exactly on, and just beside, each guard's edges.

Random generation rarely draws ``score == 0.8`` or a list of exactly three issues, yet that is
where routing bugs live (``>`` written for ``>=``). So each comparison of a context place with a
literal yields candidates for that place: the literal and its neighbours (``±1`` for ints,
``math.nextafter`` for floats, lengths ``n-1, n, n+1`` for ``len(...)``, case and padding
variants for strings, each member of a literal list). Every numeric place also gets its type's
extremes (its contract bounds, 0, very large values). ``fsm.testing.strategies.values`` mixes
them in through its ``extra_values`` hook, which drops candidates the contract forbids.

Candidates are keyed by strategy paths of the routing input record (see ``fsm.testing.contexts``):
``("context", "review", "score")``, ``("visits", "drafting")``, ``("steps",)``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping

import attrs
from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample, Unsatisfiable

from fsm.datatypes import (
    Constraints,
    DataType,
    DictType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
    ScalarType,
    strip_optional,
)
from fsm.guards.nodes import (
    STEPS,
    VISITS,
    Arithmetic,
    Attribute,
    BoolOp,
    Call,
    Compare,
    Expr,
    IsNone,
    Literal,
    LiteralList,
    MethodCall,
    Name,
    Not,
    Subscript,
    Unary,
)
from fsm.spec.checked import CheckedSpec
from fsm.testing.strategies import EACH, Path, regex_matches
from fsm.values import check_value

Candidates = dict[Path, list[object]]

CONTEXT = "context"
"""The routing input's field holding the context (see ``fsm.testing.contexts``)."""

_BIG_INT = 2**53
_HUGE_INT = 10**400
"""Past float range: an int meeting a float in a guard (``n / 2 > f``) raises OverflowError
at run time, the one guard failure the type checker cannot rule out; runs must meet it."""
_BIG_FLOAT = 1e300


MAX_LENGTH = 10_000
"""The longest list, dict or string built to aim at a ``len(...)`` or index boundary. Longer
ones cost memory and time in every case (``len(xs) > 100000000`` once took gigabytes), so a
guard that needs more items than this is reported as never firing."""

_STR_RESULT_METHODS = frozenset({"lower", "upper", "strip"})
"""String methods giving a string of the receiver's own kind, so a place under them is the
receiver's place (its candidates come from the literal's case and padding variants)."""

LENGTH = "#len"
"""Path suffix under which the lengths a ``len(...)`` comparison aims at are kept."""

KEYS = "#keys"
"""Path suffix under which the literal keys a guard reads from a dict (``d['k']``) are kept,
to pair each with the candidates of the dict's values once every guard was walked."""


def boundary_candidates(checked: CheckedSpec, state: str | None = None) -> Candidates:
    """Candidates from the guards of ``state`` (every state when None), deduplicated."""
    found = _all_candidates(checked, state)
    return {path: values for path, values in found.items() if path[-1:] not in ((LENGTH,), (KEYS,))}


def length_candidates(checked: CheckedSpec, state: str | None = None) -> dict[Path, list[int]]:
    """For places compared by length (``len(sources) >= 3``): the lengths to aim at. Used
    where no value of that length can be built here (items with a ``pattern``)."""
    found = _all_candidates(checked, state)
    return {
        path[:-1]: [n for n in values if isinstance(n, int)]
        for path, values in found.items()
        if path[-1:] == (LENGTH,)
    }


def _all_candidates(checked: CheckedSpec, state: str | None) -> Candidates:
    found: Candidates = {}
    types = _PlaceTypes(checked.context_type)
    for name, transitions in checked.transitions.items():
        if state is not None and name != state:
            continue
        for transition in transitions:
            if transition.guard is not None:
                _walk(transition.guard.expr, types, found)
    _pair_keys_with_values(found)
    _fit_strings_to_lengths(found)
    return {path: _dedupe(values) for path, values in found.items()}


def guard_candidates(expr: Expr, context_type: RecordType) -> Candidates:
    """Candidates for one guard expression (exposed for tests and custom strategies)."""
    found: Candidates = {}
    _walk(expr, _PlaceTypes(context_type), found)
    _pair_keys_with_values(found)
    _fit_strings_to_lengths(found)
    return {path: _dedupe(values) for path, values in found.items() if path[-1:] != (KEYS,)}


class _PlaceTypes:
    """Resolves a guard place (``review.score``, ``xs[0]``) to its strategy path and type."""

    def __init__(self, context_type: RecordType) -> None:
        self._context = context_type

    def resolve(self, expr: Expr) -> tuple[Path, DataType, Constraints] | None:
        match expr:
            case Name(name=name) if name == STEPS:
                return (STEPS,), ScalarType("int"), Constraints(minimum=0)
            case Attribute(value=Name(name=base), name=state) if base == VISITS:
                return (VISITS, state), ScalarType("int"), Constraints(minimum=0)
            case Name(name=name):
                field = self._context.field(name)
                if field is None:
                    return None
                return (CONTEXT, name), field.type, field.constraints
            case Attribute(value=value, name=name):
                parent = self.resolve(value)
                if parent is None:
                    return None
                record = strip_optional(parent[1])
                if not isinstance(record, RecordType) or record.field(name) is None:
                    return None
                field = record.field(name)
                assert field is not None
                return (*parent[0], name), field.type, field.constraints
            case MethodCall(receiver=receiver, method=method) if method in _STR_RESULT_METHODS:
                # ``answer.strip().lower() == 'yes'`` turns on the values of ``answer``: aim
                # the candidates at the field under the case and padding methods
                return self.resolve(receiver)
            case Subscript(value=value):
                parent = self.resolve(value)
                if parent is None:
                    return None
                container = strip_optional(parent[1])
                if isinstance(container, ListType):
                    return (*parent[0], EACH), container.item, Constraints()
                if isinstance(container, DictType):
                    return (*parent[0], EACH), container.value, Constraints()
                return None
            case _:
                return None


def _walk(expr: Expr, types: _PlaceTypes, found: Candidates) -> None:
    match expr:
        case BoolOp(values=values):
            for value in values:
                _walk(value, types, found)
        case Not(operand=operand):
            _walk(operand, types, found)
        case IsNone(operand=operand):
            _subscript_presence(operand, types, found)
        case Compare(left=left, ops=ops, comparators=comparators):
            operands = (left, *comparators)
            for op, lhs, rhs in zip(ops, operands, operands[1:], strict=False):
                _compare(lhs, op, rhs, types, found)
        case MethodCall(receiver=receiver, args=args):
            resolved = types.resolve(receiver)
            for arg in args:
                if resolved is not None and isinstance(arg, Literal):
                    _add(found, resolved[0], _string_variants(arg.value))
        case _:
            pass


def _compare(lhs: Expr, op: str, rhs: Expr, types: _PlaceTypes, found: Candidates) -> None:
    """Candidates from one link ``lhs op rhs`` of a comparison chain."""
    _subscript_presence(lhs, types, found)
    _subscript_presence(rhs, types, found)
    if op in ("in", "not in"):
        _membership(lhs, rhs, types, found)
        return
    _ordered(lhs, _literals(rhs), types, found)
    _ordered(rhs, _literals(lhs), types, found)


def _membership(element: Expr, container: Expr, types: _PlaceTypes, found: Candidates) -> None:
    """``element in container``: the element drawn from a literal list, or a container place
    that holds the literal element (a list with it, a dict keyed by it, a string around it)."""
    if isinstance(container, LiteralList):
        resolved = types.resolve(element)
        if resolved is not None:
            _add(found, resolved[0], _literals(container))
        return
    literals = _literals(element)
    resolved = types.resolve(container)
    if resolved is None or not literals:
        return
    path, data_type, _ = resolved
    inner = strip_optional(data_type)
    for literal in literals:
        match inner:
            case ListType(item=item):
                _add(found, path, [[literal], [literal, literal], []])
                if minimal(item) is not UNBUILDABLE:
                    _add(found, path, [[minimal(item), literal]])
            case DictType(value=item) if isinstance(literal, str):
                value = minimal(item)
                if value is not UNBUILDABLE:
                    _add(found, path, [{literal: value}, {}])
            case ScalarType(name="str") if isinstance(literal, str):
                _add(found, path, [literal, f"x{literal}x", literal[:-1]])
            case _:
                pass


def _ordered(place: Expr, literals: list[object], types: _PlaceTypes, found: Candidates) -> None:
    """``place`` compared (``== != < <= > >=``) with something: aim at the literals it meets."""
    if isinstance(place, MethodCall):
        resolved = types.resolve(place.receiver)
        if resolved is not None:
            _add(found, resolved[0], [v for lit in literals for v in _string_variants(lit)])
        return
    if isinstance(place, Call) and place.function == "len" and place.args:
        resolved = types.resolve(place.args[0])
        if resolved is not None:
            path, data_type, constraints = resolved
            near = {n + d for n in literals if isinstance(n, int) for d in (-1, 0, 1)}
            lengths = sorted(n for n in near if 0 <= n <= MAX_LENGTH)
            _add(found, path, _sized(data_type, constraints, lengths))
            _add(found, (*path, LENGTH), lengths)
        return
    if isinstance(place, Call | Arithmetic | Unary):
        _solved(place, literals, types, found)
        numbers = [n for lit in literals for n in _number_neighbours(lit, "float")]
        for inner in _places_within(place):
            resolved = types.resolve(inner)
            if resolved is not None:
                rounded = [round(n) for n in numbers if isinstance(n, float) and math.isfinite(n)]
                # the operand's extremes too: huge values are where arithmetic overflows
                edges = _extremes(strip_optional(resolved[1]), resolved[2])
                _add(found, resolved[0], [*numbers, *rounded, 0, 1, -1, *edges])
        return
    resolved = types.resolve(place)
    if resolved is not None:
        _, data_type, constraints = resolved
        path = resolved[0]
        _add(found, path, _scalar_candidates(strip_optional(data_type), constraints, literals))


def _solved(place: Expr, literals: list[object], types: _PlaceTypes, found: Candidates) -> None:
    """``n - 100 == 7``, ``-n > 3``, ``n // 10 < 5``: the literal alone is not where such a
    guard turns (n = 107, -3, 50), so each place is also aimed at the value that puts the
    expression on the literal, and that value's neighbours."""
    for literal in literals:
        if not isinstance(literal, int | float) or isinstance(literal, bool):
            continue
        for inner, target in _solve(place, float(literal)):
            resolved = types.resolve(inner)
            if resolved is not None and math.isfinite(target):
                data_type = strip_optional(resolved[1])
                _add(found, resolved[0], _scalar_candidates(data_type, resolved[2], [target]))


def _solve(expr: Expr, target: float) -> list[tuple[Expr, float]]:
    """The places in ``expr`` with the values that make ``expr`` equal ``target`` (or, for
    ``//`` and ``%``, the edges of where it does), following operations with one literal
    operand; other operations (two places, ``len``) give nothing."""
    match expr:
        case Name() | Attribute() | Subscript():
            return [(expr, target)]
        case Unary(op=op, operand=operand):
            return _solve(operand, -target if op == "-" else target)
        case Call(function="abs", args=(arg,)):
            return [*_solve(arg, target), *_solve(arg, -target)]
        case Call(function="min" | "max", args=args):
            return [pair for arg in args for pair in _solve(arg, target)]
        case Arithmetic(op=op, left=left, right=Literal(value=c)) if _is_number(c):
            assert isinstance(c, int | float)
            return [pair for t in _right_inverse(op, float(c), target) for pair in _solve(left, t)]
        case Arithmetic(op=op, left=Literal(value=c), right=right) if _is_number(c):
            assert isinstance(c, int | float)
            return [pair for t in _left_inverse(op, float(c), target) for pair in _solve(right, t)]
        case _:
            return []


def _right_inverse(op: str, c: float, target: float) -> list[float]:
    """Values of ``p`` at which ``p <op> c`` reaches ``target``."""
    if op == "+":
        return [target - c]
    if op == "-":
        return [target + c]
    if op == "*":
        return [target / c] if c else []
    if op == "/":
        return [target * c]
    if op == "//":
        return [target * c, (target + 1) * c]
    if op == "%":
        return [target, target + c]
    return []


def _left_inverse(op: str, c: float, target: float) -> list[float]:
    """Values of ``p`` at which ``c <op> p`` reaches ``target`` (``/``, ``//`` and ``%`` need
    a literal divisor, so only these three remain)."""
    if op == "+":
        return [target - c]
    if op == "-":
        return [c - target]
    if op == "*":
        return [target / c] if c else []
    return []


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _scalar_candidates(
    data_type: DataType, constraints: Constraints, literals: Iterable[object]
) -> list[object]:
    values: list[object] = []
    match data_type:
        case ScalarType(name="int" | "float" as name):
            for literal in literals:
                values.extend(_number_neighbours(literal, name))
            values.extend(_extremes(data_type, constraints))
        case ScalarType(name="str"):
            for literal in literals:
                values.extend(_string_variants(literal))
        case EnumType(values=members):
            values.extend(lit for lit in literals if lit in members)
        case ScalarType(name="bool"):
            values.extend([True, False])
        case _:
            values.extend(literals)
    return values


def _number_neighbours(literal: object, name: str) -> list[object]:
    if not isinstance(literal, int | float) or isinstance(literal, bool):
        return []
    if name == "int":
        low, high = math.floor(literal), math.ceil(literal)
        return [low - 1, low, high, high + 1]
    value = float(literal)
    return [math.nextafter(value, -math.inf), value, math.nextafter(value, math.inf)]


def _extremes(data_type: DataType, constraints: Constraints) -> list[object]:
    """The type's edges: contract bounds and their inner neighbours, zero, huge magnitudes."""
    match data_type:
        case ScalarType(name="int"):
            ends = [b for b in (constraints.minimum, constraints.maximum) if b is not None]
            edges = [math.ceil(b) for b in ends] + [math.floor(b) for b in ends]
            huge = [_BIG_INT, -_BIG_INT, _HUGE_INT, -_HUGE_INT]
            return [*edges, *(e + d for e in edges for d in (-1, 1)), 0, 1, -1, *huge]
        case ScalarType(name="float"):
            floats = [float(b) for b in (constraints.minimum, constraints.maximum) if b is not None]
            near = [math.nextafter(b, d) for b in floats for d in (-math.inf, math.inf)]
            return [*floats, *near, 0.0, 5e-324, -5e-324, _BIG_FLOAT, -_BIG_FLOAT]
        case _:
            return []


def _string_variants(literal: object) -> list[object]:
    if not isinstance(literal, str):
        return []
    variants = [literal, literal.upper(), literal.capitalize(), f" {literal} ", literal + "x"]
    return [*variants, literal[:-1], f"x{literal}x", ""]


def _literals(expr: Expr) -> list[object]:
    match expr:
        case Literal(value=value):
            return [value]
        case LiteralList(items=items):
            return [item.value for item in items]
        case Unary(op="-", operand=Literal(value=value)) if isinstance(value, int | float):
            return [-value]
        case _:
            return []


def _places_within(expr: Expr) -> list[Expr]:
    match expr:
        case Name() | Attribute() | Subscript():
            return [expr]
        case Arithmetic(left=left, right=right):
            return [*_places_within(left), *_places_within(right)]
        case Unary(operand=operand):
            return _places_within(operand)
        case Call(args=args):
            return [place for arg in args for place in _places_within(arg)]
        case _:
            return []


def _subscript_presence(expr: Expr, types: _PlaceTypes, found: Candidates) -> None:
    """``xs[2]`` / ``d['k']`` read ``None`` when absent: aim for containers that have them."""
    if not isinstance(expr, Subscript) or not isinstance(expr.index, Literal):
        return
    resolved = types.resolve(expr.value)
    if resolved is None:
        return
    path, data_type, constraints = resolved
    container = strip_optional(data_type)
    index = expr.index.value
    if isinstance(container, ListType) and _is_int(index):
        assert isinstance(index, int)
        wanted = [n for n in (index, index + 1, index + 2) if 0 <= n <= MAX_LENGTH]
        _add(found, path, _sized(container, constraints, wanted))
    elif isinstance(container, DictType) and isinstance(index, str):
        item = minimal(container.value)
        if item is not UNBUILDABLE:
            _add(found, path, [{index: item}, {}])
        _add(found, (*path, KEYS), [_KeyRead(index, container.value)])


def _fit_strings_to_lengths(found: Candidates) -> None:
    """``url.startswith('https://') and len(url) > 12`` needs the literal *at* a length: each
    string candidate is padded (after it, and before it for suffixes) to every length aimed
    at, and strings of digits and of blanks at those lengths serve ``isdigit()``/``strip()``."""
    for length_path, lengths in list(found.items()):
        path = length_path[:-1]
        strings = [v for v in found.get(path, []) if isinstance(v, str)]
        if length_path[-1:] != (LENGTH,) or not strings:
            continue
        texts = [text for text in _dedupe(strings) if isinstance(text, str) and text.strip("a")]
        for length in (n for n in _dedupe(lengths) if isinstance(n, int)):
            _add(found, path, ["0" * length, " " * length])
            for text in (t for t in texts if len(t) < length):
                fill = "a" * (length - len(text))
                _add(found, path, [text + fill, fill + text])


@attrs.frozen
class _KeyRead:
    """A literal key a guard reads from a dict, and the type of the dict's values."""

    key: str
    item: DataType


def _pair_keys_with_values(found: Candidates) -> None:
    """``d['k'] > 0.5`` holds only for a dict with key 'k' *and* a value past 0.5: random keys
    are never 'k', so each key read is paired with every candidate of the dict's values."""
    for keys_path, keys in list(found.items()):
        if keys_path[-1:] != (KEYS,):
            continue
        path = keys_path[:-1]
        for read in _dedupe(keys):
            if isinstance(read, _KeyRead):
                values = _item_values(read.item, (*path, EACH), found)
                _add(found, path, [{read.key: value} for value in values])


def _item_values(data_type: DataType, path: Path, found: Candidates) -> list[object]:
    """Candidates for a whole value at ``path``: its own, every bool and enum member, and for
    a record its simplest value with one field at a time set to that field's candidates."""
    inner = strip_optional(data_type)
    values = list(found.get(path, []))
    match inner:
        case ScalarType(name="bool"):
            values.extend([False, True])
        case EnumType(values=members):
            values.extend(members)
        case RecordType(fields=fields):
            base = minimal(inner)
            if isinstance(base, dict):
                for field in fields:
                    for value in _item_values(field.type, (*path, field.name), found):
                        values.append({**base, field.name: value})
        case _:
            pass
    return _dedupe(values)


def _sized(data_type: DataType, constraints: Constraints, lengths: Iterable[int]) -> list[object]:
    """Values of ``data_type`` with each of the given lengths (where one can be built)."""
    inner = strip_optional(data_type)
    out: list[object] = []
    for length in lengths:
        match inner:
            case ScalarType(name="str"):
                out.append("a" * length)
            case ListType(item=item):
                element = minimal(item)
                if element is not UNBUILDABLE:
                    out.append([element] * length)
            case DictType(value=item):
                element = minimal(item)
                if element is not UNBUILDABLE:
                    out.append({f"k{i}": element for i in range(length)})
            case _:
                pass
    return [v for v in out if not check_value(v, data_type, "", constraints)]


class _Unbuildable:
    """Marks a type for which ``minimal`` cannot construct a value (e.g. a ``pattern``)."""


UNBUILDABLE = _Unbuildable()


def minimal(data_type: DataType, constraints: Constraints | None = None) -> object:
    """A small contract-valid value of ``data_type``, or ``UNBUILDABLE`` when none can be built."""
    bounds = constraints or Constraints()
    value: object
    match data_type:
        case OptionalType():
            return None
        case ScalarType(name="bool"):
            value = False
        case ScalarType(name="int"):
            value = _clamp(0, bounds, integer=True)
        case ScalarType(name="float"):
            value = float(_clamp(0, bounds, integer=False))
        case ScalarType(name="str") if bounds.pattern is not None:
            value = _pattern_example(bounds.pattern)
        case ScalarType(name="str"):
            value = "a" * (bounds.min_len or 0)
        case EnumType(values=members):
            value = members[0] if members else UNBUILDABLE
        case ListType(item=item):
            element = minimal(item)
            value = [element] * (bounds.min_len or 0) if element is not UNBUILDABLE else UNBUILDABLE
        case DictType(value=item):
            element = minimal(item)
            count = bounds.min_len or 0
            value = (
                {f"k{i}": element for i in range(count)}
                if element is not UNBUILDABLE
                else UNBUILDABLE
            )
        case RecordType(fields=fields):
            record: dict[str, object] = {}
            for field in fields:
                if field.has_default or isinstance(field.type, OptionalType):
                    continue
                record[field.name] = minimal(field.type, field.constraints)
            value = UNBUILDABLE if any(v is UNBUILDABLE for v in record.values()) else record
    if value is UNBUILDABLE or check_value(value, data_type, "", bounds):
        return UNBUILDABLE
    return value


@functools.lru_cache(maxsize=256)
def _pattern_example(pattern: str) -> object:
    """Some string fully matching ``pattern``, found once by hypothesis (regexes are too rich
    to invert by hand); ``UNBUILDABLE`` when none turns up quickly."""
    quick = settings(
        max_examples=50,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    try:
        return find(regex_matches(pattern), lambda _: True, settings=quick)
    except (NoSuchExample, Unsatisfiable):
        return UNBUILDABLE


def _clamp(number: float, bounds: Constraints, integer: bool) -> float:
    if bounds.minimum is not None and number < bounds.minimum:
        number = math.ceil(bounds.minimum) if integer else bounds.minimum
    if bounds.maximum is not None and number > bounds.maximum:
        number = math.floor(bounds.maximum) if integer else bounds.maximum
    return number


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _add(found: Candidates, path: Path, values: Iterable[object]) -> None:
    found.setdefault(path, []).extend(values)


def _dedupe(values: Iterable[object]) -> list[object]:
    """Drop repeats, keeping first occurrences (``0 == 0.0`` and ``1 == True`` stay apart)."""
    seen: list[tuple[type, object]] = []
    out: list[object] = []
    for value in values:
        key = (type(value), repr(value))
        if key not in seen:
            seen.append(key)
            out.append(value)
    return out


def merge_candidates(*parts: Mapping[Path, Iterable[object]]) -> Candidates:
    """Several candidate maps as one (later parts appended after earlier ones)."""
    merged: Candidates = {}
    for part in parts:
        for path, values in part.items():
            _add(merged, path, values)
    return {path: _dedupe(values) for path, values in merged.items()}
