"""The context type the guard tests check against, and a matching context value."""

from __future__ import annotations

from types import SimpleNamespace

from fsm.datatypes import (
    BOOL,
    FLOAT,
    INT,
    STR,
    DataType,
    DictType,
    EnumType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
)
from fsm.diagnostics import SourceSpan
from fsm.guards import GuardEnv

LEVEL = EnumType("Level", ("low", "mid", "high"))
REVIEW = RecordType(
    "Review",
    (
        FieldDef("score", FLOAT),
        FieldDef("issues", ListType(STR)),
        FieldDef("notes", OptionalType(ListType(STR))),
        FieldDef("level", LEVEL),
    ),
)
BRIEF = RecordType(
    "Brief", (FieldDef("topic", STR), FieldDef("audience", LEVEL), FieldDef("max_words", INT))
)
FIELDS: dict[str, DataType] = {
    "count": INT,
    "ratio": FLOAT,
    "name": STR,
    "flag": BOOL,
    "level": LEVEL,
    "maybe_n": OptionalType(INT),
    "maybe_s": OptionalType(STR),
    "maybe_flag": OptionalType(BOOL),
    "tags": ListType(STR),
    "nums": ListType(INT),
    "levels": ListType(LEVEL),
    "scores": DictType(FLOAT),
    "brief": BRIEF,
    "review": OptionalType(REVIEW),
}
STATES = ("drafting", "reviewing", "done")
ENV = GuardEnv(FIELDS, STATES)

COLUMN = 20
SPAN = SourceSpan("specs/test.yaml", 14, COLUMN)
"""Guards in these tests start at line 14, column 20 of a YAML file."""


def context(**overrides: object) -> SimpleNamespace:
    """A context value of the test type; keyword arguments replace fields."""
    values: dict[str, object] = {
        "count": 3,
        "ratio": 0.5,
        "name": "Draft One",
        "flag": True,
        "level": "mid",
        "maybe_n": None,
        "maybe_s": "x",
        "maybe_flag": None,
        "tags": ["a", "b"],
        "nums": [1, 2, 3],
        "levels": ["low"],
        "scores": {"clarity": 0.75},
        "brief": SimpleNamespace(topic="guards", audience="high", max_words=800),
        "review": SimpleNamespace(score=0.9, issues=[], notes=None, level="high"),
    }
    values.update(overrides)
    return SimpleNamespace(**values)
