"""``fsm generate`` and ``fsm init``: thin commands over the ``codegen`` package.

``codegen`` is imported inside the commands, so ``import fsm`` never loads it (imports point
one way: ``codegen`` builds on ``fsm``, the CLI is the one place that reaches up to it).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from fsm.cli.output import EXIT_FAILED, handled

_LABELS = {
    "written": "wrote",
    "unchanged": "unchanged",
    "scaffold-written": "scaffold",
    "scaffold-kept": "kept",
    "stale": "stale",
    "missing": "missing",
    "foreign": "foreign",
}


@click.command("generate")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder of the generated Python package (created if missing).",
)
@click.option(
    "--check",
    is_flag=True,
    help=(
        "Write nothing; exit 1 listing generated files that are stale, missing or foreign"
        " (not written by fsm generate)."
    ),
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace files at generated paths that fsm did not write (scaffolds: never).",
)
@handled
def generate_command(spec: str, out_dir: str, check: bool, force: bool) -> None:
    """Generate a typed Python package from SPEC into the folder given by -o/--out.

    \b
    Generated (rewritten when the spec changes; do not edit):
      __init__.py contracts.py agents.py workflow.py spec.py test_routing.py
      agents_impl/__init__.py agents_impl/conftest.py
    Scaffolds (written once, then yours; never overwritten, even with --force):
      agents_impl/<agent>.py
    """
    from codegen.generate import generate  # noqa: PLC0415  (see the module docstring)

    report = generate(spec, out_dir, check=check, force=force)
    out = Path(out_dir)
    if check:
        stale = report.out_of_date
        for outcome in report.outcomes:
            if outcome.action in ("stale", "missing", "foreign"):
                click.echo(f"{_LABELS[outcome.action]:<9} {out / outcome.path}", err=True)
        if stale:
            command = f"fsm generate {shlex.quote(spec)} -o {shlex.quote(out_dir)}"
            if report.with_action("foreign"):
                command += (
                    " --force (foreign: a file fsm generate did not write, which it replaces"
                    " only with --force; move it away first to keep it)"
                )
            click.secho(f"{len(stale)} file(s) out of date; run: {command}", fg="red", err=True)
            sys.exit(EXIT_FAILED)
        click.secho(f"{out_dir}: up to date with {spec}", fg="green")
        return
    for outcome in report.outcomes:
        click.echo(f"{_LABELS[outcome.action]:<9} {out / outcome.path}")
    new = report.with_action("scaffold-written")
    if new:
        click.echo(f"fill in the new agent scaffold(s): {', '.join(str(out / p) for p in new)}")


@click.command("init")
@click.argument("name", type=click.Path(file_okay=False))
@handled
def init_command(name: str) -> None:
    """Create NAME/ with a minimal valid spec, its agents, an input and a README."""
    from codegen.project import init_project  # noqa: PLC0415  (see the module docstring)

    written = init_project(name)
    for path in written:
        click.echo(f"created   {path}")
    spec = written[0]
    here = Path(name).resolve() == Path.cwd().resolve()  # `fsm init .`: nowhere to cd to
    cd = "" if here else f"cd {shlex.quote(name)} && "
    click.echo(f"next: {cd}fsm run {spec.name} --input @input.json")


def register(group: click.Group) -> None:
    for command in (generate_command, init_command):
        group.add_command(command)
