"""Example agents of ``support_triage.yaml``: deterministic and offline (no network, no model).

The classifier labels a ticket by keywords (with a confidence that grows with the evidence),
the specialists diagnose by simple rules, and the resolver writes the reply from the diagnosis
or the human decision. ``FSM_EXAMPLE_DELAY`` (seconds) makes every call sleep.
"""

from __future__ import annotations

import os
import time
from typing import Any

_KEYWORDS = {
    "billing": ("invoice", "refund", "charge", "charged", "payment", "card", "billing"),
    "technical": ("error", "crash", "bug", "outage", "down", "slow", "timeout", "api"),
    "account": ("login", "password", "sso", "permission", "seat", "plan", "account"),
}
_URGENT = ("outage", "down", "data loss", "security", "breach")
_HIGH = ("cannot", "blocked", "twice", "urgent")


def _pause() -> None:
    delay = float(os.environ.get("FSM_EXAMPLE_DELAY", "0") or 0)
    if delay > 0:
        time.sleep(delay)


def _text(ticket: Any) -> str:
    return f"{ticket.subject}\n{ticket.body}".lower()


def classify_ticket(inputs: Any, call: Any) -> dict[str, object]:
    """Category by keyword hits, priority by alarming words, confidence by the margin."""
    _pause()
    text = _text(inputs.ticket)
    hits = {name: [w for w in words if w in text] for name, words in _KEYWORDS.items()}
    ranked = sorted(hits, key=lambda name: len(hits[name]), reverse=True)
    best, runner_up = ranked[0], ranked[1]
    found = len(hits[best])
    category = best if found else "other"
    if any(word in text for word in _URGENT):
        priority = "urgent"
    elif any(word in text for word in _HIGH):
        priority = "high"
    else:
        priority = "normal"
    margin = found - len(hits[runner_up])
    confidence = round(min(0.95, 0.4 + 0.15 * found + 0.1 * margin), 2) if found else 0.3
    return {
        "category": category,
        "priority": priority,
        "confidence": max(0.0, confidence),
        "tags": sorted(hits[best])[:10],
        "summary": f"{category} ticket from {inputs.ticket.customer}: {inputs.ticket.subject}",
    }


def _diagnosis(findings: list[str], fix: str, needs_human: bool = False) -> dict[str, object]:
    return {"findings": findings, "proposed_fix": fix, "needs_human": needs_human}


def diagnose_billing(inputs: Any, call: Any) -> dict[str, object]:
    _pause()
    text = _text(inputs.ticket)
    if "twice" in text or "double" in text:
        return _diagnosis(
            ["the card was charged twice for the same invoice"],
            "refund the duplicate charge and confirm by email",
        )
    if "refund" in text:
        return _diagnosis(["refund requested"], "check the refund policy and process it")
    return _diagnosis([], "ask the customer for the invoice number", needs_human=True)


def diagnose_technical(inputs: Any, call: Any) -> dict[str, object]:
    _pause()
    text = _text(inputs.ticket)
    findings = [f"reported symptom: {word}" for word in _KEYWORDS["technical"] if word in text]
    needs_human = "data loss" in text or not findings
    return _diagnosis(findings, "reproduce on staging, then ship the fix", needs_human)


def diagnose_account(inputs: Any, call: Any) -> dict[str, object]:
    _pause()
    text = _text(inputs.ticket)
    if "password" in text or "login" in text:
        return _diagnosis(["login fails for this user"], "send a password reset link")
    return _diagnosis(["account change requested"], "apply the change after verification")


def draft_reply(inputs: Any, call: Any) -> dict[str, object]:
    """A reply from the human decision if there is one, else from the diagnosis."""
    _pause()
    name = inputs.ticket.customer
    if inputs.decision is not None:
        message = f"Hello {name}, {inputs.decision.resolution} ({inputs.decision.handler})."
        return {"message": message, "resolved": True, "follow_ups": []}
    diagnosis = inputs.diagnosis
    if diagnosis is None or not diagnosis.findings:
        return {"message": f"Hello {name}, we are looking into it.", "resolved": False}
    message = (
        f"Hello {name}, we found that {diagnosis.findings[0]}. Next step: {diagnosis.proposed_fix}."
    )
    return {"message": message, "resolved": True, "follow_ups": ["check back in 3 days"]}
