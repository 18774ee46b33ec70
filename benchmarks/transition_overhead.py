"""Per-transition overhead against the SQLite floor: now a view of ``python -m benchmarks``.

Kept so ``python benchmarks/transition_overhead.py [--rounds N] [--durability normal|full]``
still works (docs/runtime.md cites it): it runs the floor and ours only, on W1-W3, through
the same harness (separate processes, interleaved, fresh databases), and prints the report.
"""

from __future__ import annotations

import argparse

from benchmarks.__main__ import run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--durability", choices=["normal", "full"], default="normal")
    args = parser.parse_args()
    run(
        [
            "--variants", "floor-json", "ours",
            "--workloads", "W1", "W2", "W3",
            "--sync", args.durability,
            "--reps", str(args.rounds),
            "--full-reps", str(args.rounds),
            "--out", "-",
        ]
    )  # fmt: skip


if __name__ == "__main__":
    main()
