"""Calling an agent: attempts, backoff, timeouts, and output validation, sync and async.

An attempt fails when the agent raises, times out, or returns output that breaks its contract;
the output is validated here, before the caller can merge anything. After a failed attempt the
runtime waits ``RetryPolicy.delay(attempt)`` and tries again, up to ``attempts`` times. Each
failure that is retried is logged (logger ``fsm.runtime``, WARNING) and kept in the outcome, so
the step's record says what went wrong before the attempt it records: a flaky agent is visible
in ``fsm history`` even when its last attempt succeeded.

Timeouts (``AgentDef.timeout``): an async agent is cancelled with ``asyncio.timeout`` (and has
failed even if it catches that and returns, or blocks the event loop past its deadline). A sync
agent with a timeout runs in a daemon thread that is abandoned when the timeout passes (Python
cannot stop a thread): the attempt fails, the late result is discarded, and whatever the
function still does is its own business. A sync agent without a timeout runs inline.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

import attrs

from fsm.errors import BlockingCallInEventLoopError, ContractError
from fsm.runtime.agents import AgentCall, LoadedAgent
from fsm.values import is_text

log = logging.getLogger("fsm.runtime")

Validate = Callable[[object], tuple[object, object]]
"""Output → (instance, JSON); raises ``ContractError`` when the output breaks its contract."""


class Outcome(NamedTuple):
    """How an agent call ended: a validated output, or the last attempt's error; and the
    errors of the attempts before that one."""

    attempts: int
    output: object = None
    output_json: object = None
    error: str | None = None
    failed_attempts: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.error is None


class AgentTimeoutError(Exception):
    """An attempt took longer than the agent's timeout."""


Rebuild = Callable[[], object]
"""A fresh input record for a retry: an attempt may have changed the one it was given."""


def call_agent(
    agent: LoadedAgent,
    inputs: object,
    call: AgentCall,
    validate: Validate,
    rebuild: Rebuild | None = None,
) -> Outcome:
    """Run ``agent`` to a validated output or to its last failed attempt (blocking). Each retry
    gets ``rebuild()`` (when given) instead of the input record earlier attempts had."""
    outcome = _attempt(agent, inputs, call, validate)
    if outcome.error is None:
        return outcome  # the common case, without the retry policy's bookkeeping
    policy = agent.definition.retry
    failed: list[str] = []
    for attempt in range(2, policy.attempts + 1):
        delay = policy.delay(attempt - 1)
        failed.append(_retrying(call, outcome, delay))
        if delay > 0:
            # time.sleep raises OverflowError past ~292 years; asyncio.sleep takes any delay
            time.sleep(min(delay, threading.TIMEOUT_MAX))
        fresh = inputs if rebuild is None else rebuild()
        outcome = _attempt(agent, fresh, attrs.evolve(call, attempt=attempt), validate)
        if outcome.error is None:
            break
    return outcome._replace(failed_attempts=tuple(failed))


def _retrying(call: AgentCall, failed: Outcome, delay: float) -> str:
    """Log a failed attempt that will be retried; its error, for the step's record."""
    error = failed.error or "failed"
    log.warning("run %s seq %d: %s; retrying in %.3g s", call.run_id, call.seq, error, delay)
    return error


def _attempt(agent: LoadedAgent, inputs: object, call: AgentCall, validate: Validate) -> Outcome:
    """One attempt: the agent's validated output, or why it failed."""
    try:
        instance, data = validate(_call_sync(agent, inputs, call))
    except BlockingCallInEventLoopError:
        raise
    except (Exception, asyncio.CancelledError) as failure:  # recorded, not lost
        # Nothing can cancel a blocking call: a CancelledError here is the agent's own (a
        # task inside it was cancelled), a failure like any other.
        return Outcome(call.attempt, error=describe_failure(agent, call.attempt, failure))
    return Outcome(call.attempt, instance, data)


async def call_agent_async(
    agent: LoadedAgent,
    inputs: object,
    call: AgentCall,
    validate: Validate,
    rebuild: Rebuild | None = None,
) -> Outcome:
    """``call_agent`` for an event loop: async agents are awaited, backoff does not block."""
    outcome = await _attempt_async(agent, inputs, call, validate)
    if outcome.error is None:
        return outcome
    policy = agent.definition.retry
    failed: list[str] = []
    for attempt in range(2, policy.attempts + 1):
        delay = policy.delay(attempt - 1)
        failed.append(_retrying(call, outcome, delay))
        if delay > 0:
            await asyncio.sleep(delay)
        retry = attrs.evolve(call, attempt=attempt)
        fresh = inputs if rebuild is None else rebuild()
        outcome = await _attempt_async(agent, fresh, retry, validate)
        if outcome.error is None:
            break
    return outcome._replace(failed_attempts=tuple(failed))


async def _attempt_async(
    agent: LoadedAgent, inputs: object, call: AgentCall, validate: Validate
) -> Outcome:
    try:
        instance, data = validate(await _call_async(agent, inputs, call))
    except asyncio.CancelledError as failure:
        task = asyncio.current_task()
        if task is None or task.cancelling():
            raise  # the caller cancelled this step (or a worker lost the run's lease)
        # Nobody cancelled this task: the agent let a cancellation of its own escape (a task
        # it awaited was cancelled). Propagated, it would look like the caller's cancel, and
        # the step would be run again and again, never recorded.
        return Outcome(call.attempt, error=describe_failure(agent, call.attempt, failure))
    except Exception as failure:  # an agent may raise anything; it is recorded, not lost
        return Outcome(call.attempt, error=describe_failure(agent, call.attempt, failure))
    return Outcome(call.attempt, instance, data)


def describe_failure(
    agent: LoadedAgent, attempt: int, failure: Exception | asyncio.CancelledError
) -> str:
    """The error a failed attempt records: always text a store can write."""
    tries = agent.definition.retry.attempts
    where = f"agent '{agent.name}' failed (attempt {attempt} of {tries})"
    if isinstance(failure, ContractError):
        return f"{where}: its output breaks the contract {_message(failure)}"
    if isinstance(failure, AgentTimeoutError):
        return f"{where}: {failure}"
    if isinstance(failure, asyncio.CancelledError):
        return (
            f"{where}: a CancelledError escaped it, though nothing cancelled the step (a task or"
            f" future it awaited was cancelled){_detail(failure)}"
        )
    return f"{where}: {type(failure).__name__}: {_message(failure)}"


def _detail(failure: BaseException) -> str:
    """``: message``, or nothing for an exception without one."""
    text = _message(failure)
    return f": {text}" if text else ""


def _message(failure: BaseException) -> str:
    """``str(failure)`` as text every store can write. An agent's message may quote a model's
    reply cut inside an emoji (a lone surrogate, which UTF-8 cannot encode) or holding a NUL
    (which a PostgreSQL ``text`` column refuses): either would fail the step instead of
    recording it. A broken ``__str__`` must not take the step down either."""
    try:
        text = str(failure)
    except Exception as error:  # the agent's own exception class: anything may happen
        return f"<its message could not be read: {type(error).__name__}>"
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    if is_text(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _call_sync(agent: LoadedAgent, inputs: object, call: AgentCall) -> object:
    timeout = agent.definition.timeout
    if agent.is_async:
        return _run_blocking(agent.fn(inputs, call), call, timeout)
    if timeout is None:
        result = agent.fn(inputs, call)
    else:
        began = time.monotonic()
        future = _in_thread(agent, inputs, call)
        # Whether the time ran out is decided by the wait, never by the exception's type: an
        # agent's own TimeoutError (a socket or HTTP client's) is its failure, reported as is.
        if not concurrent.futures.wait((future,), timeout).done:
            raise _timed_out(timeout)
        result = future.result()
        if type(result) is not dict and inspect.isawaitable(result):  # one timeout for both
            return _run_blocking(result, call, timeout, timeout - (time.monotonic() - began))
    # a sync function that returned a coroutine (a dict, the common result, cannot be one)
    if type(result) is not dict and inspect.isawaitable(result):
        return _run_blocking(result, call, timeout)
    return result


def _run_blocking(
    awaitable: Awaitable[Any], call: AgentCall, timeout: float | None, left: float | None = None
) -> object:
    """Await an agent's coroutine from the blocking API, which cannot run inside a running
    event loop: there it is a misuse to report, not an attempt to spend."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_with_timeout(awaitable, timeout, left))
    if inspect.iscoroutine(awaitable):
        awaitable.close()  # never awaited: no "coroutine was never awaited" warning
    raise BlockingCallInEventLoopError(
        "an agent returned a coroutine to the blocking API while an event loop is running in"
        " this thread; inside async code use async_start / async_step / async_advance /"
        " async_send; this step was not recorded",
        run_id=call.run_id,
    )


async def _call_async(agent: LoadedAgent, inputs: object, call: AgentCall) -> object:
    timeout = agent.definition.timeout
    if agent.is_async or timeout is None:
        result = agent.fn(inputs, call)
    else:
        began = time.monotonic()
        thread = asyncio.wrap_future(_in_thread(agent, inputs, call))
        result = await _with_timeout(thread, timeout)
        if type(result) is not dict and inspect.isawaitable(result):  # one timeout for both
            return await _with_timeout(result, timeout, timeout - (time.monotonic() - began))
    # an async agent's coroutine, or one a sync function returned (as in ``_call_sync``)
    if type(result) is not dict and inspect.isawaitable(result):
        return await _with_timeout(result, timeout)
    return result


async def _with_timeout(
    awaitable: Awaitable[Any], timeout: float | None, left: float | None = None
) -> object:
    """``awaitable`` within ``timeout`` seconds (or the ``left`` of them that an earlier part
    of the same attempt did not use); the error names the whole ``timeout``."""
    if timeout is None:
        return await awaitable
    scope = asyncio.timeout(timeout if left is None else max(left, 0.0))
    try:
        async with scope:
            result = await awaitable
    except TimeoutError:
        if scope.expired():
            raise _timed_out(timeout) from None
        raise  # the agent's own TimeoutError, not ours
    if scope.expired():  # cancelled, but it caught the cancellation and returned anyway
        raise _timed_out(timeout)
    deadline = scope.when()
    if deadline is not None and asyncio.get_running_loop().time() >= deadline:
        # It blocked the event loop past the deadline, so the timer never got to cancel it:
        # a late result all the same, discarded as a sync agent's late result is.
        raise _timed_out(timeout)
    return result


def _in_thread(
    agent: LoadedAgent, inputs: object, call: AgentCall
) -> concurrent.futures.Future[object]:
    """Run a sync agent in a daemon thread, so a hung agent never keeps the process alive."""
    future: concurrent.futures.Future[object] = concurrent.futures.Future()

    def work() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(agent.fn(inputs, call))
        except BaseException as error:  # handed to the waiting caller
            future.set_exception(error)

    threading.Thread(target=work, name=f"fsm-agent-{agent.name}", daemon=True).start()
    return future


def _timed_out(timeout: float) -> AgentTimeoutError:
    return AgentTimeoutError(f"no result within its timeout of {timeout:g} s")
