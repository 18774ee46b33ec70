"""The mutation test: ``fsm check`` flags every faulty mutant of every example spec.

Mutants are grouped by the state whose transitions they change, one test per (spec, state), so
``pytest -n`` spreads them. Every mutant is classified by the oracle and checked, none skipped.
``fsm check`` runs with fewer examples than its default: the deterministic boundary sweep
(``fsm.testing.sweep``) is what makes detection independent of the seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fsm.errors import SpecError
from fsm.spec.parse import load_spec
from fsm.spec.validate import check_spec, load_checked
from fsm.testing.routing import check_routing
from tests.mutation.mutants import mutants
from tests.mutation.oracle import Oracle

SPECS = sorted(Path(__file__).parents[2].joinpath("specs").glob("*.yaml"))
EXAMPLES = 50
"""Hypothesis examples per routing point in the mutation test (the sweep adds its grid)."""


def mutant_groups() -> list[tuple[Path, str]]:
    """(spec, state) for every state some mutant of the spec changes."""
    groups: list[tuple[Path, str]] = []
    for path in SPECS:
        for mutant in mutants(load_spec(path)):
            group = (path, group_of(mutant.name))
            if group not in groups:
                groups.append(group)
    return groups


def group_of(name: str) -> str:
    """The state a mutant changes (its name starts ``state#n``)."""
    return name.split("#", 1)[0]


GROUPS = mutant_groups()


FLAGS = {
    "incomplete": {"incomplete"},
    "shadowed": {"shadowed"},
    "unbounded": {"unbounded", "run-invariant"},
}


def oracle_faults(checked: object) -> set[str]:
    oracle = Oracle(checked)  # type: ignore[arg-type]
    faults = oracle.routing_faults()
    if oracle.reaches_step_limit():
        faults.add("unbounded")
    return faults


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_original_specs_pass(path: Path) -> None:
    """Each example spec passes ``fsm check`` and the oracle finds no routing fault in it."""
    checked = load_checked(path)
    report = check_routing(checked, runs=10)
    assert report.ok, report.render()
    assert not oracle_faults(checked) - {"unbounded"}


@pytest.mark.slow
@pytest.mark.parametrize(("path", "state"), GROUPS, ids=[f"{p.stem}-{s}" for p, s in GROUPS])
def test_every_faulty_mutant_is_flagged(path: Path, state: str) -> None:
    """Every mutant the oracle proves incomplete, shadowed or unbounded is flagged for that."""
    original = load_spec(path)
    faulty = flagged = rejected = equivalent = 0
    missed: list[str] = []
    for mutant in mutants(original):
        if group_of(mutant.name) != state:
            continue
        try:
            checked = check_spec(mutant.spec)
        except SpecError:
            rejected += 1  # `fsm check` exits 1 on an invalid spec: flagged by validation
            continue
        faults = oracle_faults(checked)
        if not faults:
            equivalent += 1
            continue
        faulty += 1
        report = check_routing(checked, examples=EXAMPLES, runs=0)
        kinds = report.kinds()
        missing = [fault for fault in faults if not FLAGS[fault] & kinds]
        if missing:
            missed.append(f"{mutant.name}: oracle {sorted(faults)}, check {sorted(kinds)}")
        else:
            flagged += 1
    score = 100.0 * flagged / faulty if faulty else 100.0
    print(
        f"\n{path.name} [{state}]: {faulty} faulty mutants, {flagged} flagged ({score:.0f}%), "
        f"{rejected} rejected by validation, {equivalent} equivalent"
    )
    assert not missed, "\n".join(missed)
