"""A filled-in reviewer scaffold, asynchronous: the first draft is weak, the second is good."""

from __future__ import annotations

from fsm.runtime import AgentCall

from ..agents import ReviewerInput
from ..contracts import Review


async def reviewer(
    inputs: ReviewerInput,
    call: AgentCall,
) -> Review:
    """Score by revision, so the run revises exactly once before approval."""
    good = inputs.draft.revision >= 2
    return Review(
        score=0.9 if good else 0.5,
        issues=[] if good else ["too short"],
        notes=[f"revision {inputs.draft.revision} reviewed by {call.agent}"],
    )
