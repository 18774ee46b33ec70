"""Compiled guard == reference interpreter == CPython, on generated well-typed guards.

Hypothesis writes guard *text* over the test context type (numbers, strings, bools, an enum,
optionals, lists, dicts, nested and optional records), including narrowing-shaped expressions
such as ``maybe_n is not None and maybe_n > 3``, plus a matching context. Every generated guard
must type-check, and all three evaluations must agree and never raise. CPython runs the same
text with the names bound (only here, in a test); its lists and dicts are given the language's
"missing reads as None" subscript semantics.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fsm.guards import build_guard, interpret, parse_guard
from fsm.guards import nodes as n

from .env import ENV, FIELDS, SPAN, STATES


class Level(enum.StrEnum):
    LOW = "low"
    MID = "mid"
    HIGH = "high"


class SafeList(list[Any]):
    """A list whose out-of-range index reads None, as guard subscripts do."""

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, int) and not -len(self) <= index < len(self):
            return None
        return super().__getitem__(index)


class SafeDict(dict[str, Any]):
    """A dict whose missing key reads None, as guard subscripts do."""

    def __missing__(self, key: str) -> None:
        return None


LEVELS = [level.value for level in Level]
WORDS = ["a", "b", "ab", "Draft", "draft one", "42", " x ", ""]
KEYS = ["a", "b", "clarity"]
INDICES = [-3, -1, 0, 1, 2, 5]
DIVISORS = ["1", "2", "3", "-2", "7", "0.5", "2.5", "-4.0"]

# Optional places a guard may narrow, and what becomes readable once narrowed.
PLACES = ["maybe_n", "maybe_s", "maybe_flag", "review", "review.notes"]
PLACES += [f"nums[{i}]" for i in INDICES] + [f"tags[{i}]" for i in INDICES]
PLACES += [f"levels[{i}]" for i in INDICES] + [f"scores[{k!r}]" for k in KEYS]


def _needs(place: str) -> str | None:
    return "review" if place == "review.notes" else None


Draw = Callable[[st.SearchStrategy[Any]], Any]


class Writer:
    """Draws guard text of a requested type, given which optional places are narrowed."""

    def __init__(self, draw: Draw) -> None:
        self.draw = draw

    def pick(self, options: list[str]) -> str:
        return str(self.draw(st.sampled_from(options)))

    def narrowed_of(self, narrowed: frozenset[str], prefix: str) -> list[str]:
        return [p for p in narrowed if p.startswith(prefix)]

    def int_(self, depth: int, narrowed: frozenset[str]) -> str:
        atoms = ["count", "steps", "visits.drafting", "visits.done", "brief.max_words"]
        atoms += ["len(name)", "len(tags)", "len(scores)", "len(brief.topic)"]
        atoms.append(str(self.draw(st.integers(-5, 1000))))
        atoms += [p for p in ("maybe_n",) if p in narrowed] + self.narrowed_of(narrowed, "nums[")
        if "review" in narrowed:
            atoms.append("len(review.issues)")
        if "review.notes" in narrowed:
            atoms.append("len(review.notes)")
        if depth <= 0 or self.draw(st.integers(0, 2)) == 0:
            return self.pick(atoms)
        a, b = self.int_(depth - 1, narrowed), self.int_(depth - 1, narrowed)
        return self.pick(
            [
                f"({a} + {b})",
                f"({a} - {b})",
                f"({a} * {b})",
                f"(-{a})",
                f"abs({a})",
                f"min({a}, {b})",
                f"max({a}, {b}, {self.int_(0, narrowed)})",
                f"({a} // {self.pick(['1', '2', '3', '-2', '7'])})",
                f"({a} % {self.pick(['1', '2', '3', '-2', '7'])})",
            ]
        )

    def num(self, depth: int, narrowed: frozenset[str]) -> str:
        if self.draw(st.booleans()):
            return self.int_(depth, narrowed)
        floats = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
        atoms = ["ratio", repr(self.draw(floats)), "0.8", "-0.5"]
        atoms += self.narrowed_of(narrowed, "scores[")
        if "review" in narrowed:
            atoms.append("review.score")
        if depth <= 0 or self.draw(st.integers(0, 2)) == 0:
            return self.pick(atoms)
        a, b = self.num(depth - 1, narrowed), self.num(depth - 1, narrowed)
        divisor = self.pick(DIVISORS)
        return self.pick(
            [
                f"({a} + {b})",
                f"({a} - {b})",
                f"({a} * {b})",
                f"({a} / {divisor})",
                f"({a} // {divisor})",
                f"({a} % {divisor})",
                f"(+{a})",
                f"min({a}, {b})",
                f"max({a}, {b})",
                f"abs({a})",
            ]
        )

    def str_(self, depth: int, narrowed: frozenset[str]) -> str:
        atoms = ["name", "brief.topic", repr(self.pick(WORDS))]
        atoms += [p for p in ("maybe_s",) if p in narrowed] + self.narrowed_of(narrowed, "tags[")
        if depth <= 0 or self.draw(st.booleans()):
            return self.pick(atoms)
        inner = self.str_(depth - 1, narrowed)
        return self.pick([f"{inner}.lower()", f"{inner}.upper()", f"{inner}.strip()"])

    def enum_(self, narrowed: frozenset[str]) -> str:
        atoms = ["level", "brief.audience", *self.narrowed_of(narrowed, "levels[")]
        if "review" in narrowed:
            atoms.append("review.level")
        return self.pick(atoms)

    def bool_(self, depth: int, narrowed: frozenset[str]) -> str:
        if depth <= 0:
            return self.comparison(0, narrowed)
        choice = self.draw(st.integers(0, 6))
        if choice in (0, 1):
            return self.narrowing(depth, narrowed)
        if choice == 2:
            return f"(not {self.bool_(depth - 1, narrowed)})"
        if choice in (3, 4):
            op = self.pick(["and", "or"])
            parts = [self.bool_(depth - 1, narrowed) for _ in range(self.draw(st.integers(2, 3)))]
            return "(" + f" {op} ".join(parts) + ")"
        return self.comparison(depth - 1, narrowed)

    def narrowing(self, depth: int, narrowed: frozenset[str]) -> str:
        """`p is not None and …p…`, `p is None or …p…`, or `not (p is None) and …p…`."""
        options = [p for p in PLACES if _needs(p) is None or _needs(p) in narrowed]
        kind = self.pick(sorted({p.split("[")[0] for p in options}))
        place = self.pick([p for p in options if p.split("[")[0] == kind])
        inner = narrowed | {place}
        body = self.use(place, depth, inner)
        if self.draw(st.booleans()):
            body = f"({body} {self.pick(['and', 'or'])} {self.bool_(depth - 1, inner)})"
        return self.pick(
            [
                f"({place} is not None and {body})",
                f"({place} is None or {body})",
                f"(not ({place} is None) and {body})",
                f"({place} is None)",
            ]
        )

    def use(self, place: str, depth: int, narrowed: frozenset[str]) -> str:
        """A condition that reads the freshly narrowed ``place``."""
        arithmetic = self.draw(st.integers(0, 2))
        compare = self.pick(["<", "<=", ">", ">=", "==", "!="])
        if place == "maybe_flag":
            return self.pick([place, f"(not {place})", f"({place} == flag)"])
        if place == "maybe_s" or place.startswith("tags["):
            return f"({place} {compare} {self.str_(1, narrowed)})"
        if place.startswith("levels["):
            return f"({place} in {self.draw(st.lists(st.sampled_from(LEVELS), max_size=2))!r})"
        if place == "review":
            return self.pick(
                [
                    f"(review.score {compare} {self.num(arithmetic, narrowed)})",
                    f"(review.level == {self.pick(LEVELS)!r})",
                    f"(len(review.issues) {compare} {self.int_(arithmetic, narrowed)})",
                    f"({self.str_(0, narrowed)} in review.issues)",
                    "(review.notes is not None and "
                    f"{self.use('review.notes', depth, narrowed | {'review.notes'})})",
                ]
            )
        if place == "review.notes":
            return self.pick(
                [
                    f"(len(review.notes) {compare} {self.int_(arithmetic, narrowed)})",
                    f"({self.str_(0, narrowed)} not in review.notes)",
                ]
            )
        return f"({place} {compare} {self.num(arithmetic, narrowed)})"

    def comparison(self, depth: int, narrowed: frozenset[str]) -> str:
        depth = max(depth, self.draw(st.integers(0, 3)))  # arithmetic gets its own budget
        choice = self.draw(st.integers(0, 9))
        num = self.num
        if choice == 0:
            atoms = ["flag", "True", "False"] + [p for p in ("maybe_flag",) if p in narrowed]
            return self.pick(atoms)
        if choice == 1:
            op = self.pick(["<", "<=", ">", ">=", "==", "!="])
            return f"({num(depth, narrowed)} {op} {num(depth, narrowed)})"
        if choice == 2:
            a, b, c = (num(depth, narrowed) for _ in range(3))
            return f"({a} {self.pick(['<', '<='])} {b} {self.pick(['<', '<=', '!='])} {c})"
        if choice == 3:
            op = self.pick(["==", "!=", "<", ">=", "in", "not in"])
            return f"({self.str_(depth, narrowed)} {op} {self.str_(depth, narrowed)})"
        if choice == 4:
            value = repr(self.pick(LEVELS))
            enum_ = self.enum_(narrowed)
            return self.pick([f"({enum_} == {value})", f"({value} != {enum_})"])
        if choice == 5:
            chosen = self.draw(st.lists(st.sampled_from(LEVELS), max_size=3))
            op = self.pick(["in", "not in"])
            return f"({self.enum_(narrowed)} {op} {chosen!r})"
        if choice == 6:
            container = self.pick(
                ["tags", "scores"] + (["review.issues"] if "review" in narrowed else [])
            )
            return f"({self.str_(depth, narrowed)} {self.pick(['in', 'not in'])} {container})"
        if choice == 7:
            return (
                f"({self.int_(depth, narrowed)} in {self.pick(['nums', '[1, 2, 3]', '(0, -1)'])})"
            )
        if choice == 8:
            method = self.pick(["startswith", "endswith"])
            return f"{self.str_(depth, narrowed)}.{method}({self.str_(0, narrowed)})"
        predicate = self.pick(["isdigit", "isalpha", "isalnum"])
        return self.pick(
            [f"{self.str_(depth, narrowed)}.{predicate}()", f"({self.enum_(narrowed)} == level)"]
        )


@st.composite
def guards(draw: st.DrawFn) -> str:
    text = Writer(draw).bool_(draw(st.integers(0, 4)), frozenset())
    # Deep draws can exceed the language's 200-node limit (a rejection, tested elsewhere);
    # keep generated guards well inside it so these tests exercise evaluation.
    assume(sum(isinstance(node, ast.expr) for node in ast.walk(ast.parse(text))) <= 150)
    return text


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


small_ints = st.integers(-10, 1000)
floats = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
words = st.sampled_from(WORDS)
levels = st.sampled_from(list(Level))


@st.composite
def contexts(draw: st.DrawFn) -> SimpleNamespace:
    review = SimpleNamespace(
        score=draw(floats),
        issues=SafeList(draw(st.lists(words, max_size=3))),
        notes=draw(_maybe(st.lists(words, max_size=3).map(SafeList))),
        level=draw(levels),
    )
    values = {
        "count": draw(small_ints),
        "ratio": draw(floats),
        "name": draw(words),
        "flag": draw(st.booleans()),
        "level": draw(levels),
        "maybe_n": draw(_maybe(small_ints)),
        "maybe_s": draw(_maybe(words)),
        "maybe_flag": draw(_maybe(st.booleans())),
        "tags": SafeList(draw(st.lists(words, max_size=4))),
        "nums": SafeList(draw(st.lists(small_ints, max_size=4))),
        "levels": SafeList(draw(st.lists(levels, max_size=3))),
        "scores": SafeDict(draw(st.dictionaries(st.sampled_from(KEYS), floats, max_size=3))),
        "brief": SimpleNamespace(
            topic=draw(words), audience=draw(levels), max_words=draw(small_ints)
        ),
        "review": draw(st.none() | st.just(review)),
    }
    assert set(values) == set(FIELDS)
    return SimpleNamespace(**values)


visit_counts = st.dictionaries(st.sampled_from(STATES), st.integers(0, 5))
CPYTHON_BUILTINS = {"len": len, "abs": abs, "min": min, "max": max}


def cpython(text: str, context: SimpleNamespace, steps: int, visits: dict[str, int]) -> object:
    names = dict(vars(context))
    names["steps"] = steps
    names["visits"] = SimpleNamespace(**{state: visits.get(state, 0) for state in STATES})
    return eval(
        text, {"__builtins__": CPYTHON_BUILTINS}, names
    )  # the test oracle, on generated text


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=guards(),
    context=contexts(),
    steps=st.integers(0, 50),
    visits=visit_counts,
)
def test_compiled_interpreted_and_cpython_agree(
    text: str, context: SimpleNamespace, steps: int, visits: dict[str, int]
) -> None:
    """Every generated well-typed guard checks, and all three evaluations give the same bool."""
    checked, guard = build_guard(text, SPAN, ENV)
    expected = cpython(text, context, steps, visits)
    compiled = guard(context, steps, visits)
    interpreted = interpret(checked.expr, context, steps, visits)
    assert type(expected) is bool
    assert compiled is expected
    assert interpreted is expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=guards())
def test_rendering_a_guard_round_trips(text: str) -> None:
    """The canonical rendering parses back to a tree that renders identically."""
    rendered = n.render(parse_guard(text, SPAN))
    assert n.render(parse_guard(rendered, SPAN)) == rendered
