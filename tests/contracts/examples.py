"""The contracts and context of specs/content_pipeline.yaml, written out as resolved types."""

from fsm.datatypes import (
    FLOAT,
    INT,
    STR,
    Constraints,
    DictType,
    EnumType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
)

AUDIENCE = EnumType("Audience", ("general", "technical", "executive"))

BRIEF = RecordType(
    "Brief",
    (
        FieldDef("topic", STR, constraints=Constraints(min_len=3), description="What about."),
        FieldDef("audience", AUDIENCE, default="general"),
        FieldDef("max_words", INT, default=800, constraints=Constraints(minimum=50, maximum=5000)),
    ),
)

DRAFT = RecordType(
    "Draft",
    (
        FieldDef("title", STR, constraints=Constraints(min_len=1)),
        FieldDef("body", STR),
        FieldDef("word_count", INT, constraints=Constraints(minimum=0)),
        FieldDef("revision", INT, constraints=Constraints(minimum=1)),
    ),
)

REVIEW = RecordType(
    "Review",
    (
        FieldDef(
            "score",
            FLOAT,
            constraints=Constraints(minimum=0, maximum=1),
            description="Overall quality from 0 to 1.",
        ),
        FieldDef("issues", ListType(STR)),
        FieldDef("notes", ListType(STR)),
    ),
)

DECISION = RecordType(
    "Decision",
    (
        FieldDef("editor", STR, constraints=Constraints(min_len=1)),
        FieldDef("comment", STR, default=""),
    ),
)

CONTEXT = RecordType(
    "Context",
    (
        FieldDef("brief", BRIEF),
        FieldDef("draft", OptionalType(DRAFT)),
        FieldDef("review", OptionalType(REVIEW)),
        FieldDef("decision", OptionalType(DECISION)),
        FieldDef("log", ListType(STR)),
    ),
)

SETTINGS = RecordType(
    "Settings",
    (
        FieldDef("brief", BRIEF, default={"topic": "defaults"}),
        FieldDef("tags", ListType(STR), default=["a"]),
        FieldDef("weights", DictType(FLOAT), default={"x": 1}),
        FieldDef("code", STR, default="ab-1", constraints=Constraints(pattern=r"[a-z]+-\d")),
    ),
    description="A record whose defaults are mutable, to prove they are never shared.",
)

PIPELINE = (AUDIENCE, BRIEF, DRAFT, REVIEW, DECISION, CONTEXT)
