"""What a worker is told (``WorkerOptions``) and what it reports when done (``WorkerReport``)."""

from __future__ import annotations

import os
from typing import Any

import attrs

from fsm.hosts import local_host


def default_worker_id() -> str:
    """``host:pid:random``: unique per process, and says where a lease holder runs (the host
    is ``fsm.hosts.local_host``: the host name, and the PID namespace inside a container)."""
    return f"{local_host()}:{os.getpid()}:{os.urandom(3).hex()}"


PARKED = "parked:"
"""Prefix of the lease owner a worker leaves on a run it parked: nobody advances such a run, so
a command (``fsm resume``, ``fsm send``) may take it over at once instead of being refused
for as long as workers keep claiming and parking it again."""


def parked_owner(worker_id: str) -> str:
    """The lease owner naming a run ``worker_id`` could not drive: ``parked:<worker id>``."""
    return f"{PARKED}{worker_id}"


def _positive(_instance: object, attribute: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value <= 0:
        raise ValueError(f"{attribute.name} must be > 0; got {value}")


def _printable(_instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    """A worker id is kept in every lease it takes (PostgreSQL ``text`` refuses a NUL) and
    shown by ``fsm runs``: printable text only."""
    if not isinstance(value, str) or not value.strip() or not value.isprintable():
        raise ValueError(f"{attribute.name} must be non-empty printable text; got {value!r}")
    if value.startswith(PARKED):  # commands would take this worker's live runs over
        raise ValueError(f"{attribute.name} must not start with {PARKED!r}; got {value!r}")


@attrs.frozen(kw_only=True)
class WorkerOptions:
    """How one worker process behaves.

    ``concurrency``: runs driven at once (each is an asyncio task; agents that wait on I/O
    overlap). ``lanes``: threads the runs are spread over, each with its own loop, so that
    several commits can wait on the database at once (see ``fsm.worker.lanes``).
    ``lease_seconds``: how long a claim lasts without a heartbeat; a dead worker's runs are
    taken over this long after its last heartbeat (heartbeats go out every third of it).
    ``max_runs``: stop after claiming this many runs (None: no limit). ``idle_exit``: stop
    after this many seconds with no run to drive (None: wait forever). ``poll_seconds``: the
    longest pause between claims while idle.
    """

    concurrency: int = attrs.field(default=8, validator=_positive)
    lanes: int = attrs.field(default=4, validator=_positive)
    lease_seconds: float = attrs.field(default=30.0, validator=_positive)
    max_runs: int | None = attrs.field(default=None, validator=_positive)
    idle_exit: float | None = attrs.field(default=None, validator=_positive)
    poll_seconds: float = attrs.field(default=0.5, validator=_positive)
    worker_id: str = attrs.field(factory=default_worker_id, validator=_printable)

    @property
    def heartbeat_seconds(self) -> float:
        return self.lease_seconds / 3


@attrs.frozen(kw_only=True)
class WorkerReport:
    """What a worker did before it stopped.

    ``claimed``: distinct runs it claimed (a parked run it claims again counts once).
    ``finished``, ``handed_back`` and ``lost`` count drives, one per claim, so a run that
    waited and was claimed again after its event counts each time (``finished`` can exceed
    ``claimed``). ``finished``: drives that went on until the run waited, completed or failed.
    ``handed_back``: drives it stopped before that (shutdown, ``max_runs`` reached mid-way is
    not one of them). ``lost``: drives another worker got ahead of (its lease had expired).
    ``parked``: runs it could not drive (spec missing or changed, unexpected error) that, read
    from the store as it reports, are still where it left them: running at the seq it parked
    them at, and leased to nobody advancing them (a run ``fsm resume`` or another worker
    finished or moved on since is not counted). Their lease is left to expire so they are
    retried later, by this worker or another.
    """

    worker_id: str
    claimed: int
    steps: int
    finished: int
    handed_back: int
    lost: int
    parked: int
