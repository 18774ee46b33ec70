"""Small specs the runtime tests drive with agents passed from Python."""

from __future__ import annotations

from fsm.spec.checked import CheckedSpec
from fsm.spec.validate import checked_from_text

COUNTER = """
workflow: counter
max_steps: 40
contracts:
  Out: {value: int}
context:
  value: {type: int, default: 0}
  items: {type: list[int], merge: append}
agents:
  bump: {input: {value: value}, output: Out, retry: {attempts: 2}}
states:
  run: {agent: bump, writes: {value: value, items: value}}
  end: {final: true}
initial: run
transitions:
  run:
    - {to: end, when: "value >= 10", name: enough}
    - {to: run, name: again}
"""

GATED = """
workflow: gated
max_steps: 30
contracts:
  Step: {n: int, tag: str}
  Ack: {by: str}
context:
  n: {type: int, default: 0}
  tag: {type: str, default: ""}
  tags: {type: list[str], merge: append}
  ack: Ack?
agents:
  worker:
    input: {n: n}
    output: Step
    retry: {attempts: 3}
states:
  working: {agent: worker, writes: {n: n, tag: tag, tags: tag}, on_error: broken}
  gate:
    wait:
      go: {data: Ack, writes: ack}
      stop: null
  done: {final: true}
  broken: {final: true}
initial: working
transitions:
  working:
    - {to: gate, when: "n >= 3", name: at_gate}
    - {to: done, when: "n >= 3 and steps >= 0", name: shadowed}
    - {to: working, name: again}
  gate:
    - {on: go, to: done, when: "ack is not None and ack.by == 'boss'", name: boss_says_go}
    - {on: go, to: working, name: back_to_work}
    - {on: stop, to: broken}
"""


def counter() -> CheckedSpec:
    return checked_from_text(COUNTER, "counter.yaml")


def gated() -> CheckedSpec:
    return checked_from_text(GATED, "gated.yaml")
