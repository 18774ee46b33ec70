"""Escape attempts: every one is rejected before anything runs, with the right diagnostic code.

Sandboxes built on Python leak through attributes (``__class__``, ``__globals__``), builtins,
formatting, generators' frames and resource exhaustion (simpleeval issue #138). The guard
language closes these by construction; this file keeps the vectors that prove it.
"""

from __future__ import annotations

import ast
import builtins

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.datatypes import INT, STR
from fsm.errors import GuardError
from fsm.guards import GuardEnv, build_guard, guard_source, interpret

from .env import ENV, SPAN, context

FORBIDDEN = "guard-forbidden"
LIMIT = "guard-limit"
UNKNOWN = "guard-unknown-name"
TYPE = "guard-type"

VECTORS: list[tuple[str, str]] = [
    ("__import__('os')", FORBIDDEN),
    ("__import__('os').system('id')", FORBIDDEN),
    ("().__class__.__bases__[0].__subclasses__()", FORBIDDEN),
    ("[].__class__", FORBIDDEN),
    ("review.__class__", FORBIDDEN),
    ("review._private", FORBIDDEN),
    ("review.score.__class__.__mro__", FORBIDDEN),
    (
        "\uff52\uff45\uff56\uff49\uff45\uff57.__class__",
        FORBIDDEN,
    ),  # fullwidth letters normalise to 'review'
    ("review.__\uff43\uff4c\uff41\uff53\uff53__", FORBIDDEN),  # ... and to '__class__'
    ("review.__getattribute__('score')", FORBIDDEN),
    ("(x for x in tags).gi_frame", FORBIDDEN),
    ("[x for x in tags]", FORBIDDEN),
    ("{k: 1 for k in tags}", FORBIDDEN),
    ("lambda: 0", FORBIDDEN),
    ("(lambda: 0)()", FORBIDDEN),
    ("(y := 1)", FORBIDDEN),
    ("f'{name}' == name", FORBIDDEN),
    ("f'{review.__class__}'", FORBIDDEN),
    ("'{0.__class__}'.format(review)", FORBIDDEN),
    ("name.format(1) == name", FORBIDDEN),
    ("open('/etc/passwd')", FORBIDDEN),
    ("getattr(review, 'score')", FORBIDDEN),
    ("eval('1')", FORBIDDEN),
    ("exec('1')", FORBIDDEN),
    ("compile('1', '', 'eval')", FORBIDDEN),
    ("print(1)", FORBIDDEN),
    ("breakpoint()", FORBIDDEN),
    ("globals()", FORBIDDEN),
    ("vars()", FORBIDDEN),
    ("type(name)", FORBIDDEN),
    ("__builtins__", FORBIDDEN),
    ("__builtins__['eval']", FORBIDDEN),
    ("_item(tags, 0) is None", FORBIDDEN),
    ("9**9**9", FORBIDDEN),
    ("'a' * 10**9", FORBIDDEN),
    ("'a' * 1000000 == name", TYPE),
    ("10**100 > count", FORBIDDEN),
    ("count < 1" + "0" * 100, LIMIT),
    ("(" * 10_000 + "flag" + ")" * 10_000, LIMIT),
    ("not " * 10_000 + "flag", LIMIT),
    ("-" * 1_500 + "count > 0", LIMIT),
    ("count > 1 and " + "x" * 100_000, LIMIT),
    ("steps.__class__", FORBIDDEN),
    ("visits.__dict__", FORBIDDEN),
    ("visits.get('drafting') > 1", FORBIDDEN),
    ("len.__self__", FORBIDDEN),
    ("name.lower.__self__", FORBIDDEN),
    ("name.__len__() > 1", FORBIDDEN),
    ("''.join(tags) == name", FORBIDDEN),
    ("name.encode() == name", FORBIDDEN),
    ("tags.pop() == name", FORBIDDEN),
    ("scores.clear()", FORBIDDEN),
    ("str.lower(name) == name", UNKNOWN),
    ("ctx is None", UNKNOWN),
    ("len > 1", UNKNOWN),
    ("min(nums, key=len) > 1", FORBIDDEN),
    ("max(*nums) > 1", FORBIDDEN),
    ("count == 1\x00", LIMIT),
    ("name == '\u202e'", LIMIT),
    ("import os", FORBIDDEN),
    ("x = 1", FORBIDDEN),
    ("count; flag", FORBIDDEN),
    ("1 if flag else 2", FORBIDDEN),
    ("await flag", FORBIDDEN),
    ("yield flag", FORBIDDEN),
    ("*tags", FORBIDDEN),
    ("tags[1:2]", FORBIDDEN),
    ("count @ count", FORBIDDEN),
    ("flag | flag", FORBIDDEN),
    ("~count == 1", FORBIDDEN),
    ("count << 40 > 1", FORBIDDEN),
    ("{} == scores", FORBIDDEN),
    ("b'abc' == name", FORBIDDEN),
    ("1j == count", FORBIDDEN),
    ("... == count", FORBIDDEN),
]


@pytest.mark.parametrize(("text", "code"), VECTORS, ids=[t[:40] for t, _ in VECTORS])
def test_escape_vector_is_rejected(text: str, code: str) -> None:
    """The vector raises GuardError carrying the expected code, before any code is compiled."""
    with pytest.raises(GuardError) as caught:
        build_guard(text, SPAN, ENV)
    codes = {d.code for d in caught.value.diagnostics}
    assert code in codes, caught.value.diagnostics


def test_there_are_at_least_thirty_distinct_vectors() -> None:
    """The suite keeps a broad set of escape attempts."""
    assert len({text for text, _ in VECTORS}) >= 30


def test_compiled_guard_globals_hold_no_builtins() -> None:
    """The compiled function sees an empty __builtins__ and only our helpers."""
    _, guard = build_guard("len(tags) > 0 and nums[0] is not None", SPAN, ENV)
    namespace = guard.__globals__
    assert namespace["__builtins__"] == {}
    assert set(namespace) <= {"__builtins__", "_guard", "_item", "len", "abs", "min", "max"}
    for name in ("len", "abs", "min", "max"):
        assert namespace[name] is getattr(builtins, name)
    for dangerous in ("open", "eval", "exec", "__import__", "getattr", "type", "compile"):
        assert dangerous not in namespace


def test_generated_source_never_contains_user_text_verbatim() -> None:
    """A literal that looks like code is emitted through repr and compared as plain data."""
    payload = "'); __import__('os').system('id'); ('"
    checked, guard = build_guard(f"name == {payload!r}", SPAN, ENV)
    tree = ast.parse(guard_source(checked))
    assert not [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]
    assert strings == [payload]
    assert guard(context(name=payload), 0, {}) is True
    assert guard(context(), 0, {}) is False


def test_user_names_cannot_reach_the_generated_parameters() -> None:
    """Fields named `ctx`, `len` or `min` are context attributes, never the helpers."""
    env = GuardEnv({"ctx": INT, "len": STR, "min": INT}, ())
    checked, guard = build_guard("len(len) > min(ctx, min)", SPAN, env)
    assert "ctx.ctx" in guard_source(checked)
    value = context(ctx=5, len="abcd", min=3)
    assert guard(value, 0, {}) is True
    assert interpret(checked.expr, value, 0, {}) is True


def test_missing_index_and_key_never_raise() -> None:
    """Out-of-range indices and missing keys read as None in compiled code and interpreter."""
    text = (
        "nums[100] is None and nums[-100] is None and scores['nope'] is None "
        "and nums[-1] is not None and nums[-1] == 3"
    )
    checked, guard = build_guard(text, SPAN, ENV)
    assert guard(context(), 0, {}) is True
    assert interpret(checked.expr, context(), 0, {}) is True


def test_missing_visit_counts_read_as_zero() -> None:
    """A state never entered has zero visits; the visits mapping need not list it."""
    checked, guard = build_guard("visits.done == 0 and steps >= 0", SPAN, ENV)
    assert guard(context(), 0, {}) is True
    assert interpret(checked.expr, context(), 0, {}) is True


TOKENS = [
    "count",
    "review",
    ".",
    "score",
    "__class__",
    "(",
    ")",
    "[",
    "]",
    "0",
    "-1",
    "'a'",
    "None",
    "is",
    "not",
    "and",
    "or",
    "in",
    "==",
    "<",
    "+",
    "/",
    "**",
    "len",
    "lambda",
    ":",
    ",",
    "if",
    "else",
    "for",
    "x",
    "steps",
    "visits",
    "drafting",
    "\n",
    ";",
    "=",
    "*",
    "{",
    "}",
    "f'",
    "yield",
]


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(st.text(max_size=120), st.lists(st.sampled_from(TOKENS), max_size=60).map(" ".join))
)
def test_arbitrary_text_is_accepted_or_rejected_cleanly(text: str) -> None:
    """Whatever the text, building a guard returns a callable or raises GuardError, nothing else."""
    try:
        _, guard = build_guard(text, SPAN, ENV)
    except GuardError as error:
        diagnostics = error.diagnostics
    else:
        assert isinstance(guard(context(), 1, {"drafting": 1}), bool)
        return
    assert diagnostics
    assert all(d.span.line >= SPAN.line for d in diagnostics)
