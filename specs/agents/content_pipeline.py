"""Example agents of ``content_pipeline.yaml``: deterministic and offline (no network, no model).

The writer builds a draft from the brief and, on each revision, addresses the issues of the last
review; the reviewer scores a draft with simple text metrics (length against the brief, an
example, a conclusion, the topic's words). So the first draft is revised and the third one is
approved, every time. ``FSM_EXAMPLE_DELAY`` (seconds) makes every call sleep, to give a crash
test time to kill a run mid-step.
"""

from __future__ import annotations

import os
import time
from typing import Any

_SECTIONS = (
    "why it matters",
    "how it works",
    "a worked example",
    "common pitfalls",
    "conclusion",
)


def _pause() -> None:
    delay = float(os.environ.get("FSM_EXAMPLE_DELAY", "0") or 0)
    if delay > 0:
        time.sleep(delay)


def _paragraph(topic: str, audience: str, section: str) -> str:
    tone = {
        "technical": "with the details an engineer needs",
        "executive": "in terms of cost, risk and benefit",
    }.get(audience, "in plain words")
    return (
        f"{section.capitalize()}: this part explains {topic} {tone}. It states the idea, "
        f"shows where {topic} helps and where it does not, and ends with one concrete step the "
        f"reader can take today."
    )


def write_draft(inputs: Any, call: Any) -> dict[str, object]:
    """A draft with one more section per revision, more if the review asked for them."""
    _pause()
    brief = inputs.brief
    topic, audience = brief.topic, str(brief.audience)
    previous = inputs.previous
    revision = previous.revision + 1 if previous is not None else 1
    wanted = min(revision + 2, len(_SECTIONS))
    if inputs.review is not None:
        issues = " ".join(inputs.review.issues)
        wanted = max(wanted, min(len(_SECTIONS), 3 + issues.count("missing")))
    sections = [_paragraph(topic, audience, name) for name in _SECTIONS[:wanted]]
    title = f"{topic.title()}: a guide for {audience} readers"
    body = "\n\n".join(sections)
    return {
        "title": title,
        "body": body,
        "word_count": len(body.split()),
        "revision": revision,
    }


def review_draft(inputs: Any, call: Any) -> dict[str, object]:
    """Score from 0 to 1: length against the brief, sections present, topic coverage."""
    _pause()
    draft, brief = inputs.draft, inputs.brief
    body = draft.body.lower()
    issues: list[str] = []
    score = 0.3
    target = min(brief.max_words, 250)
    if draft.word_count >= target * 0.5:
        score += 0.15
    else:
        issues.append(f"too short: {draft.word_count} words, aim for about {target}")
    for section, weight in (("a worked example", 0.2), ("conclusion", 0.2)):
        if section in body:
            score += weight
        else:
            issues.append(f"missing {section}")
    if body.count(brief.topic.lower()) >= 5:
        score += 0.1
    else:
        issues.append(f"say more about {brief.topic}")
    score = round(min(score, 1.0), 2)
    notes = [f"revision {draft.revision}: score {score:.2f}, {len(issues)} issue(s)"]
    return {"score": score, "issues": issues, "notes": notes}
