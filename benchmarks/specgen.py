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
