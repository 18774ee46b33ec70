"""The spec JSON Schema: valid draft 2020-12, accepts every example, rejects what parse rejects."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from fsm.errors import SpecError
from fsm.spec.jsonschema import spec_json_schema
from fsm.spec.load import load_document, read_spec_file, to_plain
from fsm.spec.parse import parse_spec

SPECS = sorted((Path(__file__).parents[2] / "specs").glob("*.yaml"))

VALID = """
workflow: w
context: {note: str}
states: {start: {}, done: {final: true}}
initial: start
transitions:
  start: [{to: done}]
"""


def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(spec_json_schema())


def schema_errors(text: str) -> list[str]:
    data = to_plain(load_document(text, "s.yaml"))
    return [error.message for error in validator().iter_errors(data)]


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    """The shipped schema itself conforms to the 2020-12 meta-schema."""
    schema = spec_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_each_call_returns_a_fresh_copy() -> None:
    """Callers may edit the returned schema without affecting the next caller."""
    first = spec_json_schema()
    first["title"] = "changed"
    assert spec_json_schema()["title"] == "Flow Orchestra workflow spec"


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_example_spec_validates(path: Path) -> None:
    """Each spec in specs/ is valid under the schema, as data loaded by our own loader."""
    _, root = read_spec_file(path)
    validator().validate(to_plain(root))


def test_the_minimal_spec_validates() -> None:
    """The smallest spec the parser accepts is accepted by the schema too."""
    assert schema_errors(VALID) == []
    parse_spec(VALID, "s.yaml")


AGENTS = VALID + "contracts: {Out: {text: str}}\n"

INVALID = {
    "missing workflow": VALID.replace("workflow: w\n", ""),
    "unknown top-level key": VALID + "contract: {}\n",
    "keyword state name": VALID.replace("start: {}", "start: {}, class: {}"),
    "underscore name": VALID.replace("context: {note: str}", "context: {_note: str}"),
    "reserved context name": VALID.replace("note: str", "steps: int"),
    "lowercase contract": VALID + "contracts: {brief: {topic: str}}\n",
    "Context contract": VALID + "contracts: {Context: {topic: str}}\n",
    "agent and final": (AGENTS + "agents: {a: {output: Out}}\n").replace(
        "start: {}", "start: {agent: a, final: true}"
    ),
    "writes without agent": VALID.replace("start: {}", "start: {writes: note}"),
    "final false": VALID.replace("done: {final: true}", "done: {final: false}"),
    "transition without to": VALID.replace("[{to: done}]", "[{when: 'steps < 1'}]"),
    "empty guard": VALID.replace("[{to: done}]", "[{to: done, when: ' '}]"),
    "unknown transition key": VALID.replace("[{to: done}]", "[{to: done, guard: x}]"),
    "type and enum": VALID.replace("note: str", "note: {type: str, enum: [a]}"),
    "field without type": VALID.replace("note: str", "note: {default: x}"),
    "merge on contract field": VALID + "contracts: {A: {x: {type: str, merge: append}}}\n",
    "unknown merge": VALID.replace("note: str", "note: {type: list[str], merge: add}"),
    "empty enum": VALID + "contracts: {Level: {enum: []}}\n",
    "duplicate enum values": VALID + "contracts: {Level: {enum: [a, a]}}\n",
    "retry zero": AGENTS + "agents: {a: {output: Out, retry: 0}}\n",
    "agent without output": AGENTS + "agents: {a: {input: [note]}}\n",
    "bad input path": AGENTS + "agents: {a: {output: Out, input: ['note..x']}}\n",
    "bad impl": AGENTS + "agents: {a: {output: Out, impl: 'agents/x.py'}}\n",
    "zero timeout": AGENTS + "agents: {a: {output: Out, timeout: 0}}\n",
    "empty wait": VALID.replace("start: {}", "start: {wait: []}"),
    "event writes without data": VALID.replace("start: {}", "start: {wait: {go: {writes: x}}}"),
    "max_steps zero": VALID + "max_steps: 0\n",
    "float version": VALID + "version: 1.5\n",
    "long state name": VALID.replace("start: {}", "start: {}, " + "s" * 101 + ": {}"),
    "long contract name": VALID + "contracts: {" + "C" * 101 + ": {topic: str}}\n",
}


@pytest.mark.parametrize("text", INVALID.values(), ids=INVALID.keys())
def test_invalid_specs_fail_the_schema_and_the_parser(text: str) -> None:
    """Each structural mistake is rejected by the schema, and the parser agrees (for that one
    reason: it reports exactly one problem)."""
    assert schema_errors(text) != []
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "s.yaml")
    assert len(caught.value.diagnostics) == 1, caught.value.diagnostics
