"""The chaos test's agent: deterministic output after a simulated I/O wait.

``FSM_CHAOS_DELAY`` (seconds, default 0.002) is how long each call waits, as an agent waiting
on a model or an API would; workers are killed while many such calls are in flight.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any


async def tick(inputs: Any, call: Any) -> dict[str, object]:
    """One more; the mark names the step by its idempotency key."""
    await asyncio.sleep(float(os.environ.get("FSM_CHAOS_DELAY", "0.002")))
    return {
        "value": inputs.count + 1,
        "mark": f"{call.idempotency_key}:{call.state}:{inputs.job.seed * 31 % 97}",
    }
