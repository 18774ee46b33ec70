"""The deterministic boundary sweep finds regions random search rarely reaches."""

from __future__ import annotations

from fsm.spec.checked import CheckedSpec
from fsm.spec.validate import checked_from_text
from fsm.testing import check_routing
from fsm.testing.contexts import RoutingCase
from fsm.testing.sweep import Grid, routing_grid, shrink

RARE = """
workflow: rare
max_steps: 20
contracts:
  Label:
    kind: {enum: [a, b, c, d, e, f]}
    level: {enum: [low, mid, high, top, max]}
    flag: bool
    score: {type: float, min: 0, max: 1}
context:
  label: Label?
agents:
  labeller: {input: [], output: Label}
states:
  labelling: {agent: labeller, writes: label}
  done: {final: true}
  human: {final: true}
initial: labelling
transitions:
  labelling:
    - {to: human, when: "label.level in ['high', 'top', 'max']"}
    - {to: human, when: "label.score < 0.6"}
    - {to: human, when: "label.flag"}
    - {to: done, when: "label.kind in ['a', 'b', 'c', 'd', 'e']"}
"""
"""Falls through only when kind is f, level low or mid, flag false and score >= 0.6."""


def rare() -> CheckedSpec:
    return checked_from_text(RARE, "rare.yaml")


def test_rare_fall_through_is_found_at_every_seed() -> None:
    """Only an exotic combination falls through, and the check reports it at several seeds."""
    for seed in range(3):
        report = check_routing(rare(), seed=seed, examples=50, runs=0)
        assert "incomplete" in report.kinds(), (seed, report.render())


def test_rare_counterexample_is_the_simplest_grid_case() -> None:
    """The reported context is shrunk: kind f, the simplest level, no flag, the lowest score."""
    report = check_routing(rare(), examples=50, runs=0)
    finding = next(f for f in report.findings if f.kind == "incomplete")
    assert finding.counterexample is not None
    label = finding.counterexample.context["label"]
    assert isinstance(label, dict)
    assert (label["kind"], label["level"], label["flag"], label["score"]) == (
        "f",
        "low",
        False,
        0.6,
    )


def test_grid_covers_every_member_and_the_boundary() -> None:
    """The grid of a point holds every enum member, both bools and the literal's neighbours."""
    grid = routing_grid(rare(), "labelling", None)
    assert grid is not None
    domains = dict(zip(grid.places, grid.domains, strict=True))
    assert set(domains[("context", "label", "kind")]) == {"a", "b", "c", "d", "e", "f"}
    assert set(domains[("context", "label", "flag")]) == {False, True}
    assert 0.6 in domains[("context", "label", "score")]
    assert grid.size <= 5000


def test_shrink_keeps_the_property() -> None:
    """Shrinking moves each place to its simplest value that still keeps the property."""
    grid = routing_grid(rare(), "labelling", None)
    assert grid is not None
    last = tuple(len(domain) - 1 for domain in grid.domains)
    kind = grid.places.index(("context", "label", "kind"))
    wanted = grid.domains[kind][last[kind]]

    def keeps(case: RoutingCase) -> bool:
        label = case.context["label"]
        return isinstance(label, dict) and label["kind"] == wanted

    shrunk = shrink(grid, last, keeps)
    assert shrunk[kind] == last[kind]
    assert all(index == 0 for position, index in enumerate(shrunk) if position != kind)


def test_a_sampled_grid_tries_the_diagonals_first() -> None:
    """Too large to sweep whole, a grid still tries every place at its k-th candidate at once,
    from either end, before random combinations: a region where every field sits at its edge
    together (all five enums at their last member) is found whatever the seed."""
    grid = Grid("s", None, {}, 0, {}, tuple(("context", f) for f in "abcde"), ((1, 2, 3),) * 5)
    assert grid.size == 243
    for seed in range(5):
        chosen = list(grid.choices(20, seed))
        assert len(chosen) == 20
        assert chosen[:3] == [(0,) * 5, (2,) * 5, (1,) * 5]
