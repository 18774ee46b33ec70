"""Code generation for a 500-state spec: median wall time of ``fsm generate`` (target ≤ 2 s).

Run: ``python benchmarks/codegen_bench.py [--states 500] [--repeat 5]``. Prints the median of
the whole command path (load and check the spec, name checks, view model, render, write into a
fresh folder) and of the codegen part alone (names → view model → render, spec already
checked), with the machine and versions.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from codegen.generate import generate, render_files
from fsm.spec.validate import load_checked


def big_spec(states: int, agents: int = 50) -> str:
    """A chain of agent states with a guarded exit each, a wait state every 50 states."""
    lines = [
        "workflow: big",
        "description: A long chain of agent states, for the code generation benchmark.",
        f"max_steps: {states * 2}",
        "contracts:",
        "  Level: {enum: [low, mid, high]}",
        "  Item: {n: {type: int, min: 0}, text: {type: str, min_len: 1}, level: Level}",
        "  Approval: {by: str, note: {type: str, default: ''}}",
        "context:",
        "  item: Item",
        "  approval: Approval?",
        "  log: {type: 'list[str]', merge: append}",
        "agents:",
    ]
    for index in range(agents):
        lines.append(f"  agent_{index}: {{input: {{item: item}}, output: Item}}")
    lines.append("states:")
    for index in range(states):
        if index % 50 == 49:
            lines.append(f"  s_{index}: {{wait: {{go: {{data: Approval, writes: approval}}}}}}")
        else:
            lines.append(f"  s_{index}: {{agent: agent_{index % agents}, writes: item}}")
    lines += ["  done: {final: true}", "  failed: {final: true}", "initial: s_0", "transitions:"]
    for index in range(states):
        target = f"s_{index + 1}" if index + 1 < states else "done"
        if index % 50 == 49:
            lines.append(f"  s_{index}: [{{on: go, to: {target}}}]")
        else:
            guard = f"item.n < {1000 + index} and visits.s_{index} < 3"
            lines.append(f'  s_{index}: [{{to: {target}, when: "{guard}"}}, {{to: failed}}]')
    return "\n".join(lines) + "\n"


def median_seconds(action: object, repeat: int) -> float:
    assert callable(action)
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--states", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        spec = Path(folder) / "big.yaml"
        spec.write_text(big_spec(options.states), encoding="utf-8")
        counter = iter(range(10**6))

        def whole() -> None:
            generate(spec, Path(folder) / f"out_{next(counter)}")

        checked = load_checked(spec)

        def codegen_only() -> None:
            render_files(checked, "../big.yaml")

        files = render_files(checked, "../big.yaml")
        total = median_seconds(whole, options.repeat)
        render = median_seconds(codegen_only, options.repeat)
    size = sum(len(f.text) for f in files)
    print(f"codegen benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(f"machine: {platform.machine()} {platform.processor() or ''} {platform.system()}")
    print(f"python {sys.version.split()[0]}")
    print(f"spec: {options.states} states, 50 agents; output: {len(files)} files, {size:,} chars")
    print(f"fsm generate (load + check + codegen + write): median {total:.3f} s")
    print(f"codegen only (names + view model + render):    median {render:.3f} s")
    print(f"target <= 2 s: {'met' if total <= 2 else 'MISSED'}")


if __name__ == "__main__":
    main()
