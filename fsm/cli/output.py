"""Shared CLI plumbing: JSON output, reading ``JSON|@file`` arguments, mapping errors to exits."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from contextvars import ContextVar
from pathlib import Path
from typing import NoReturn, TextIO

import click

from fsm.diagnostics import render_all
from fsm.errors import ContractError, FsmError, SpecError

EXIT_OK = 0
EXIT_FAILED = 1  # invalid spec, failed run, bad input data
EXIT_USAGE = 2  # wrong command-line usage (click uses 2 as well)


def counted(count: int, noun: str) -> str:
    """``1 step``, ``3 steps``: a count with its noun (the nouns the CLI counts are regular)."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# The command's own stdout while ``json_only_stdout`` sends everything else printed to stderr.
_json_stdout: ContextVar[TextIO | None] = ContextVar("_json_stdout", default=None)


def json_echo(text: str, *, nl: bool = True) -> None:
    """Write (part of) a ``--json`` document to the command's stdout."""
    click.echo(text, nl=nl, file=_json_stdout.get())


def print_json(data: object) -> None:
    json_echo(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, default=str))


@contextmanager
def json_only_stdout(as_json: bool) -> Iterator[None]:
    """With ``--json``, stdout carries the JSON document and nothing else: whatever else prints
    to it meanwhile (an agent's ``print()``, chatter of a library it calls) goes to stderr,
    where it cannot break the program parsing stdout."""
    if not as_json:
        yield
        return
    token = _json_stdout.set(sys.stdout)
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        _json_stdout.reset(token)


def silence_stdout() -> None:
    """Point stdout at the null device once its reader has gone (``| head -1``), so that
    later writes, and the flush at exit, do not raise ``BrokenPipeError`` again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


class _DuplicateKeyError(Exception):
    """A JSON object names a key twice; ``json`` would silently keep the last value."""


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object as a dict, refusing a repeated key (as spec files do)."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise _DuplicateKeyError(key)
        seen.add(key)
    return dict(pairs)


def read_json_argument(value: str | None, what: str) -> object:
    """Parse ``value`` as JSON, or the file it names when it starts with ``@``."""
    if value is None:
        return None
    text = value
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            # utf-8-sig: a byte order mark some editors write is dropped, as for spec files
            text = path.read_text(encoding="utf-8-sig")
        except OSError as error:
            raise click.BadParameter(
                f"cannot read {path}: {error.strerror}", param_hint=what
            ) from None
        except UnicodeDecodeError as error:
            raise click.BadParameter(
                f"cannot read {path}: not UTF-8 text (byte {error.start})", param_hint=what
            ) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    except _DuplicateKeyError as error:
        raise click.BadParameter(
            f"not usable JSON: key {error.args[0]!r} appears twice in one object (which one"
            " was meant?)",
            param_hint=what,
        ) from None
    except json.JSONDecodeError as error:
        raise click.BadParameter(
            f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})",
            param_hint=what,
        ) from None
    except ValueError as error:  # an integer beyond Python's digit limit (its hint is for code)
        reason = str(error).split(";")[0]
        raise click.BadParameter(f"not usable JSON: {reason}", param_hint=what) from None
    except RecursionError:  # the decoder recurses once per nesting level ([[[[…]]]])
        raise click.BadParameter(
            "not usable JSON: its arrays or objects are nested too deeply", param_hint=what
        ) from None


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every ``FsmError`` into a message and an exit code; users never see a traceback."""
    try:
        yield
    except SpecError as error:
        click.echo(render_all(error.diagnostics, error.sources), err=True)
        sys.exit(EXIT_FAILED)
    except ContractError as error:
        fail(f"invalid data for {error}")
    except FsmError as error:
        fail(str(error))


def handled(function: Callable[..., None]) -> Callable[..., None]:
    """Decorator form of ``user_errors`` for click commands; a command asked for JSON (its
    ``as_json`` flag, or ``output_format="json"``) also gets ``json_only_stdout``."""

    @functools.wraps(function)
    def wrapper(*args: object, **kwargs: object) -> None:
        as_json = kwargs.get("as_json") is True or kwargs.get("output_format") == "json"
        with user_errors(), json_only_stdout(as_json):
            function(*args, **kwargs)

    return wrapper
