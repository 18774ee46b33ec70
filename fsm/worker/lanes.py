"""``Lanes``: a few threads, each running its own asyncio loop, that runs are spread over.

Why: a step awaits its agent (many runs overlap on one loop while they wait on I/O), but then
commits with a blocking store call. On PostgreSQL a commit waits for the WAL flush (milliseconds
on ordinary disks), and on one loop those waits would queue up: one process could never commit
more than one step at a time, and its heartbeats would starve. With several lanes, several
commits are in flight at once (the server flushes them together) while each lane still drives
many runs on its loop. The coordinator (claims, heartbeats, signals) stays on the caller's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Lanes:
    """``count`` daemon threads with one event loop each; coroutines are handed out in turn."""

    def __init__(self, count: int) -> None:
        if count < 1:
            raise ValueError(f"a worker needs at least one lane; got {count}")
        self._loops: list[asyncio.AbstractEventLoop] = []
        self._threads: list[threading.Thread] = []
        self._next = 0
        for index in range(count):
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_serve, args=(loop,), name=f"fsm-lane-{index}")
            thread.daemon = True
            thread.start()
            self._loops.append(loop)
            self._threads.append(thread)

    def __len__(self) -> int:
        return len(self._loops)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        """Run ``coroutine`` on the next lane; await the result on the calling loop. Cancelling
        the returned future cancels the coroutine on its lane."""
        loop = self._loops[self._next % len(self._loops)]
        self._next += 1
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, loop))

    def close(self) -> None:
        """Stop every lane's loop (after the callbacks already queued) and wait for its thread."""
        for loop in self._loops:
            loop.call_soon_threadsafe(loop.stop)
        for thread in self._threads:
            thread.join()
        self._loops.clear()
        self._threads.clear()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """A lane's thread: run the loop until stopped, then shut it down in this same thread."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
