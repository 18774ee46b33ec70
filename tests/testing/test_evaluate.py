"""Evaluator: contexts assembled from held values are the contexts built from scratch."""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from fsm.errors import ContractError
from fsm.spec.validate import checked_from_text
from fsm.testing.contexts import RoutingCase, focused_routing_cases, routing_cases
from fsm.testing.evaluate import Evaluator
from fsm.testing.sweep import routing_grid

SPEC = checked_from_text(
    """
workflow: held
max_steps: 20
contracts:
  Out: {v: int, w: {type: float, min: 0, max: 1}, tags: list[str]}
context:
  a: Out?
  b: Out?
  n: {type: int, default: 3, min: 0}
  names: {type: list[str], merge: append}
  cat: {enum: [x, y]}
agents:
  worker: {input: [], output: Out}
states:
  s: {agent: worker, writes: b}
  done: {final: true}
initial: s
transitions:
  s:
    - {to: done, when: "b.v > 3 and cat == 'x'"}
    - {to: s, when: "visits.s < 3"}
    - {to: done}
""",
    "held.yaml",
)
STRATEGY, HELD = focused_routing_cases(SPEC, "s")
GRID = routing_grid(SPEC, "s", None)


def sample() -> dict[str, object]:
    """A context as the focused strategy draws them: the held objects, the read fields."""
    return {**HELD, "b": {"v": 4, "w": 0.5, "tags": ["t"]}, "cat": "x"}


EVALUATOR = Evaluator(SPEC)


def held_evaluator() -> Evaluator:
    assert GRID is not None
    EVALUATOR.hold(HELD, GRID.base_context)
    return EVALUATOR


def built(data: dict[str, object]) -> object:
    """The context checked and structured whole (nothing held), by the same classes."""
    EVALUATOR.hold()
    return EVALUATOR.context_object(data)


def test_focused_cases_share_the_held_values() -> None:
    """The fields no guard reads are held: every case carries those very objects."""
    assert set(HELD) == {"a", "n", "names"}

    @settings(max_examples=20, deadline=None)
    @given(STRATEGY)
    def shares(case: RoutingCase) -> None:
        assert all(case.context[name] is value for name, value in HELD.items())

    shares()


@settings(max_examples=150, deadline=None)
@given(STRATEGY)
def test_focused_cases_assemble_as_they_build(case: RoutingCase) -> None:
    """A drawn case's context, assembled with the held values reused, equals (field by field,
    class included) the context checked and structured whole."""
    assembled = held_evaluator().context_object(case.context)
    whole = built(dict(case.context))
    assert type(assembled) is type(whole)
    assert assembled == whole


@settings(max_examples=150, deadline=None)
@given(routing_cases(SPEC, "s"))
def test_unheld_values_assemble_as_they_build(case: RoutingCase) -> None:
    """Values that are not held (each field drawn, omissible ones sometimes left out) build
    the same context too."""
    assert held_evaluator().context_object(case.context) == built(dict(case.context))


def test_grid_cases_assemble_as_they_build() -> None:
    assert GRID is not None
    for choice in GRID.choices(200, seed=0):
        context = dict(GRID.case(choice).context)
        assert held_evaluator().context_object(context) == built(context)


@pytest.mark.parametrize(
    "change",
    [
        {"b": {"v": True, "w": 0.5, "tags": []}},  # a bool is not an int
        {"b": {"v": 1, "w": 2.0, "tags": []}},  # past the maximum
        {"n": -1},
        {"unknown": 1},
        {"cat": "z"},
    ],
)
def test_invalid_data_is_refused_with_held_values(change: dict[str, object]) -> None:
    """Data with one bad field beside held ones is refused, naming the field, as without."""
    data = {**sample(), **change}
    with pytest.raises(ContractError) as held_error:
        held_evaluator().context_object(data)
    with pytest.raises(ContractError) as built_error:
        built(data)
    assert str(held_error.value) == str(built_error.value)


def test_a_missing_required_field_is_refused_with_held_values() -> None:
    data = dict(sample())
    del data["cat"]
    with pytest.raises(ContractError, match="cat"):
        held_evaluator().context_object(data)


def test_an_invalid_value_is_never_held() -> None:
    """A held value the contract refuses is not reused: the case holding it is refused."""
    evaluator = Evaluator(SPEC)
    bad = {"v": 1, "w": 9.0, "tags": []}
    evaluator.hold({"b": bad})
    data = {**sample(), "b": bad}
    with pytest.raises(ContractError, match=r"b\.w"):
        evaluator.context_object(data)


@settings(max_examples=100, deadline=None)
@given(STRATEGY)
def test_held_values_round_trip_as_the_whole_context(case: RoutingCase) -> None:
    """The JSON round trip of an assembled context (held fields take the trip made of them
    once) equals the round trip of the context built whole."""
    evaluator = held_evaluator()
    restored = evaluator.round_trip(evaluator.context_object(case.context))
    whole = built(dict(case.context))
    assert restored == EVALUATOR.round_trip(whole)
    assert EVALUATOR.context_json(restored) == EVALUATOR.context_json(whole)


def test_a_grid_case_round_trips_as_the_whole_context() -> None:
    assert GRID is not None
    for choice in GRID.choices(100, seed=0):
        context = dict(GRID.case(choice).context)
        evaluator = held_evaluator()
        restored = evaluator.round_trip(evaluator.context_object(context))
        assert restored == EVALUATOR.round_trip(built(context))
