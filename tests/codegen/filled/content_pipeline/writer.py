"""A filled-in writer scaffold: each revision is longer; typed against the generated code."""

from __future__ import annotations

from fsm.runtime import AgentCall

from ..agents import WriterInput
from ..contracts import Draft


def writer(
    inputs: WriterInput,
    call: AgentCall,
) -> Draft:
    """Write a draft of the brief's topic, one revision further than the previous one."""
    revision = 1 if inputs.previous is None else inputs.previous.revision + 1
    body = " ".join([inputs.brief.topic] * (20 * revision))
    return Draft(
        title=inputs.brief.topic.title(),
        body=body,
        word_count=len(body.split()),
        revision=revision,
    )
