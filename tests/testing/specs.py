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


PLAIN = """
workflow: plain
max_steps: 20
context:
{context}
states:
  a: {{}}
  b: {{final: true}}
  c: {{final: true}}
initial: a
transitions:
  a:
    - {{to: b, when: {guard!r}}}
    - {{to: c}}
"""


def plain(guard: str, context: str = "  n: int") -> CheckedSpec:
    """A route state ``a`` going to ``b`` when ``guard`` holds, else to ``c``; ``context`` is
    the YAML of the context's fields (indented two spaces)."""
    text = PLAIN.format(context=context, guard=guard)
    return checked_from_text(text, "plain.yaml")
