"""``python -m fsm`` is the ``fsm`` command."""

from fsm.cli import main

if __name__ == "__main__":
    main()
