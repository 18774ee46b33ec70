"""The invalid-spec gallery: one file per diagnostic kind, each with its exact expected output.

Each ``gallery/<kind>.yaml`` sits beside ``<kind>.expected`` holding the headlines
(``file:line:col: error: message (hint)``) that ``fsm validate`` must print for it, in order.
Set ``FSM_UPDATE_GOLDEN=1`` to rewrite the expectations after an intended change, then review
the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fsm.diagnostics import Diagnostic
from fsm.errors import SpecError
from fsm.spec.parse import load_spec
from fsm.spec.validate import validate

GALLERY = Path(__file__).parent / "gallery"
CASES = sorted(GALLERY.glob("*.yaml"))


def diagnostics_for(path: Path) -> list[Diagnostic]:
    try:
        spec = load_spec(path)
    except SpecError as error:
        return error.diagnostics
    return list(validate(spec).diagnostics)


def headlines(path: Path) -> str:
    lines = [d.headline().replace(str(path), path.name) for d in diagnostics_for(path)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_gallery_case_reports_exactly_its_expected_diagnostics(case: Path) -> None:
    """Each invalid spec yields exactly the expected messages at the expected positions."""
    expected_file = case.with_suffix(".expected")
    actual = headlines(case)
    if os.environ.get("FSM_UPDATE_GOLDEN"):
        expected_file.write_text(actual, encoding="utf-8")
    assert expected_file.exists(), f"missing {expected_file.name}; run with FSM_UPDATE_GOLDEN=1"
    assert actual == expected_file.read_text(encoding="utf-8")


def test_gallery_covers_every_check_kind() -> None:
    """The gallery demonstrates each diagnostic code the validator can emit at least once."""
    codes = {d.code for case in CASES for d in diagnostics_for(case)}
    required = {
        "default-not-last",
        "event-on-non-wait",
        "wait-needs-event",
        "unknown-event",
        "event-without-transition",
        "on-error-without-agent",
        "no-final-state",
        "final-outgoing",
        "dead-end",
        "unreachable-state",
        "trap-state",
        "context-flow",
        "optional-input",
        "unknown-input-field",
        "guard-forbidden",
        "guard-optional",
        "guard-syntax",
        "guard-type",
        "guard-unknown-name",
        "yaml-syntax",
        "yaml-duplicate-key",
        "yaml-too-deep",
        "spec-unknown-key",
        "spec-unknown-type",
        "spec-unknown-state",
        "spec-name",
        "spec-recursive-contract",
        "spec-default",
        "spec-merge",
        "spec-path",
        "spec-pattern",
        "reserved-contract-name",
    }
    assert required <= codes, sorted(required - codes)


def test_every_gallery_case_is_invalid() -> None:
    """No gallery file slips through validation: each has at least one error."""
    for case in CASES:
        assert any(d.severity == "error" for d in diagnostics_for(case)), case.name
