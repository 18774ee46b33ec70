"""Small inline specs for the routing-check tests."""

from __future__ import annotations

from fsm.spec.checked import CheckedSpec
from fsm.spec.validate import checked_from_text

SCORING = """
workflow: scoring
max_steps: 20
contracts:
  Review:
    score: {type: float, min: 0, max: 1}
    issues: list[str]
context:
  review: Review?
agents:
  reviewer: {input: [], output: Review}
states:
  reviewing: {agent: reviewer, writes: review}
  done: {final: true}
  failed: {final: true}
initial: reviewing
transitions:
  reviewing:
{transitions}
"""

GOOD = """\
    - {to: done, when: "review.score >= 0.8"}
    - {to: reviewing, when: "len(review.issues) > 2 and visits.reviewing < 3"}
    - {to: failed}
"""


def scoring(transitions: str = GOOD) -> CheckedSpec:
    """The scoring spec with the given transitions of ``reviewing`` (YAML list items)."""
    return checked_from_text(SCORING.replace("{transitions}", transitions), "scoring.yaml")
