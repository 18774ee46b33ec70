"""The ``fsm`` command group. Each command family lives in its own module and is registered here."""

from __future__ import annotations

import click

from fsm.cli import (
    check_commands,
    generate_commands,
    run_commands,
    spec_commands,
    worker_commands,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="flow-orchestra", prog_name="fsm")
def main() -> None:
    """Flow Orchestra: typed, checkable, persistent AI agent workflows.

    \b
    Typical use:
      fsm validate specs/content_pipeline.yaml     check a spec, list every problem
      fsm run specs/content_pipeline.yaml --input @specs/inputs/content_pipeline.json
      fsm history RUN_ID                           every transition of a run
    """


spec_commands.register(main)
run_commands.register(main)
check_commands.register(main)
generate_commands.register(main)
worker_commands.register(main)
