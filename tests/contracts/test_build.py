"""Classes built from contract types: shape, defaults, enums, lookups and refusals."""

from __future__ import annotations

import enum
from typing import Any

import attrs
import pytest

from fsm.contracts import build_classes
from fsm.datatypes import INT, STR, EnumType, FieldDef, ListType, OptionalType, RecordType
from fsm.errors import ContractError

from .examples import AUDIENCE, BRIEF, CONTEXT, DRAFT, PIPELINE, REVIEW, SETTINGS

CLASSES = build_classes([*PIPELINE, SETTINGS])


def test_classes_are_frozen() -> None:
    """Assigning to a field of a contract instance fails."""
    draft = CLASSES.get("Draft")(title="t", body="b", word_count=1, revision=1)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        draft.title = "other"


def test_classes_are_keyword_only_and_slotted() -> None:
    """Fields are passed by name only, and instances carry no ``__dict__``."""
    decision_class = CLASSES.get("Decision")
    with pytest.raises(TypeError):
        decision_class("ada")
    assert not hasattr(decision_class(editor="ada"), "__dict__")


def test_fields_keep_declared_order_and_names() -> None:
    """Attrs fields appear in the order the contract declares them."""
    assert tuple(a.name for a in attrs.fields(CLASSES.get("Draft"))) == DRAFT.field_names()
    assert CLASSES.get("Draft").__name__ == "Draft"


def test_required_fields_must_be_given() -> None:
    """A field without default that is not optional is required."""
    with pytest.raises(TypeError, match="word_count"):
        CLASSES.get("Draft")(title="t", body="b", revision=1)


def test_defaults_are_structured() -> None:
    """JSON-ready defaults become values of the field's type (enum members, records, floats)."""
    brief = CLASSES.get("Brief")(topic="agents")
    assert brief.audience is CLASSES.get("Audience")("general")
    assert brief.max_words == 800
    settings = CLASSES.get("Settings")()
    assert settings.brief == CLASSES.get("Brief")(topic="defaults")
    assert settings.weights == {"x": 1.0}
    assert type(settings.weights["x"]) is float


def test_mutable_defaults_are_never_shared() -> None:
    """Each instance gets its own list, dict and nested record default."""
    first, second = CLASSES.get("Settings")(), CLASSES.get("Settings")()
    assert first == second
    assert first.tags is not second.tags
    assert first.weights is not second.weights
    assert first.brief is not second.brief
    first.tags.append("changed")
    assert second.tags == ["a"]


def test_optional_field_without_default_defaults_to_none() -> None:
    """A ``T?`` field with no declared default is ``None`` until set."""
    context = CLASSES.get("Context")(brief=CLASSES.get("Brief")(topic="agents"), log=[])
    assert (context.draft, context.review, context.decision) == (None, None, None)


def test_enums_are_str_enums() -> None:
    """Enum members are strings, so guards and code may compare them with plain text."""
    audience = CLASSES.get("Audience")
    assert issubclass(audience, enum.StrEnum)
    assert audience("technical") == "technical"
    assert [member.value for member in audience] == list(AUDIENCE.values)


def test_enum_values_that_enum_reserves_still_work() -> None:
    """Values like ``mro``, ``_x_`` or ``""`` get other member names but keep their value."""
    odd = EnumType("Odd", ("mro", "_x_", "", "member_0", "ok"))
    members: Any = build_classes([odd]).get("Odd")
    assert [member.value for member in members] == list(odd.values)
    assert members["ok"].value == "ok"


def test_nested_records_are_resolved_dependencies_first() -> None:
    """Building the context builds every contract it uses, before the context itself."""
    classes = build_classes([CONTEXT])
    assert classes.names() == ("Audience", "Brief", "Draft", "Review", "Decision", "Context")
    field_types = {a.name: a.type for a in attrs.fields(classes.get("Context"))}
    assert field_types["draft"] == classes.get("Draft") | None
    assert field_types["log"] == list[str]


def test_each_build_makes_its_own_classes() -> None:
    """There is no global registry: two builds never share classes."""
    assert build_classes([DRAFT]).get("Draft") is not build_classes([DRAFT]).get("Draft")


def test_get_unknown_name_suggests_the_closest() -> None:
    """Looking up a misspelt contract names the one that was probably meant."""
    with pytest.raises(LookupError, match="no contract named 'Reveiw'; did you mean 'Review'"):
        CLASSES.get("Reveiw")


def test_for_type_requires_the_same_definition() -> None:
    """``for_type`` finds a class by type and refuses a same-named but different type."""
    assert CLASSES.for_type(REVIEW) is CLASSES.get("Review")
    other_review = RecordType("Review", (FieldDef("score", INT),))
    with pytest.raises(LookupError, match="defined differently"):
        CLASSES.for_type(other_review)


def test_two_types_with_one_name_are_refused() -> None:
    """Two different records named alike cannot be built into one set of classes."""
    other_draft = RecordType("Draft", (FieldDef("text", STR),))
    with pytest.raises(ValueError, match="two different types are both named 'Draft'"):
        build_classes([DRAFT, other_draft])


@pytest.mark.parametrize("name", ["class", "_hidden", "not-an-identifier"])
def test_field_names_python_cannot_use_are_refused(name: str) -> None:
    """Keywords, leading underscores and non-identifiers are reported with the fix."""
    record = RecordType("Bad", (FieldDef(name, STR),))
    with pytest.raises(ValueError, match=f"Bad.{name}: a field name must be"):
        build_classes([record])


def test_invalid_default_is_a_contract_error() -> None:
    """A default that breaks its own field's constraints is reported with its path."""
    record = RecordType("Bad", (FieldDef("tags", ListType(STR), default=["a", 5]),))
    with pytest.raises(ContractError, match=r"Bad.tags\[1\]: expected str, got 5"):
        build_classes([record])


def test_provided_classes_are_used_when_they_match() -> None:
    """Existing (generated) classes replace built ones, and records using them refer to them."""

    @attrs.frozen(kw_only=True)
    class Brief:
        topic: str
        audience: str = "general"
        max_words: int = 800

    classes = build_classes([CONTEXT], provided={"Brief": Brief})
    assert classes.get("Brief") is Brief
    brief_field = attrs.fields(classes.get("Context")).brief
    assert brief_field.type is Brief


def test_provided_class_that_does_not_match_is_refused() -> None:
    """A stale generated class (different fields or enum values) is reported."""

    @attrs.frozen
    class Draft:
        title: str

    with pytest.raises(ValueError, match="does not match contract 'Draft'"):
        build_classes([DRAFT], provided={"Draft": Draft})
    Audience = enum.StrEnum("Audience", ["general"])
    with pytest.raises(ValueError, match="does not match contract 'Audience'"):
        build_classes([AUDIENCE], provided={"Audience": Audience})


def test_python_type_maps_every_kind_of_type() -> None:
    """``python_type`` gives the annotation cattrs structures a type with."""
    review: Any = CLASSES.get("Review")
    assert CLASSES.python_type(OptionalType(ListType(REVIEW))) == list[review] | None
    assert CLASSES.type_of("Brief") is BRIEF
