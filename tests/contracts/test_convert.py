"""The contract converter: strict structuring, validation of agent output, exact round trips."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fsm.contracts import build_classes, make_converter
from fsm.datatypes import (
    FLOAT,
    INT,
    STR,
    DictType,
    FieldDef,
    ListType,
    OptionalType,
    RecordType,
    named_types,
)
from fsm.errors import ContractError
from fsm.testing import values
from tests.strategies import record_types

from .examples import AUDIENCE, BRIEF, CONTEXT, DRAFT, PIPELINE, REVIEW, SETTINGS

CLASSES = build_classes([*PIPELINE, SETTINGS])
CONVERTER = make_converter(CLASSES)

GOOD_DRAFT = {"title": "T", "body": "B", "word_count": 3, "revision": 1}


def problems_of(data: object, data_type: Any, path: str) -> list[str]:
    with pytest.raises(ContractError) as caught:
        CONVERTER.structure(data, data_type, path)
    return [str(problem) for problem in caught.value.problems]


def exact(data: object) -> object:
    """Data with every scalar paired with its type, so ``1 != 1.0`` and ``True != 1``."""
    if isinstance(data, dict):
        return {key: exact(value) for key, value in data.items()}
    if isinstance(data, list):
        return [exact(value) for value in data]
    return (type(data), data)


@pytest.mark.parametrize(
    ("value", "got"), [(True, "True"), ("3", "'3'"), (3.7, "3.7"), (3.0, "3.0"), (None, "None")]
)
def test_int_fields_accept_only_ints(value: object, got: str) -> None:
    """No coercion into an int field: bools, digit strings and floats are refused."""
    data = {**GOOD_DRAFT, "word_count": value}
    assert problems_of(data, DRAFT, "draft") == [f"draft.word_count: expected int >= 0, got {got}"]


def test_int_in_float_field_becomes_float() -> None:
    """An int is a valid float and is stored as a float (the one documented normalisation)."""
    review = CONVERTER.structure({"score": 1, "issues": [], "notes": []}, REVIEW, "review")
    assert type(review.score) is float  # type: ignore[attr-defined]
    assert exact(CONVERTER.unstructure(review)) == exact({"score": 1.0, "issues": [], "notes": []})


def test_bool_and_str_are_not_floats() -> None:
    """A float field refuses ``True`` and ``"0.5"``."""
    data = {"score": True, "issues": ["0.5"], "notes": []}
    assert problems_of(data, REVIEW, "review") == [
        "review.score: expected float >= 0 <= 1, got True"
    ]


def test_the_documented_messages() -> None:
    """Problems carry nested paths: ``draft.word_count`` and ``review.issues[2]``."""
    assert problems_of({**GOOD_DRAFT, "word_count": -3}, DRAFT, "draft") == [
        "draft.word_count: expected int >= 0, got -3"
    ]
    review = {"score": 0.5, "issues": ["a", "b", 5], "notes": []}
    assert problems_of(review, REVIEW, "review") == ["review.issues[2]: expected str, got 5"]


def test_every_problem_is_reported_at_once() -> None:
    """Extra keys, missing fields and bad values are all collected into one error."""
    data = {"title": "", "body": "B", "word_count": -1, "extra": 1}
    with pytest.raises(ContractError) as caught:
        CONVERTER.structure({"brief": {"topic": "agents"}, "draft": data, "log": []}, CONTEXT, "")
    assert caught.value.contract == "Context"
    assert [str(p) for p in caught.value.problems] == [
        "draft.extra: expected only the fields of Draft (body, revision, title, word_count), "
        "got unknown field 'extra'",
        "draft.title: expected str with length >= 1, got ''",
        "draft.word_count: expected int >= 0, got -1",
        "draft.revision: expected int >= 1, got nothing (missing)",
    ]


def test_structure_fills_defaults_and_builds_enums() -> None:
    """Missing fields take their defaults; enum text becomes the enum member."""
    brief = CONVERTER.structure({"topic": "agents", "audience": "technical"}, BRIEF, "brief")
    assert brief == CLASSES.get("Brief")(topic="agents", audience="technical", max_words=800)
    assert brief.audience is CLASSES.get("Audience").technical  # type: ignore[attr-defined]


def test_structure_of_non_record_types() -> None:
    """Lists, dicts, optionals and enums structure as well as records do."""
    drafts = CONVERTER.structure([GOOD_DRAFT], OptionalType(ListType(DRAFT)), "drafts")
    assert drafts == [CLASSES.get("Draft")(**GOOD_DRAFT)]
    assert CONVERTER.structure(None, OptionalType(DRAFT), "draft") is None
    assert CONVERTER.structure({"a": 2}, DictType(FLOAT), "weights") == {"a": 2.0}
    assert CONVERTER.structure("general", AUDIENCE, "audience") is CLASSES.get("Audience").general  # type: ignore[attr-defined]
    with pytest.raises(ContractError, match=r"^Audience: audience: expected one of"):
        CONVERTER.structure("everyone", AUDIENCE, "audience")


def test_unstructure_gives_plain_json_data() -> None:
    """Enum members come out as plain ``str``, records as dicts with every field."""
    data = CONVERTER.unstructure(CLASSES.get("Brief")(topic="agents"))
    assert exact(data) == exact({"topic": "agents", "audience": "general", "max_words": 800})


def test_unstructure_repairs_what_validation_accepts() -> None:
    """A nested record given as data, or enum text in an instance, still unstructures."""
    context = CLASSES.get("Context")(brief={"topic": "agents"}, log=[])
    brief = {"topic": "agents", "audience": "general", "max_words": 800}
    assert exact(CONVERTER.unstructure(context)) == exact(
        {"brief": brief, "draft": None, "review": None, "decision": None, "log": []}
    )
    loose = CLASSES.get("Brief")(topic="agents", audience="technical")
    assert exact(CONVERTER.unstructure(loose)) == exact({**brief, "audience": "technical"})


def test_unstructure_reports_fields_it_cannot_read() -> None:
    """An instance holding garbage is a ContractError listing every bad field, not a crash."""
    review = CLASSES.get("Review")(score=0.5, issues=[3], notes=None)
    context = CLASSES.get("Context")(brief=CLASSES.get("Brief")(topic="x"), log=[], review=review)
    with pytest.raises(ContractError) as caught:
        CONVERTER.unstructure(context)
    assert [str(p) for p in caught.value.problems] == [
        "brief.topic: expected str with length >= 3, got 'x'",
        "review.issues[0]: expected str, got 3",
        "review.notes: expected list[str], got None",
    ]


def test_validate_accepts_instances_and_data() -> None:
    """Agents may return an instance of the output class or its JSON data."""
    draft = CLASSES.get("Draft")(**GOOD_DRAFT)
    assert CONVERTER.validate(draft, DRAFT, "writer") == draft
    assert CONVERTER.validate(GOOD_DRAFT, DRAFT, "writer") == draft


def test_validate_normalises_what_attrs_let_through() -> None:
    """An int in a float field and text in an enum field come back as float and member."""
    review = CLASSES.get("Review")(score=1, issues=[], notes=[])
    assert type(CONVERTER.validate(review, REVIEW, "review").score) is float  # type: ignore[attr-defined]
    brief = CLASSES.get("Brief")(topic="agents", audience="executive")
    checked = CONVERTER.validate(brief, BRIEF, "brief")
    assert checked.audience is CLASSES.get("Audience").executive  # type: ignore[attr-defined]


def test_validate_refuses_instances_that_break_the_contract() -> None:
    """Attrs does not check types or constraints, so validation must."""
    bad = CLASSES.get("Draft")(title="", body=None, word_count=-3, revision="1")
    with pytest.raises(ContractError) as caught:
        CONVERTER.validate(bad, DRAFT, "draft")
    assert [str(p) for p in caught.value.problems] == [
        "draft.title: expected str with length >= 1, got ''",
        "draft.body: expected str, got None",
        "draft.word_count: expected int >= 0, got -3",
        "draft.revision: expected int >= 1, got '1'",
    ]


def test_validate_refuses_instances_of_the_wrong_class() -> None:
    """A Review where a Draft is due is refused, at the top and nested, naming both classes."""
    review = CLASSES.get("Review")(score=0.5, issues=[], notes=[])
    with pytest.raises(
        ContractError,
        match=r"^Draft: writer: expected an instance of Draft .*got an instance of Review",
    ):
        CONVERTER.validate(review, DRAFT, "writer")
    brief = CLASSES.get("Brief")(topic="agents")
    context = CLASSES.get("Context")(brief=brief, draft=review, log=[])
    with pytest.raises(ContractError) as caught:
        CONVERTER.validate(context, CONTEXT, "")
    assert len(caught.value.problems) == 1
    assert caught.value.problems[0].path == "draft"


def test_validate_takes_a_member_of_the_same_enum_built_elsewhere() -> None:
    """Another build of the same contract (another Workflow of the spec, the generated
    package): its member is read by value and checked like JSON."""
    foreign = build_classes([AUDIENCE]).get("Audience").general  # type: ignore[attr-defined]
    brief = CONVERTER.validate(CLASSES.get("Brief")(topic="agents", audience=foreign), BRIEF, "b")
    assert brief.audience is CLASSES.get("Audience").general  # type: ignore[attr-defined]


def test_validate_takes_instances_of_the_same_contract_built_elsewhere() -> None:
    """Same name and fields: the values are checked as data, and a bad value is still refused;
    a same-named class with other fields is refused, saying why."""
    other_classes = build_classes([DRAFT])
    other = other_classes.get("Draft")(**GOOD_DRAFT)
    assert CONVERTER.validate(other, DRAFT, "draft") == CLASSES.get("Draft")(**GOOD_DRAFT)
    broken = other_classes.get("Draft")(**{**GOOD_DRAFT, "title": ""})
    with pytest.raises(ContractError, match=r"draft\.title"):
        CONVERTER.validate(broken, DRAFT, "draft")

    @attrs.frozen
    class Draft:  # the contract's name, other fields
        title: str

    with pytest.raises(ContractError, match="whose fields or members differ"):
        CONVERTER.validate(Draft(title="t"), DRAFT, "draft")


def test_converters_are_independent() -> None:
    """Each ``make_converter`` call configures its own cattrs converter."""
    assert make_converter(CLASSES)._engine is not make_converter(CLASSES)._engine


@settings(max_examples=60, deadline=None)
@given(values(CONTEXT))
def test_context_round_trips(data: object) -> None:
    """structure ∘ unstructure is the identity on valid context values."""
    context = CONVERTER.structure(data, CONTEXT, "")
    assert CONVERTER.structure(CONVERTER.unstructure(context), CONTEXT, "") == context
    assert CONVERTER.validate(context, CONTEXT, "") == context


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), record_types())
def test_random_contracts_round_trip(data: st.DataObject, record: RecordType) -> None:
    """For random contracts: structure/unstructure are inverse, and data comes back exactly."""
    converter = make_converter(build_classes([record]))
    value: Any = data.draw(values(record))
    instance = converter.structure(value, record, "")
    unstructured: Any = converter.unstructure(instance)
    assert converter.structure(unstructured, record, "") == instance
    assert exact(converter.unstructure(converter.structure(unstructured, record, ""))) == exact(
        unstructured
    )
    assert converter.validate(instance, record, "") == instance
    assert converter.validate(unstructured, record, "") == instance
    for field in record.fields:  # given fields survive, unless nested records gain defaults
        nested = any(isinstance(t, RecordType) for t in named_types(field.type))
        if field.name in value and not nested:
            assert exact(unstructured[field.name]) == exact(value[field.name])


def test_complete_data_round_trips_exactly() -> None:
    """Data with every field present unstructures to exactly the input, floats included."""
    record = RecordType(
        "Mixed",
        (
            FieldDef("n", INT),
            FieldDef("x", FLOAT),
            FieldDef("s", OptionalType(STR)),
            FieldDef("m", DictType(ListType(FLOAT))),
        ),
    )
    converter = make_converter(build_classes([record]))
    data = {"n": 1, "x": 2.0, "s": None, "m": {"k": [0.5, -1.0]}}
    assert exact(converter.unstructure(converter.structure(data, record, ""))) == exact(data)


def test_a_record_expected_where_other_data_is_names_it_with_its_article() -> None:
    """'an Audit object' (a vowel), 'a Draft object'; never 'a Audit object'."""
    audit = RecordType("Audit", (FieldDef("ok", INT),))
    converter = make_converter(build_classes([audit, *PIPELINE]))
    for data_type, expected in ((audit, "an Audit object"), (DRAFT, "a Draft object")):
        with pytest.raises(ContractError) as caught:
            converter.structure(3, data_type, "out")
        assert [problem.expected for problem in caught.value.problems] == [expected]


@pytest.mark.parametrize(
    ("noun", "phrase"),
    [("Answer", "an Answer"), ("Draft", "a Draft"), ("User", "a User"), ("Euro", "a Euro"),
     ("Update", "an Update"), ("Unit", "a Unit"), ("Item", "an Item"), ("OneShot", "a OneShot")],
)  # fmt: skip
def test_the_article_follows_the_sound_of_the_name(noun: str, phrase: str) -> None:
    from fsm.diagnostics import indefinite

    assert indefinite(noun) == phrase
