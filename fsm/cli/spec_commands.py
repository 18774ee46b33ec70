"""``fsm validate``, ``fsm schema`` and ``fsm contracts``: commands that read specs only."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.core import ParameterSource

from fsm.cli.output import EXIT_FAILED, counted, handled, print_json
from fsm.contracts.schema import json_schema as schema_of
from fsm.datatypes import EnumType, RecordType, render_type
from fsm.diagnostics import Diagnostic, render
from fsm.errors import SpecError
from fsm.spec.jsonschema import spec_json_schema
from fsm.spec.parse import load_spec
from fsm.spec.validate import ValidationResult, check_spec, validate


def _validate_file(path: str) -> tuple[ValidationResult | None, list[Diagnostic], str | None]:
    """(result, diagnostics, source); loading errors come back as diagnostics too."""
    try:
        spec = load_spec(path)
    except SpecError as error:
        return None, error.diagnostics, error.sources.get(path)
    result = validate(spec)
    return result, list(result.diagnostics), spec.source


@click.command("validate")
@click.argument("specs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json prints an object per spec with its diagnostics: the object for one SPEC, a "
    "list of them for several (a script globbing SPECS should expect either).",
)
@click.option("--json", "as_json", is_flag=True, help="The same as --format json.")
def validate_command(specs: tuple[str, ...], output_format: str, as_json: bool) -> None:
    """Check SPEC files and list every problem at once.

    Exit status: 0 when every spec is valid (warnings allowed), 1 when any has an error,
    2 on wrong usage.
    """
    if as_json:  # every other command spells it --json; a first try here should work too
        given = click.get_current_context().get_parameter_source("output_format")
        if output_format != "json" and given is not ParameterSource.DEFAULT:
            raise click.UsageError(f"--json contradicts --format {output_format}; give one")
        output_format = "json"
    reports: list[dict[str, object]] = []
    any_error = False
    for path in specs:
        result, diagnostics, source = _validate_file(path)
        errors = [d for d in diagnostics if d.severity == "error"]
        any_error = any_error or bool(errors) or result is None
        if output_format == "json":
            reports.append(
                {
                    "path": path,
                    "valid": not errors and result is not None,
                    "diagnostics": [d.to_json() for d in diagnostics],
                }
            )
            continue
        for diagnostic in diagnostics:
            click.echo(render(diagnostic, source), err=bool(errors))
        if errors:
            click.secho(f"{path}: {len(errors)} error(s)", fg="red", err=True)
        elif result is not None:
            spec = result.spec
            click.secho(
                f"{path}: valid ({counted(len(spec.states), 'state')}, "
                f"{counted(len(spec.transitions), 'transition')}, "
                f"{counted(len(spec.agents), 'agent')})",
                fg="green",
            )
    if output_format == "json":
        print_json(reports if len(reports) > 1 else reports[0])
    if any_error:
        sys.exit(EXIT_FAILED)


@click.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of the spec format (for editors and CI)."""
    print_json(spec_json_schema())


@click.command("contracts")
@click.argument("spec", type=click.Path(dir_okay=False))
@click.option("--json-schema", is_flag=True, help="Print each contract's JSON Schema instead.")
@handled
def contracts_command(spec: str, json_schema: bool) -> None:
    """List the contracts of SPEC with their fields, or export them as JSON Schema."""
    checked = check_spec(load_spec(Path(spec)))
    contracts = checked.spec.contracts
    if json_schema:
        print_json({c.name: schema_of(c.type) for c in contracts})
        return
    for contract in contracts:
        _echo_contract(contract.type)


def _echo_contract(data_type: RecordType | EnumType) -> None:
    if isinstance(data_type, EnumType):
        click.echo(f"enum {data_type.name}: {', '.join(data_type.values)}")
        return
    click.echo(f"record {data_type.name}")
    for field in data_type.fields:
        extras: list[str] = []
        if field.has_default:
            extras.append(f"default {field.default!r}")
        constraint_text = {
            "min": field.constraints.minimum,
            "max": field.constraints.maximum,
            "min_len": field.constraints.min_len,
            "max_len": field.constraints.max_len,
            "pattern": field.constraints.pattern,
        }
        extras.extend(
            f"{key} {value!r}" for key, value in constraint_text.items() if value is not None
        )
        suffix = f"  ({', '.join(extras)})" if extras else ""
        click.echo(f"  {field.name}: {render_type(field.type)}{suffix}")


def register(group: click.Group) -> None:
    for command in (validate_command, schema_command, contracts_command):
        group.add_command(command)
