"""Generate large, valid specs for benchmarks: N agent states in a chain with guarded branches.

Each state runs one agent that writes a score; it has three transitions (two guarded, one
default), so a spec of N states has about 3·N transitions, every state is reachable, every state
can reach the final one, and every loop is bounded by a visit count.
"""

from __future__ import annotations


def generate_spec(states: int) -> str:
    lines = [
        f"workflow: generated_{states}",
        "max_steps: 100000",
        "contracts:",
        "  Score: {value: {type: float, min: 0, max: 1}, note: str}",
        "context:",
        "  score: Score?",
        "  log: {type: list[str], merge: append}",
        "agents:",
        "  scorer: {output: Score}",
        "states:",
    ]
    lines += [f"  s{i}: {{agent: scorer, writes: score}}" for i in range(states)]
    lines += ["  done: {final: true}", "initial: s0", "transitions:"]
    for i in range(states):
        nxt = f"s{i + 1}" if i + 1 < states else "done"
        back = f"s{max(i - 1, 0)}"
        lines += [
            f"  s{i}:",
            f'    - {{to: {nxt}, when: "score.value >= 0.5 and len(score.note) < 100"}}',
            f'    - {{to: {back}, when: "score.value < 0.1 and visits.s{i} < 3"}}',
            f"    - {{to: {nxt}}}",
        ]
    return "\n".join(lines) + "\n"


def generate_record_chain(states: int) -> str:
    """A chain of N agent states for ``fsm check``, whose context grows with the spec.

    State ``s{i}`` writes its own optional record field ``f{i}`` and routes on the previous
    state's record and its own (two guarded transitions forward, a back edge three states up
    capped by ``visits.s{i} < 2``, a default forward): so a spec of N states has N + 2
    context fields and N routing points, and the cost of building a routing case grows with
    the spec. States are listed in reverse flow order, which the flow analysis's fixpoint
    handles worst. These are the specs behind the figures in docs/routing-checks.md ("Cost on
    large specs").
    """
    lines = [
        f"workflow: chain_{states}",
        "version: 1",
        "max_steps: 5000",
        "contracts:",
        "  Out:",
        "    v: int",
        "    w: {type: float, min: 0, max: 1}",
        "context:",
        "  score: {type: float, min: 0, max: 1}",
        "  cat: {enum: [a, b, c, d]}",
    ]
    lines += [f"  f{i}: Out?" for i in range(states)]
    lines += ["agents:", "  worker: {input: [score], output: Out}", "states:"]
    lines += [
        f"  s{i}: {{agent: worker, writes: f{i}, on_error: fail}}" for i in reversed(range(states))
    ]
    lines += ["  fail: {final: true}", "  done: {final: true}", "initial: s0", "transitions:"]
    for i in range(states):
        forward = f"s{i + 1}" if i + 1 < states else "done"
        previous = f"f{i - 1}" if i else f"f{i}"
        lines += [
            f"  s{i}:",
            f"    - {{to: {forward}, when: \"{previous}.w >= 0.5 and cat in ['a', 'b']\"}}",
            f'    - {{to: {forward}, when: "{previous}.w < 0.5 and f{i}.v > 3"}}',
            f'    - {{to: s{max(i - 3, 0)}, when: "visits.s{i} < 2"}}',
            f"    - {{to: {forward}}}",
        ]
    return "\n".join(lines) + "\n"
