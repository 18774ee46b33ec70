"""The ``fsm`` command line: thin click commands over the library; errors map to exit codes."""

from fsm.cli.main import main

__all__ = ["main"]
