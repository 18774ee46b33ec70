"""``fsm check`` (property-based routing checks) and ``fsm graph`` (state machine diagrams)."""

from __future__ import annotations

import shlex
import sys
from contextlib import closing
from pathlib import Path

import click

from fsm.cli.output import EXIT_FAILED, fail, handled, print_json
from fsm.diagram import DIAGRAM_FORMATS, DiagramFormat, TakenStep, render_diagram
from fsm.errors import SpecError
from fsm.spec.validate import load_checked
from fsm.store import open_store
from fsm.testing.routing import DEFAULT_EXAMPLES, DEFAULT_RUNS, check_routing


@click.command("check")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON report per spec.")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the search: the same seed, spec, Flow Orchestra and Hypothesis versions draw"
    " the same contexts.",
)
@click.option(
    "--examples",
    type=click.IntRange(min=1),
    default=DEFAULT_EXAMPLES,
    show_default=True,
    help="Contexts generated per routing point (state, or wait state and event).",
)
@click.option(
    "--runs",
    type=click.IntRange(min=0),
    default=DEFAULT_RUNS,
    show_default=True,
    help="Whole runs with fake agents returning arbitrary valid outputs (0 to skip).",
)
@click.option(
    "--strict", is_flag=True, help="Fail on warnings too (cycles that only the step limit ends)."
)
@handled
def check_command(
    specs: tuple[str, ...], *, as_json: bool, seed: int, examples: int, runs: int, strict: bool
) -> None:
    """Check that each SPEC routes soundly: every state's routing is total, no transition is
    shadowed, routing is deterministic, guards never raise, every state is reachable and every
    cycle is bounded. Static analysis plus a property-based search over boundary values; the
    summary says where a point's values were too many to try all. Failures print a minimal
    counterexample.

    Exit status: 0 when every property holds (warnings allowed unless --strict), 1 otherwise.
    With --json: one object for one SPEC, a list for several, each with "valid" (an invalid
    spec carries its "diagnostics" instead of a routing report).
    """
    entries: list[dict[str, object]] = []
    failed = False
    for path in specs:
        try:
            checked = load_checked(path)
        except SpecError as invalid:
            failed = True
            if as_json:
                diagnostics = [d.to_json() for d in invalid.diagnostics]
                entries.append(
                    {"path": path, "valid": False, "ok": False, "diagnostics": diagnostics}
                )
                continue
            if len(specs) == 1:
                raise
            # The first problem says what is wrong (a missing file is not an invalid spec).
            first = invalid.diagnostics[0].message if invalid.diagnostics else str(invalid)
            click.secho(
                f"{path}: {first}; `fsm validate {path}` lists every problem", fg="red", err=True
            )
            continue
        report = check_routing(checked, examples=examples, seed=seed, strict=strict, runs=runs)
        failed = failed or not report.ok
        if as_json:
            entries.append({"valid": True, **report.to_json()})
        else:
            click.secho(report.render(), fg=None if report.ok else "red")
    if as_json:
        print_json(entries[0] if len(specs) == 1 else entries)
    if failed:
        sys.exit(EXIT_FAILED)


@click.command("graph")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "diagram_format",
    type=click.Choice(DIAGRAM_FORMATS),
    default="mermaid",
    show_default=True,
    help="mermaid renders on GitHub; dot renders with Graphviz (dot -Tsvg).",
)
@click.option("--run", "run_id", metavar="RUN_ID", help="Highlight the path this run took.")
@click.option(
    "--store",
    "store_url",
    metavar="URL",
    help="Store of --run (default: $FSM_STORE, else sqlite:///<cwd>/.fsm/runs.db).",
)
@handled
def graph_command(
    spec: str, diagram_format: str, run_id: str | None, store_url: str | None
) -> None:
    """Draw SPEC's state machine: guards on edges in the order they are tried, error routes
    dashed, and with --run the states and transitions a run went through highlighted."""
    checked = load_checked(spec)
    taken: list[TakenStep] = []
    current = None
    if run_id is not None:
        with closing(open_store(store_url, cwd=Path.cwd(), existing=True)) as store:
            record = store.get_run(run_id)
            if record.workflow != checked.spec.workflow:
                fail(
                    f"run {run_id} belongs to workflow '{record.workflow}', not "
                    f"'{checked.spec.workflow}' ({spec}); draw it on its own spec: "
                    f"fsm graph {shlex.quote(record.spec_path)} --run {shlex.quote(run_id)}"
                    + (f" --store {shlex.quote(store_url)}" if store_url else "")
                )
            if record.spec_hash != checked.spec_hash:
                click.secho(
                    f"note: run {run_id} started with a different version of {spec}; "
                    "its path is drawn on the current one",
                    err=True,
                )
            for snapshot in store.history(run_id):
                if snapshot.source is None:
                    continue
                step = TakenStep(snapshot.source, snapshot.target, snapshot.rule, snapshot.event)
                taken.append(step)
            current = record.state
    chosen: DiagramFormat = "dot" if diagram_format == "dot" else "mermaid"
    click.echo(render_diagram(checked.spec, chosen, taken, current), nl=False)


def register(group: click.Group) -> None:
    group.add_command(check_command)
    group.add_command(graph_command)
