"""``agents:`` → ``AgentDef`` values.

An agent reads context paths, returns a record contract, and names its implementation::

    writer:
      input: {brief: brief, review: review?}   # or a list: [brief, review?, brief.topic]
      output: Draft
      impl: agents/content_pipeline.py:write_draft     # or package.module:attribute
      retry: {attempts: 3, backoff: 0.5, multiplier: 2, max_backoff: 30}   # or just 3
      timeout: 60                                      # seconds

Only the syntax of input paths and ``impl`` is checked here: which context fields the paths
reach is the validator's job (it types them by flow), and importing ``impl`` the runtime's.
"""

from __future__ import annotations

import re

import attrs

from fsm.spec.load import LList, LMap, LNode, LScalar, describe
from fsm.spec.model import AgentDef, AgentInput, RetryPolicy
from fsm.spec.parse_base import (
    Problems,
    check_keys,
    check_name,
    description,
    entries,
    expect_int,
    expect_map,
    expect_number,
    expect_str,
    is_identifier,
    require,
)
from fsm.spec.parse_contracts import ContractTable, record_contract

AGENT_KEYS = ("input", "output", "impl", "retry", "timeout", "description")
RETRY_KEYS = ("attempts", "backoff", "multiplier", "max_backoff")

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_IMPL_MODULE = re.compile(rf"{_DOTTED}:{_DOTTED}")
_IMPL_FILE = re.compile(rf"[^:\s/\\][^:\s\\]*\.py:{_DOTTED}")


@attrs.frozen
class AgentTable:
    agents: tuple[AgentDef, ...]
    declared: frozenset[str]  # every agent name written, including ones that failed


def parse_agents(node: LNode | None, contracts: ContractTable, problems: Problems) -> AgentTable:
    if node is None:
        return AgentTable((), frozenset())
    table = expect_map(node, "a mapping of agent names to definitions", problems)
    if table is None:
        return AgentTable((), frozenset())
    agents: list[AgentDef] = []
    for _, key, value in entries(table):
        check_name(key, "agent", problems)
        agent = _parse_agent(key, value, contracts, problems)
        if agent is not None:
            agents.append(agent)
    return AgentTable(tuple(agents), frozenset(table.keys()))


def _parse_agent(
    key: LScalar, node: LNode, contracts: ContractTable, problems: Problems
) -> AgentDef | None:
    where = f"agent {key.text!r}"
    agent = expect_map(node, f"a mapping with the 'input' and 'output' of {where}", problems)
    if agent is None:
        return None
    check_keys(agent, AGENT_KEYS, where, problems)
    input_node = agent.get("input")
    inputs = () if input_node is None else _parse_inputs(input_node, where, problems)
    output_node = require(agent, "output", where, problems)
    output = None
    if output_node is not None:
        output = record_contract(output_node, "an agent's output", contracts, problems)
    impl_node = agent.get("impl")
    impl = None if impl_node is None else _parse_impl(impl_node, where, problems)
    retry_node = agent.get("retry")
    retry = RetryPolicy() if retry_node is None else _parse_retry(retry_node, where, problems)
    timeout = _parse_timeout(agent.get("timeout"), where, problems)
    if output is None or output_node is None or retry is None:
        return None
    return AgentDef(
        name=key.text,
        inputs=inputs,
        output=output.name,
        output_type=output,
        impl=impl,
        retry=retry,
        timeout=timeout,
        description=description(agent, problems),
        span=key.span,
        output_span=output_node.span,
        impl_span=None if impl_node is None else impl_node.span,
    )


def _parse_inputs(node: LNode, where: str, problems: Problems) -> tuple[AgentInput, ...]:
    """``{name: path}`` or ``[path, ...]`` (the name is then the path's last segment)."""
    inputs: list[AgentInput] = []
    if isinstance(node, LMap):
        for name, key, value in entries(node):
            named = check_name(key, "input", problems)
            item = _parse_path(name, value, problems)
            if item is not None and named:
                inputs.append(item)
        return tuple(inputs)
    if not isinstance(node, LList):
        message = f"expected the inputs of {where} as {{name: context_path}} or a list of paths"
        problems.error(node.span, f"{message}, got {describe(node)}", "spec-shape")
        return ()
    seen: dict[str, AgentInput] = {}
    for value in node.items:
        text = value.text if isinstance(value, LScalar) else ""
        item = _parse_path(text.rstrip("?").rsplit(".", 1)[-1], value, problems)
        if item is None:
            continue
        if item.name in seen:
            message = f"two inputs of {where} are named {item.name!r}"
            hint = "use the mapping form {name: path} to give them different names"
            problems.error(item.span, message, "spec-duplicate", hint)
            continue
        seen[item.name] = item
        inputs.append(item)
    return tuple(inputs)


def _parse_path(name: str, node: LNode, problems: Problems) -> AgentInput | None:
    """``brief``, ``brief.topic`` or ``review?`` (a trailing ``?`` marks an optional input)."""
    text = expect_str(node, "a context path such as 'brief' or 'brief.topic'", problems)
    if text is None:
        return None
    optional = text.endswith("?")
    segments = text.removesuffix("?").split(".")
    if not all(is_identifier(segment) for segment in segments):
        message = f"invalid context path {text!r}"
        hint = "write field names joined by '.', optionally ending in '?', e.g. 'review.score?'"
        problems.error(node.span, message, "spec-path", hint)
        return None
    return AgentInput(name, tuple(segments), optional, node.span)


def _parse_impl(node: LNode, where: str, problems: Problems) -> str | None:
    text = expect_str(node, f"the implementation of {where}", problems)
    if text is None:
        return None
    if _IMPL_MODULE.fullmatch(text) or _IMPL_FILE.fullmatch(text):
        return text
    message = f"invalid impl {text!r} for {where}"
    hint = "write 'package.module:function' or a relative 'path/to/file.py:function'"
    problems.error(node.span, message, "spec-impl", hint)
    return None


def _parse_retry(node: LNode, where: str, problems: Problems) -> RetryPolicy | None:
    """An attempt count, or a mapping with backoff settings (defaults from ``RetryPolicy``)."""
    if isinstance(node, LScalar) and isinstance(node.value, int):
        attempts = expect_int(node, "the attempts of a retry policy", problems, 1)
        return None if attempts is None else RetryPolicy(attempts=attempts)
    policy = expect_map(node, "a retry policy (attempts, or {attempts, backoff, ...})", problems)
    if policy is None:
        return None
    check_keys(policy, RETRY_KEYS, f"the retry policy of {where}", problems)
    default = RetryPolicy()
    values: dict[str, float] = {}
    ok = True
    for name, minimum in (("backoff", 0.0), ("multiplier", 1.0), ("max_backoff", 0.0)):
        value = policy.get(name)
        if value is None:
            continue
        number = expect_number(value, f"'{name}'", problems, minimum)
        ok = ok and number is not None
        values[name] = number if number is not None else 0.0
    attempts_node = policy.get("attempts")
    attempts = default.attempts
    if attempts_node is not None:
        parsed = expect_int(attempts_node, "'attempts'", problems, 1)
        ok = ok and parsed is not None
        attempts = parsed or attempts
    if not ok:
        return None
    return RetryPolicy(
        attempts=attempts,
        backoff=values.get("backoff", default.backoff),
        multiplier=values.get("multiplier", default.multiplier),
        max_backoff=values.get("max_backoff", default.max_backoff),
    )


def _parse_timeout(node: LNode | None, where: str, problems: Problems) -> float | None:
    if node is None or (isinstance(node, LScalar) and node.value is None):
        return None
    return expect_number(node, f"the timeout of {where} in seconds", problems, 0, exclusive=True)
