"""The lazily loaded ``fsm`` group offers exactly the commands its modules register."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click
from click.testing import CliRunner

from fsm.cli.main import COMMAND_MODULES, main


def test_the_command_table_names_what_each_module_registers() -> None:
    """Every module's ``register`` adds exactly the commands the table assigns to it."""
    for module_name in sorted(set(COMMAND_MODULES.values())):
        eager = click.Group()
        importlib.import_module(module_name).register(eager)
        expected = {name for name, module in COMMAND_MODULES.items() if module == module_name}
        assert set(eager.commands) == expected, module_name


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    listed = {
        line.split()[0] for line in result.output.split("Commands:")[1].splitlines() if line.strip()
    }
    assert listed == set(COMMAND_MODULES)


def test_validate_does_not_import_the_runtime_or_hypothesis() -> None:
    """``fsm validate`` starts without loading what only other commands need."""
    code = (
        "import sys\n"
        "from fsm.cli.main import main\n"
        "try:\n"
        "    main(['validate', 'specs/content_pipeline.yaml'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = [m for m in ('fsm.runtime', 'fsm.store', 'hypothesis') if m in sys.modules]\n"
        "print('loaded:' + ','.join(loaded))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "loaded:"


def test_every_option_of_every_command_says_what_it_does() -> None:
    """`fsm COMMAND --help` describes each option (`fsm runs --limit` had no text), and the
    group's help says what the exit statuses mean."""
    context = click.Context(main)
    undescribed = [
        f"fsm {name} {param.opts[0]}"
        for name in sorted(COMMAND_MODULES)
        for param in main.get_command(context, name).params  # type: ignore[union-attr]
        if isinstance(param, click.Option) and not param.help
    ]
    assert undescribed == []
    assert "Exit status: 0 done; 1 failed" in CliRunner().invoke(main, ["--help"]).stdout
