"""`fsm validate`, `fsm schema` and `fsm contracts` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from fsm.cli import main

SPECS = sorted(Path("specs").glob("*.yaml"))
GALLERY = Path("tests/spec/gallery")


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_validate_accepts_every_example_spec() -> None:
    """`fsm validate specs/*.yaml` exits 0 and says each spec is valid."""
    code, out, _ = invoke("validate", *map(str, SPECS))
    assert code == 0
    assert out.count(": valid (") == len(SPECS) >= 3


def test_validate_lists_every_problem_with_source_and_caret() -> None:
    """An invalid spec exits 1; each error is file:line:col, then the line and a caret."""
    code, _, err = invoke("validate", str(GALLERY / "unknown_input_field.yaml"))
    assert code == 1
    lines = err.splitlines()
    assert lines[0].endswith(
        "unknown_input_field.yaml:9:27: error: input 'topic' reads 'brief.topc', but 'brief' "
        "has no field 'topc' (did you mean 'topic'?)"
    )
    assert lines[1] == "      writer: {input: {topic: brief.topc, extra: breif}, output: Draft}"
    assert lines[2] == "                              ^~~~~~~~~~"
    assert "2 error(s)" in lines[-1]


def test_validate_json_format_reports_positions_and_codes() -> None:
    """--format json gives one object per spec with machine-readable diagnostics."""
    code, out, _ = invoke("validate", "--format", "json", str(GALLERY / "dead_end.yaml"))
    assert code == 1
    report = json.loads(out)
    assert report["valid"] is False
    (diagnostic,) = report["diagnostics"]
    assert (diagnostic["line"], diagnostic["column"], diagnostic["code"]) == (6, 3, "dead-end")


def test_validate_json_flag_is_the_json_format() -> None:
    """`--json`, as every other command spells it, prints what `--format json` prints."""
    spec = str(GALLERY / "dead_end.yaml")
    assert invoke("validate", "--json", spec) == invoke("validate", "--format", "json", spec)
    code, out, _ = invoke("validate", "--json", str(SPECS[0]))
    assert code == 0
    assert json.loads(out)["valid"] is True


def test_validate_mixed_files_fails_if_any_is_invalid() -> None:
    """One invalid spec among valid ones makes the exit status 1; valid ones still reported."""
    code, out, _ = invoke("validate", str(SPECS[0]), str(GALLERY / "dead_end.yaml"))
    assert code == 1
    assert ": valid (" in out


def test_validate_missing_file_is_a_clean_error() -> None:
    """A missing file is reported without a traceback."""
    code, out, err = invoke("validate", "no/such/spec.yaml")
    assert code == 1
    assert "Traceback" not in out + err
    assert "no/such/spec.yaml" in err


def test_validate_usage_error_exits_2() -> None:
    """No spec argument is a usage error (exit 2)."""
    code, _, _ = invoke("validate")
    assert code == 2


def test_validate_json_for_several_specs_is_a_list_in_argument_order() -> None:
    """One object per spec; several specs give a list of them (as --help says)."""
    first, second = str(SPECS[0]), str(GALLERY / "dead_end.yaml")
    code, out, _ = invoke("validate", "--format", "json", first, second)
    assert code == 1
    reports = json.loads(out)
    assert [(r["path"], r["valid"]) for r in reports] == [(first, True), (second, False)]
    _, help_text, _ = invoke("validate", "--help")
    assert "a list of them for several" in " ".join(help_text.split())


def test_schema_prints_the_spec_json_schema() -> None:
    """`fsm schema` prints a JSON Schema describing the spec's top-level keys."""
    code, out, _ = invoke("schema")
    assert code == 0
    schema = json.loads(out)
    assert {"workflow", "states", "transitions"} <= set(schema["properties"])


def test_contracts_lists_fields_and_exports_json_schema() -> None:
    """`fsm contracts` lists fields with constraints; --json-schema exports each contract."""
    code, out, _ = invoke("contracts", "specs/content_pipeline.yaml")
    assert code == 0
    assert "  max_words: int  (default 800, min 50, max 5000)" in out
    code, out, _ = invoke("contracts", "specs/content_pipeline.yaml", "--json-schema")
    assert code == 0
    schemas = json.loads(out)
    assert schemas["Review"]["properties"]["score"]["maximum"] == 1
    assert schemas["Review"]["additionalProperties"] is False


def test_a_mistake_in_an_aliased_value_is_reported_once(tmp_path: Path) -> None:
    """An alias (*g) repeats its anchor's value, mistake and position included: the mistake is
    listed once, at the anchor, not once per use."""
    spec = tmp_path / "alias.yaml"
    spec.write_text(
        "workflow: alias\n"
        "context:\n"
        "  note: str\n"
        "states:\n"
        "  start: {}\n"
        "  a: {final: true}\n"
        "  b: {final: true}\n"
        "  c: {final: true}\n"
        "initial: start\n"
        "transitions:\n"
        "  start:\n"
        "    - {to: a, when: &g \"note == 'x' and nte == 'y'\"}\n"
        "    - {to: b, when: *g}\n"
        "    - {to: c}\n"
    )
    code, _, err = invoke("validate", str(spec))
    assert code == 1
    assert err.count("unknown name 'nte'") == 1
    assert err.splitlines()[-1].endswith(": 1 error(s)")


def test_no_color_turns_off_color_on_a_terminal() -> None:
    """NO_COLOR set (and not empty) means plain text even where color would be shown
    (``color=True`` stands for a terminal); unset or empty, the colors stay."""
    spec = str(SPECS[0])
    cases: list[tuple[dict[str, str | None], bool]] = [
        ({"NO_COLOR": "1"}, False),
        ({"NO_COLOR": ""}, True),
        ({"NO_COLOR": None}, True),  # unset
    ]
    for env, colored in cases:
        result = CliRunner().invoke(main, ["validate", spec], env=env, color=True)
        assert result.exit_code == 0, result.output
        assert ("\x1b[" in result.stdout) is colored, env
    for env in ({"NO_COLOR": "1"}, {"NO_COLOR": None}):  # an error, red on a terminal
        failed = CliRunner().invoke(main, ["runs", "--store", "bogus://"], env=env, color=True)
        assert failed.exit_code == 1
        assert ("\x1b[" in failed.stderr) is (env["NO_COLOR"] is None)


def test_validate_refuses_json_with_format_text() -> None:
    """--json is --format json: given with --format text, the two contradict (exit 2), rather
    than one silently winning; with --format json it agrees."""
    spec = str(SPECS[0])
    code, out, err = invoke("validate", "--format", "text", "--json", spec)
    assert (code, out) == (2, "")
    assert "--json contradicts --format text; give one" in err
    code, out, _ = invoke("validate", "--format", "json", "--json", spec)
    assert code == 0
    assert json.loads(out)["valid"] is True
