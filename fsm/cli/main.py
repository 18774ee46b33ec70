"""The ``fsm`` command group. Each command family lives in its own module, imported on first use.

Importing every family up front costs a third of a second (the runtime, the stores, hypothesis
for ``fsm check``) before any command starts; ``fsm validate`` needs none of it. So the group
knows which module holds each command and imports that module only when the command runs (or
when ``--help`` lists them all). ``tests/cli/test_lazy_commands.py`` checks that this table
names exactly what the modules register.
"""

from __future__ import annotations

import importlib
import os

import click

COMMAND_MODULES: dict[str, str] = {
    "validate": "fsm.cli.spec_commands",
    "schema": "fsm.cli.spec_commands",
    "contracts": "fsm.cli.spec_commands",
    "run": "fsm.cli.run_commands",
    "resume": "fsm.cli.run_commands",
    "send": "fsm.cli.run_commands",
    "fork": "fsm.cli.run_commands",
    "runs": "fsm.cli.run_commands",
    "history": "fsm.cli.run_commands",
    "show": "fsm.cli.run_commands",
    "replay": "fsm.cli.run_commands",
    "check": "fsm.cli.check_commands",
    "graph": "fsm.cli.check_commands",
    "generate": "fsm.cli.generate_commands",
    "init": "fsm.cli.generate_commands",
    "worker": "fsm.cli.worker_commands",
    "copy": "fsm.cli.copy_commands",
}
"""Command name → the module whose ``register(group)`` adds it."""


class LazyGroup(click.Group):
    """A group that imports a command's module the first time the command is looked up."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMAND_MODULES))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMAND_MODULES:
            importlib.import_module(COMMAND_MODULES[cmd_name]).register(self)
        return self.commands.get(cmd_name)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="flow-orchestra", prog_name="fsm")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Flow Orchestra: typed, checkable, persistent AI agent workflows.

    \b
    Typical use:
      fsm validate specs/content_pipeline.yaml     check a spec, list every problem
      fsm run specs/content_pipeline.yaml --input @specs/inputs/content_pipeline.json
      fsm history RUN_ID                           every transition of a run

    \b
    Exit status: 0 done; 1 failed (a run that failed, an invalid spec, a routing check or
    replay that found a problem, or another error, said on stderr); 2 wrong usage; 130 a
    worker quit by a second Ctrl-C. With --json, stdout holds the JSON document and nothing
    else, or nothing at all when an error left nothing to report (the error is on stderr);
    `fsm history --json` streams a long history, so an error partway (a corrupt record) ends
    its document unfinished, with exit 1.
    Output is colored on a terminal only, and never when NO_COLOR is set (no-color.org).
    """
    if os.environ.get("NO_COLOR"):  # the convention: set and not empty; commands inherit it
        ctx.color = False
