"""Example agents of ``research_assistant.yaml``: deterministic and offline (no network).

The searcher reads from a tiny built-in "index" keyed by the query and the call's seq, so two
searches return different sources; the fact-checker reports gaps until six sources back the
answer. A run therefore searches twice, fills one gap, and is answered. ``FSM_EXAMPLE_DELAY``
(seconds) makes every call sleep.
"""

from __future__ import annotations

import os
import re
import time
from typing import Any


def _pause() -> None:
    delay = float(os.environ.get("FSM_EXAMPLE_DELAY", "0") or 0)
    if delay > 0:
        time.sleep(delay)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "query"


def plan_research(inputs: Any, call: Any) -> dict[str, object]:
    """Queries from the question's main words; more of them for deeper research."""
    _pause()
    question = inputs.question
    words = re.findall(r"[a-zA-Z]{4,}", question.text.lower())[:6]
    count = {"quick": 1, "standard": 2, "thorough": 4}[str(question.depth)]
    topic = " ".join(words[:3]) or question.text
    queries = [topic, *(f"{topic} {w}" for w in words[3:])][: max(count, 1)]
    return {"queries": queries, "angle": f"what the evidence says about {topic}"}


def search_sources(inputs: Any, call: Any) -> dict[str, object]:
    """Two sources per search, for the open gaps first, else for the plan's queries."""
    _pause()
    queries = list(inputs.gaps[-2:]) or list(inputs.plan.queries)
    sources = []
    for index in range(2):
        query = queries[index % len(queries)]
        sources.append(
            {
                "url": f"https://example.org/{_slug(query)}/{call.seq}-{index}",
                "title": f"{query.capitalize()} (part {call.seq}.{index})",
                "excerpt": f"Findings on {query}: a measured account with numbers and caveats.",
                "relevance": round(0.9 - 0.1 * index, 2),
            }
        )
    return {"sources": sources, "exhausted": False}


def summarise(inputs: Any, call: Any) -> dict[str, object]:
    _pause()
    sources = inputs.sources
    points = [f"{s.title}: {s.excerpt}" for s in sources[:5]]
    answer = f"Based on {len(sources)} sources: {inputs.question.text.rstrip('?')} - see points."
    return {"answer": answer, "key_points": points, "cited_urls": [s.url for s in sources]}


def fact_check(inputs: Any, call: Any) -> dict[str, object]:
    """Supported once six sources back the summary; otherwise one gap to search for."""
    _pause()
    count = len(inputs.sources)
    if count >= 6:
        return {"verdict": "supported", "gaps": [], "confidence": 0.9}
    topic = inputs.plan.queries[0] if inputs.plan is not None else "the question"
    return {"verdict": "gaps", "gaps": [f"{topic} counter evidence"], "confidence": 0.55}
