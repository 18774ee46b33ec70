"""Shared helpers of the spec parser: the problem collector, shape checks and name rules.

Every helper reports into a ``Problems`` collector and returns ``None`` when the node does not
have the expected shape, so the parser keeps going and reports every problem of a spec at once.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Iterable, Iterator, Sequence

from fsm.diagnostics import Diagnostic, SourceSpan, did_you_mean
from fsm.spec.load import LList, LMap, LNode, LScalar, describe, shortened
from fsm.values import within_float_range

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

MAX_NAME_LENGTH = 100
"""Characters a name may have: names become file names too (``agents_impl/<agent>.py`` of
``fsm generate``), which most file systems cut at 255 bytes."""


class Problems:
    """The diagnostics found so far; one instance per parse, passed down explicitly."""

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []

    def error(self, span: SourceSpan, message: str, code: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(span, message, code, hint))

    def __bool__(self) -> bool:
        return bool(self.diagnostics)


def expect_map(node: LNode, what: str, problems: Problems, hint: str | None = None) -> LMap | None:
    """``node`` as a mapping, or an error ``expected <what>, got a list``."""
    if isinstance(node, LMap):
        return node
    if hint is None and isinstance(node, LScalar) and node.value is None:
        hint = "it is empty (null); write {} for an empty mapping"
    problems.error(node.span, f"expected {what}, got {describe(node)}", "spec-shape", hint)
    return None


def expect_list(
    node: LNode, what: str, problems: Problems, hint: str | None = None
) -> LList | None:
    if isinstance(node, LList):
        return node
    if hint is None and isinstance(node, LScalar) and node.value is None:
        hint = "it is empty (null); write [] for an empty list"
    problems.error(node.span, f"expected {what}, got {describe(node)}", "spec-shape", hint)
    return None


def expect_str(node: LNode, what: str, problems: Problems, hint: str | None = None) -> str | None:
    """The string value of a scalar; numbers, booleans and null are errors (quote them)."""
    if isinstance(node, LScalar) and isinstance(node.value, str):
        return node.value
    if isinstance(node, LScalar) and node.value is not None and hint is None:
        hint = f"quote it if you mean the text: '{node.text}'"
    problems.error(node.span, f"expected {what}, got {describe(node)}", "spec-shape", hint)
    return None


def expect_int(node: LNode, what: str, problems: Problems, minimum: int) -> int | None:
    """An integer ``>= minimum`` (booleans are not integers here)."""
    value = node.value if isinstance(node, LScalar) else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    message = f"expected {what} (an integer >= {minimum}), got {describe(node)}"
    problems.error(node.span, message, "spec-value")
    return None


def expect_number(
    node: LNode, what: str, problems: Problems, minimum: float, *, exclusive: bool = False
) -> float | None:
    """A finite number ``>= minimum`` (``> minimum`` when ``exclusive``)."""
    value = number_value(node)
    if value is not None and (value > minimum if exclusive else value >= minimum):
        return value
    bound = f"> {minimum:g}" if exclusive else f">= {minimum:g}"
    message = f"expected {what} (a number {bound}), got {describe(node)}"
    problems.error(node.span, message, "spec-value")
    return None


def number_value(node: LNode) -> float | None:
    """The node as an int or float within float range (so finite), else None."""
    if not isinstance(node, LScalar) or isinstance(node.value, bool):
        return None
    if isinstance(node.value, int | float) and within_float_range(node.value):
        return node.value
    return None


def description(node: LMap, problems: Problems) -> str:
    """The optional ``description`` of a mapping; text, or an error."""
    value = node.get("description")
    return "" if value is None else expect_str(value, "a description (text)", problems) or ""


def check_keys(node: LMap, allowed: Collection[str], where: str, problems: Problems) -> None:
    """An error, with a did-you-mean, for every key of ``node`` outside ``allowed``."""
    for key in node.entries:
        name = key[0].text
        if name in allowed:
            continue
        hint = did_you_mean(name, allowed) or f"expected one of: {', '.join(allowed)}"
        problems.error(key[0].span, f"unknown key {name!r} in {where}", "spec-unknown-key", hint)


def known_states_hint(states: Sequence[str]) -> str:
    """The hint for an unknown state name that nothing resembles."""
    if not states:
        return "declare the state under 'states:'"
    return f"the states are: {', '.join(states)}"


def require(
    node: LMap, key: str, where: str, problems: Problems, hint: str | None = None
) -> LNode | None:
    """The value under ``key``, or an error at the mapping when it is missing."""
    value = node.get(key)
    if value is None:
        start = SourceSpan(node.span.path, node.span.line, node.span.column)
        message = f"missing required key {key!r} in {where}"
        problems.error(start, message, "spec-missing-key", hint)
    return value


def exclusive(node: LMap, keys: Iterable[str], where: str, problems: Problems) -> bool:
    """True when at most one of ``keys`` is present; an error at the second one otherwise."""
    present = [key for key in keys if node.key(key) is not None]
    if len(present) <= 1:
        return True
    second = node.key(present[1])
    assert second is not None
    message = f"{where} has both {present[0]!r} and {present[1]!r}"
    problems.error(second.span, message, "spec-exclusive", "keep only one of them")
    return False


def entries(node: LMap) -> Iterator[tuple[str, LScalar, LNode]]:
    """(name, key scalar, value) for each entry, in source order."""
    for key, value in node.entries:
        yield key.text, key, value


PARAMETER_KINDS = frozenset({"field", "input", "context field", "agent"})
"""Kinds of names that become parameters of an ``__init__`` (of the record classes the runtime
builds, and of generated classes) or of the generated ``start()``, next to ``self``."""


def check_name(key: LScalar, kind: str, problems: Problems) -> bool:
    """Names become Python identifiers in generated code: ASCII, not keywords, no leading _;
    names that become parameters are not ``self``."""
    name = key.text
    problem, hint = _name_problem(name)
    if problem is None and kind == "contract" and not name[0].isupper():
        problem = "contract names start with an uppercase letter"
        hint = f"rename it to {name[0].upper() + name[1:]!r}"
    if problem is None and name == "self" and kind in PARAMETER_KINDS:
        problem = "'self' is reserved: it would become a parameter next to a method's own 'self'"
        hint = f"rename the {kind}"
    if problem is None:
        return True
    message = f"invalid {kind} name {shortened(name)!r}: {problem}"
    problems.error(key.span, message, "spec-name", hint)
    return False


def _name_problem(name: str) -> tuple[str | None, str | None]:
    if not _IDENTIFIER.fullmatch(name):
        rule = "use ASCII letters, digits and '_', not starting with a digit"
        return "names must be ASCII identifiers", rule
    if keyword.iskeyword(name):
        return f"{name!r} is a Python keyword", "choose another name"
    if name.startswith("_"):
        return "names starting with '_' are reserved", "remove the leading '_'"
    if len(name) > MAX_NAME_LENGTH:
        problem = f"names may have at most {MAX_NAME_LENGTH} characters, this one has {len(name):,}"
        return problem, "shorten it"
    return None, None


_YAML11_BOOLEANS = {"yes": True, "y": True, "on": True, "no": False, "n": False, "off": False}


def yaml11_boolean_hint(text: str) -> str | None:
    """A hint for ``yes``/``no``/``on``/``off`` (or a quoted ``'true'``) where a boolean belongs:
    YAML 1.1 tools read them as booleans, but a spec is YAML 1.2, where they are text."""
    if text.lower() in ("true", "false"):
        return f"{text!r} is quoted, so it is text: write {text.lower()} without quotes"
    value = _YAML11_BOOLEANS.get(text.lower())
    if value is None:
        return None
    return f"in YAML 1.2 {text!r} is text, not a boolean: write {'true' if value else 'false'}"


def is_identifier(text: str) -> bool:
    return _name_problem(text)[0] is None
