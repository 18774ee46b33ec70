"""Parsing specs: the model built from YAML, and a precise diagnostic for every mistake.

Error cases are tables of (snippet, "line:column message"); the positions were checked by
rendering each diagnostic with its caret under the offending text.
"""

from __future__ import annotations

import json
from pathlib import Path
from textwrap import dedent

import pytest

from fsm.datatypes import (
    INT,
    NO_DEFAULT,
    STR,
    DictType,
    EnumType,
    ListType,
    OptionalType,
    RecordType,
)
from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import SpecError
from fsm.spec.load import load_document, to_plain
from fsm.spec.model import DEFAULT_MAX_STEPS, RetryPolicy, Spec, WriteDef
from fsm.spec.parse import load_spec, parse_spec

SPECS = sorted((Path(__file__).parents[2] / "specs").glob("*.yaml"))

DEFAULTS = {
    "workflow": "workflow: w",
    "context": "context: {note: str}",
    "states": "states: {start: {}, done: {final: true}}",
    "initial": "initial: start",
}


def complete(snippet: str) -> str:
    """The snippet, then any required section it lacks, so its own line numbers stay put."""
    text = dedent(snippet).lstrip("\n")
    present = {line.split(":")[0] for line in text.splitlines() if line[:1].isalpha()}
    return text + "".join(f"{line}\n" for key, line in DEFAULTS.items() if key not in present)


def parse(snippet: str) -> Spec:
    return parse_spec(complete(snippet), "s.yaml")


def diagnostics(snippet: str) -> list[Diagnostic]:
    with pytest.raises(SpecError) as caught:
        parse(snippet)
    return caught.value.diagnostics


def errors(snippet: str) -> list[str]:
    """Every problem as "line:column message", in source order."""
    return [f"{d.span.line}:{d.span.column} {d.message}" for d in diagnostics(snippet)]


def only(snippet: str) -> Diagnostic:
    found = diagnostics(snippet)
    assert len(found) == 1, found
    return found[0]


# -- the example specs -------------------------------------------------------------------------


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_every_example_spec_parses(path: Path) -> None:
    """Each spec in specs/ parses; its workflow is named after its file."""
    spec = load_spec(path)
    assert spec.workflow == path.stem
    assert spec.state(spec.initial) is not None
    assert spec.source == path.read_text(encoding="utf-8")


def test_there_are_three_example_specs() -> None:
    """The content pipeline, support triage and research assistant examples all ship."""
    assert [p.stem for p in SPECS] == ["content_pipeline", "research_assistant", "support_triage"]


def summary(spec: Spec) -> object:
    """Everything a spec says, without source positions."""
    agents = [
        (a.name, [(i.name, i.path, i.optional) for i in a.inputs], a.output_type, a.impl, a.retry)
        for a in spec.agents
    ]
    events = [
        (e.name, e.data_type, [(w.field, w.source) for w in e.writes])
        for s in spec.states
        for e in s.events
    ]
    states = [
        (s.name, s.kind, s.agent, [(w.field, w.source) for w in s.writes], s.on_error)
        for s in spec.states
    ]
    transitions = [
        (t.source, t.index, t.target, t.guard, t.event, t.name) for t in spec.transitions
    ]
    context = [(f.field, f.merge) for f in spec.context]
    contracts = [c.type for c in spec.contracts]
    return (spec.workflow, spec.version, contracts, context, agents, states, events, transitions)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_json_form_of_a_spec_parses_to_the_same_spec(path: Path) -> None:
    """A spec written as JSON means exactly what its YAML form means."""
    yaml_spec = load_spec(path)
    data = to_plain(load_document(yaml_spec.source, str(path)))
    json_spec = parse_spec(json.dumps(data, indent="\t"), "spec.json")
    assert summary(json_spec) == summary(yaml_spec)


def test_content_pipeline_model_in_detail() -> None:
    """Spot checks of the model: types, defaults, writes, retry policies, guard positions."""
    spec = load_spec(SPECS[0])
    brief = spec.contract("Brief")
    assert brief is not None
    assert isinstance(brief.type, RecordType)
    audience = brief.type.field("audience")
    assert audience is not None
    assert audience.type == EnumType("Audience", ("general", "technical", "executive"))
    assert audience.default == "general"
    assert brief.field_spans["max_words"] == SourceSpan(str(SPECS[0]), 14, 5, 14, 14)
    log = spec.context_field("log")
    assert log is not None
    assert (log.type, log.merge, log.field.default) == (ListType(STR), "append", [])
    reviewing = spec.state("reviewing")
    assert reviewing is not None
    assert [(w.field, w.source) for w in reviewing.writes] == [("review", ()), ("log", ("notes",))]
    writer = spec.agent("writer")
    assert writer is not None
    assert writer.retry == RetryPolicy(attempts=3, backoff=0.05)
    assert [(i.name, i.path, i.optional) for i in writer.inputs] == [
        ("brief", ("brief",), False),
        ("review", ("review",), True),
        ("previous", ("draft",), True),
    ]
    revise = spec.transitions_from("reviewing")[1]
    assert revise.guard == "review.score < 0.8 and visits.drafting < 3"
    assert revise.guard_span == SourceSpan(str(SPECS[0]), 69, 29, 69, 71)


# -- top level ---------------------------------------------------------------------------------


def test_minimal_spec_and_defaults() -> None:
    """Version defaults to "1", max_steps to DEFAULT_MAX_STEPS, optional sections to empty."""
    spec = parse("")
    assert (spec.workflow, spec.version, spec.max_steps) == ("w", "1", DEFAULT_MAX_STEPS)
    assert (spec.contracts, spec.agents, spec.transitions) == ((), (), ())
    assert [s.kind for s in spec.states] == ["route", "final"]


@pytest.mark.parametrize(("text", "version"), [("3", "3"), ("'1.2'", "1.2"), ("v2", "v2")])
def test_version_is_kept_as_text(text: str, version: str) -> None:
    """An integer or string version is stored as the text written."""
    assert parse(f"version: {text}\n").version == version


def test_float_version_is_an_error() -> None:
    """`1.10` would read as 1.1, so a float version must be quoted."""
    found = only("version: 1.10\n")
    assert f"{found.span}" == "s.yaml:1:10"
    assert found.message == (
        "expected a version (an integer or a non-blank string), got the number 1.10"
    )
    assert found.hint == "quote it, e.g. version: '1.2'"


@pytest.mark.parametrize("text", ["''", "' '", "", "[1]"])
def test_a_blank_or_missing_version_is_not_told_to_quote_it(text: str) -> None:
    """Quoting helps a number YAML read as a float; an empty string is quoted already."""
    found = only(f"version: {text}\n")
    assert found.hint == "e.g. version: 1 or version: '1.2'"


def test_unknown_top_level_key_suggests_the_closest() -> None:
    """A misspelt section is reported at the key with a did-you-mean."""
    found = only("workflow: w\ncontract: {}\n")
    assert (str(found.span), found.message) == ("s.yaml:2:1", "unknown key 'contract' in the spec")
    assert found.hint == "did you mean 'contracts'?"


def test_missing_required_sections_are_all_reported() -> None:
    """workflow, context, states and initial are required; each missing one is named."""
    with pytest.raises(SpecError) as caught:
        parse_spec("description: nothing else\n", "s.yaml")
    assert [d.message for d in caught.value.diagnostics] == [
        "missing required key 'workflow' in the spec",
        "missing required key 'context' in the spec",
        "missing required key 'states' in the spec",
        "missing required key 'initial' in the spec",
    ]


def test_missing_initial_says_what_to_write() -> None:
    """A spec without 'initial' is told to add it, with a state it declares as the example."""
    text = "workflow: w\ncontext: {note: str}\nstates: {triage: {}, done: {final: true}}\n"
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "s.yaml")
    [found] = caught.value.diagnostics
    assert (str(found.span), found.message) == (
        "s.yaml:1:1",
        "missing required key 'initial' in the spec",
    )
    assert found.hint == (
        "add 'initial: triage' (or another state), naming the state every run starts in"
    )


@pytest.mark.parametrize(
    ("text", "found"), [("- a\n", "a list"), ("", "null"), ("text\n", "the string 'text'")]
)
def test_document_must_be_a_mapping(text: str, found: str) -> None:
    """A list, a scalar or an empty file is not a spec."""
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "s.yaml")
    [problem] = caught.value.diagnostics
    expected = "expected a mapping of spec sections (workflow, context, states, ...)"
    assert problem.message == f"{expected}, got {found}"
    assert problem.hint == (
        "a spec starts with 'workflow: <name>'; `fsm init NAME` writes a minimal one"
    )


def test_max_steps_must_be_a_positive_integer() -> None:
    """max_steps: 0 would stop every run before it starts."""
    assert errors("max_steps: 0\n") == [
        "1:12 expected 'max_steps' (an integer >= 1), got the integer 0"
    ]
    assert parse("max_steps: 12\n").max_steps == 12


def test_yaml_problems_are_reported_with_the_spec_problems() -> None:
    """A duplicate key does not hide the rest: it is reported along with spec mistakes."""
    assert errors("workflow: a\nworkflow: b\nmax_steps: 0\n") == [
        "2:1 duplicate key 'workflow' (first defined on line 1)",
        "3:12 expected 'max_steps' (an integer >= 1), got the integer 0",
    ]


def test_yaml_syntax_errors_stop_parsing() -> None:
    """Without a tree there is nothing to parse: the syntax error alone is reported."""
    assert [d.code for d in diagnostics("workflow: [w\n")] == ["yaml-syntax"]


def test_a_long_source_line_is_shown_around_the_problem() -> None:
    """A spec written as one long line (minified JSON) shows 160 characters around the
    span, with the caret under it, not the whole line for every problem."""
    fields = ", ".join(f'"f{i}": "str"' for i in range(50))
    text = (
        '{"workflow": "w", "context": {"bad": "strr", ' + fields + "}, "
        '"states": {"s": {"final": true}}, "initial": "s"}'
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "s.json")
    headline, shown, caret = str(caught.value).splitlines()
    assert headline.startswith("s.json:1:39: error: unknown type 'strr'")
    assert shown.startswith('    {"workflow"')
    assert shown.endswith("...")
    assert len(shown) == 4 + 160 + 3
    assert shown[caret.index("^") : caret.index("^") + 4] == "strr"
    assert caret.strip() == "^~~~"


def test_a_long_line_is_cut_on_both_sides_of_a_problem_in_its_middle() -> None:
    fields = ", ".join(f'"f{i}": "str"' for i in range(50))
    text = (
        '{"workflow": "w", "context": {'
        + fields
        + ', "bad": "strr", '
        + fields.replace('"f', '"g')
        + "}, "
        '"states": {"s": {"final": true}}, "initial": "s"}'
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(text, "s.json")
    _, shown, caret = str(caught.value).splitlines()
    assert shown.startswith("    ...")
    assert shown.endswith("...")
    assert len(shown) == 4 + 3 + 160 + 3
    assert shown[caret.index("^") : caret.index("^") + 4] == "strr"


def test_all_problems_are_collected_in_one_error() -> None:
    """Mistakes in different sections are all reported, in source order."""
    snippet = """
        workflow: w
        contracts:
          Brief: {topic: strr}
        context: {note: str, steps: int}
        states: {start: {agent: nobody}, done: {final: true}}
        initial: begin
        """
    assert errors(snippet) == [
        "3:18 unknown type 'strr' in field 'Brief.topic'",
        "4:22 context field name 'steps' is reserved",
        "5:25 unknown agent 'nobody'",
        "6:10 unknown initial state 'begin'",
    ]


def test_diagnostics_render_with_the_source_line() -> None:
    """The SpecError's text is the rendered diagnostics: headline, source line, caret."""
    with pytest.raises(SpecError) as caught:
        parse_spec(complete("states: {start: {agent: nobody}, done: {final: true}}\n"), "s.yaml")
    assert str(caught.value).splitlines() == [
        "s.yaml:1:25: error: unknown agent 'nobody' (declare it under 'agents:')",
        "    states: {start: {agent: nobody}, done: {final: true}}",
        "                            ^~~~~~",
    ]


# -- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("class", "'class' is a Python keyword"),
        ("_hidden", "names starting with '_' are reserved"),
        ("2nd", "names must be ASCII identifiers"),
        ("naïve", "names must be ASCII identifiers"),
        ("with-dash", "names must be ASCII identifiers"),
    ],
)
def test_state_names_must_be_plain_identifiers(name: str, problem: str) -> None:
    """Names become Python identifiers in generated code."""
    found = errors(f"states: {{{name}: {{}}, done: {{final: true}}}}\ninitial: done\n")
    assert found == [f"1:10 invalid state name {name!r}: {problem}"]


def test_names_longer_than_a_hundred_characters_are_refused() -> None:
    """An agent name becomes a file name (`agents_impl/<agent>.py`); 300 characters made
    `fsm generate` fail on the file system. The message shortens the name."""
    long_name = "a" * 101
    found = errors(f"contracts: {{Out: {{ok: bool}}}}\nagents:\n  {long_name}: {{output: Out}}\n")
    assert found == [
        f"3:3 invalid agent name '{'a' * 40}...{'a' * 17}': names may have at most 100 "
        "characters, this one has 101"
    ]
    assert not [e for e in errors("states: {" + "s" * 100 + ": {}}\n") if "invalid" in e]


def test_a_broken_states_section_is_one_error_not_one_per_state_name() -> None:
    """With `states:` a list, transitions and `initial` are not each reported as naming an
    unknown state (with the hint 'the states are: ' and nothing after it)."""
    found = errors("states: [start, done]\ninitial: start\ntransitions:\n  start: [{to: done}]\n")
    assert found == ["1:9 expected a mapping of state names to states, got a list"]


def test_an_unknown_state_when_there_are_none_says_to_declare_it() -> None:
    diagnostic = only("states: {}\ninitial: start\n")
    assert (diagnostic.message, diagnostic.hint) == (
        "unknown initial state 'start'",
        "declare the state under 'states:'",
    )


def test_a_null_transition_gets_no_hint_to_go_to_null() -> None:
    """`- null` (an empty list item) is not `{to: null}`; a state name is `{to: name}`."""
    snippet = "transitions:\n  start: [null, done]\n"
    hints = [d.hint for d in diagnostics(snippet)]
    assert hints == ["write {to: <state>}", "write {to: done}"]


def test_an_empty_section_is_told_how_to_write_an_empty_mapping() -> None:
    """`agents:` with nothing after it is null, not an empty mapping."""
    found = only("agents:\n")
    assert found.message == "expected a mapping of agent names to definitions, got null"
    assert found.hint == "it is empty (null); write {} for an empty mapping"


def test_yes_no_on_off_are_valid_names() -> None:
    """YAML 1.1 booleans are ordinary names here: states `on`/`off`, events `yes`/`no`."""
    spec = parse(
        """
        states:
          on: {wait: [yes, no]}
          off: {final: true}
        initial: on
        transitions:
          on: [{on: yes, to: off}, {on: no, to: on}]
        """
    )
    state = spec.state("on")
    assert state is not None
    assert ([s.name for s in spec.states], [e.name for e in state.events]) == (
        ["on", "off"],
        ["yes", "no"],
    )
    assert [(t.event, t.target) for t in spec.transitions] == [("yes", "off"), ("no", "on")]


def test_contract_names_start_uppercase() -> None:
    """A lowercase contract name is an error whose hint is the capitalised name."""
    found = only("contracts:\n  brief: {topic: str}\n")
    assert (
        found.message
        == "invalid contract name 'brief': contract names start with an uppercase letter"
    )
    assert found.hint == "rename it to 'Brief'"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("contracts:\n  Context: {a: int}\n", "2:3 'Context' is reserved for the run's context"),
        ("context: {steps: int}\n", "1:11 context field name 'steps' is reserved"),
        ("context: {visits: int}\n", "1:11 context field name 'visits' is reserved"),
    ],
)
def test_reserved_names(snippet: str, expected: str) -> None:
    """`Context` names the context record; `steps` and `visits` are guard built-ins."""
    assert errors(snippet) == [expected]


# -- contracts ---------------------------------------------------------------------------------


def test_contracts_resolve_in_any_order_to_shared_types() -> None:
    """A contract may use one declared later; both refer to the very same type value."""
    spec = parse(
        """
        contracts:
          Review: {issues: list[Issue], level: Level?}
          Issue: {text: str, line: {type: int, min: 1}}
          Level: {enum: [low, high], description: How bad.}
        """
    )
    review, issue, level = (c.type for c in spec.contracts)
    assert isinstance(review, RecordType)
    assert [f.type for f in review.fields] == [ListType(issue), OptionalType(level)]
    assert level == EnumType("Level", ("low", "high"), "How bad.")


def test_long_form_record_allows_fields_named_fields_and_description() -> None:
    """`{fields: {...}, description: ...}` is a described record; its fields may take any name."""
    spec = parse(
        """
        contracts:
          Form:
            fields: {fields: list[str], description: str}
            description: A form.
          Short: {fields: list[str], description: str}
        """
    )
    form, short = (c.type for c in spec.contracts)
    assert isinstance(form, RecordType)
    assert isinstance(short, RecordType)
    assert (form.field_names(), form.description) == (("fields", "description"), "A form.")
    assert (short.field_names(), short.description) == (("fields", "description"), "")


def test_field_spec_mapping_sets_everything() -> None:
    """type, default, description and constraints all land in the FieldDef."""
    spec = parse(
        """
        contracts:
          Brief:
            code: {type: str, pattern: "[A-Z]{3}", min_len: 3, max_len: 3, default: ABC,
                   description: A code.}
        """
    )
    [brief] = spec.contracts
    assert isinstance(brief.type, RecordType)
    [code] = brief.type.fields
    assert (code.type, code.default, code.description) == (STR, "ABC", "A code.")
    assert (code.constraints.pattern, code.constraints.min_len) == ("[A-Z]{3}", 3)


def test_inline_enum_is_named_after_contract_and_field() -> None:
    """`{enum: [...]}` on field `risk_level` of `Ticket` is the enum `TicketRiskLevel`."""
    spec = parse("contracts:\n  Ticket: {risk_level: {enum: [low, high], default: low}}\n")
    [ticket] = spec.contracts
    assert isinstance(ticket.type, RecordType)
    [field] = ticket.type.fields
    assert (field.type, field.default) == (EnumType("TicketRiskLevel", ("low", "high")), "low")


def test_inline_enum_name_clash_is_an_error() -> None:
    """An inline enum may not take the name of a declared contract."""
    snippet = "contracts:\n  TicketLevel: {enum: [a]}\n  Ticket: {level: {enum: [b]}}\n"
    assert errors(snippet) == [
        "3:12 the inline enum of field 'Ticket.level' is named 'TicketLevel', which is taken"
    ]


TYPE_HINT = "(e.g. str, list[Issue], Review?, or {type: ..., default: ...})"


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("contracts: [A]", "1:12 expected a mapping of contract names to definitions, got a list"),
        ("  A: [x]", "2:6 expected a mapping of field names to types for contract 'A', got a list"),
        ("  A: {x: 3}", f"2:10 expected a type for field 'A.x' {TYPE_HINT}, got the integer 3"),
        ("  A: {enum: []}", "2:13 the enum of enum contract 'A' has no values"),
        ("  A: {enum: [a, b, a]}", "2:20 duplicate enum value 'a'"),
        ("  A: {enum: [1, b]}", "2:14 expected an enum value (a string), got the integer 1"),
        ("  A: {enum: [a], values: [b]}", "2:18 unknown key 'values' in enum contract 'A'"),
        ("  A: {x: {type: str, enum: [a]}}", "2:22 field 'A.x' has both 'type' and 'enum'"),
        ("  A: {x: {default: x}}", "2:10 missing 'type' in field 'A.x'"),
        ("  A: {x: {type: str, mn_len: 1}}", "2:22 unknown key 'mn_len' in field 'A.x'"),
        ("  A: {x: list[Isue]}", "2:15 unknown type 'Isue' in field 'A.x'"),
        ("  A: {x: 'dict[int, float]'}",
         "2:16 invalid type 'dict[int, float]': dict keys must be str"),
        ("  A: {x: {type: int, min: 5, max: 1}}",
         "2:30 'min' (5) is greater than 'max' (1) in field 'A.x'"),
        ("  A: {x: {type: int, min: 0.5, max: 0.7}}",
         "2:32 no int lies between 'min' (0.5) and 'max' (0.7) in field 'A.x'"),
        ("  A: {x: {type: int?, min: -1.9, max: -1.1}}",
         "2:34 no int lies between 'min' (-1.9) and 'max' (-1.1) in field 'A.x'"),
        ("  A: {x: {type: str, min_len: 5, pattern: 'a{1,2}'}}",
         "2:34 pattern 'a{1,2}' only matches strings at most 2 characters long, but 'min_len' is 5"
         " in field 'A.x'"),
        ("  A: {x: {type: str?, max_len: 2, pattern: '(?:x|)abc+'}}",
         "2:35 pattern '(?:x|)abc+' only matches strings at least 3 characters long, but 'max_len'"
         " is 2 in field 'A.x'"),
        ("  A: {x: {type: str, min_len: 1, pattern: ''}}",
         "2:34 pattern '' only matches strings at most 0 characters long, but 'min_len' is 1 in"
         " field 'A.x'"),
        ("  A: {x: {type: str, min_len: 5, max_len: 1}}",
         "2:34 'min_len' (5) is greater than 'max_len' (1) in field 'A.x'"),
        ("  A: {x: {type: int, min: low}}",
         "2:27 expected a finite number within float range for 'min', got the string 'low'"),
        ("  A: {x: {type: int, max: 1" + "0" * 400 + "}}",
         "2:27 expected a finite number within float range for 'max', got the integer "
         "1000000000000000000000000000000000000000...00000000000000000"),
        ("  A: {x: {type: float, min: .nan}}",
         "2:29 expected a finite number within float range for 'min', got the number .nan"),
        ("  A: {x: {type: float, default: 1" + "0" * 400 + "}}",
         "2:33 the default of field 'A.x' does not fit its type: expected float (finite, within"
         " float range), got 100000000000000000000000000000000000000000000000000000000..."),
        ("  A: {x: {type: str, min_len: -1}}",
         "2:31 expected 'min_len' (an integer >= 0), got the integer -1"),
        ("  A: {x: {type: str, pattern: '[a-z'}}",
         "2:32 invalid pattern '[a-z': unterminated character set"),
        ("  A: {x: {type: str, min: 1}}", "2:22 'min' does not apply to field 'A.x' of type str"),
        ("  A: {x: {type: int, pattern: x}}",
         "2:22 'pattern' does not apply to field 'A.x' of type int"),
        ("  A: {x: {type: bool, max_len: 2}}",
         "2:23 'max_len' does not apply to field 'A.x' of type bool"),
        ("  A: {x: {type: int, min: 5, default: 1}}",
         "2:39 the default of field 'A.x' does not fit its type: expected int >= 5, got 1"),
        ("  A: {x: {type: list[int], default: [1, x]}}",
         "2:37 the default of field 'A.x' does not fit its type: [1]: expected int, got 'x'"),
        ("  A: {x: A?}", "2:7 recursive contract: A → A"),
    ],
)  # fmt: skip
def test_contract_errors(snippet: str, expected: str) -> None:
    """Each contract mistake is one diagnostic at the offending text."""
    text = snippet if snippet.startswith("contracts") else f"contracts:\n{snippet}"
    assert errors(text + "\n") == [expected]


def test_patterns_and_length_bounds_that_overlap_are_accepted() -> None:
    """Only bounds no match can meet are refused: `abc+` within 3 characters and `a|bbbbbb`
    between 2 and 6 characters are fine."""
    spec = parse(
        "contracts:\n  A:\n    x: {type: str, max_len: 3, pattern: 'abc+'}\n"
        "    y: {type: str, min_len: 2, max_len: 6, pattern: 'a|bbbbbb'}\n"
    )
    assert [c.name for c in spec.contracts] == ["A"]


def test_recursive_contracts_name_the_cycle_once() -> None:
    """A → B → A is one error naming the whole cycle, at the field that closes it."""
    found = only("contracts:\n  A: {b: B, n: int}\n  B: {a: list[A]}\n  C: {a: A}\n")
    assert (str(found.span), found.message) == ("s.yaml:2:7", "recursive contracts: A → B → A")
    assert found.code == "spec-recursive-contract"


def test_constraints_apply_through_optional_and_to_collections() -> None:
    """min on `int?`, length bounds on lists and dicts, pattern on `str?` are all fine."""
    spec = parse(
        """
        contracts:
          A:
            n: {type: int?, min: 0}
            items: {type: list[str], min_len: 1}
            tags: {type: 'dict[str, int]', max_len: 3}
            code: {type: str?, pattern: "[a-z]+", default: null}
        """
    )
    [a] = spec.contracts
    assert isinstance(a.type, RecordType)
    assert [f.type for f in a.type.fields] == [
        OptionalType(INT),
        ListType(STR),
        DictType(INT),
        OptionalType(STR),
    ]


def test_a_broken_contract_is_reported_once_not_at_every_use() -> None:
    """Uses of a contract that failed to build stay silent: one mistake, one message."""
    snippet = """
        contracts:
          Draft: {body: strr}
          Wrapper: {draft: Draft}
        context: {draft: Draft?, w: Wrapper?}
        agents:
          writer: {output: Draft}
        states:
          drafting: {agent: writer, writes: draft}
          done: {final: true}
        initial: drafting
        """
    assert errors(snippet) == ["2:17 unknown type 'strr' in field 'Draft.body'"]


# -- context -----------------------------------------------------------------------------------


def test_context_fields_defaults_and_merge() -> None:
    """Lists start as [] and dicts as {} unless that breaks a constraint; append needs a list."""
    spec = parse(
        """
        context:
          brief: str
          draft: str?
          log: {type: list[str], merge: append}
          scores: dict[str, int]
          picked: {type: list[str], min_len: 1}
          mood: {enum: [calm, busy], default: calm}
        """
    )
    fields = {f.name: f for f in spec.context}
    defaults = [f.field.default for f in fields.values()]
    assert defaults == [NO_DEFAULT, NO_DEFAULT, [], {}, NO_DEFAULT, "calm"]
    assert [n for n, f in fields.items() if f.required] == ["brief", "picked"]
    assert [f.merge for f in fields.values()].count("append") == 1
    assert fields["mood"].type == EnumType("ContextMood", ("calm", "busy"))


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("context: [a]", "1:10 expected a mapping of context field names to types, got a list"),
        ("context: {log: {type: str, merge: append}}",
         "1:35 merge: append needs a list type, context field 'log' is str"),
        ("context: {log: {type: list[str], merge: add}}", "1:41 unknown merge policy 'add'"),
        ("contracts: {A: {x: {type: int, merge: replace}}}",
         "1:32 unknown key 'merge' in field 'A.x'"),
        ("context: {n: {type: int, default: x}}",
         "1:35 the default of context field 'n' does not fit its type: expected int, got 'x'"),
    ],
)  # fmt: skip
def test_context_errors(snippet: str, expected: str) -> None:
    """Each context mistake is one diagnostic at the offending text."""
    assert errors(snippet + "\n") == [expected]


# -- agents ------------------------------------------------------------------------------------

AGENT_BASE = """
contracts:
  Out: {text: str}
  Level: {enum: [a]}
context: {brief: str}
agents:
"""


def test_agent_inputs_mapping_and_list_forms() -> None:
    """`{name: path}` names inputs; in a list the last path segment is the name; `?` = optional."""
    spec = parse(
        AGENT_BASE
        + "  a: {input: {b: brief, r: 'review.score?'}, output: Out}\n"
        + "  b: {input: [brief, review.notes?], output: Out, impl: pkg.mod:run}\n"
    )
    a, b = spec.agents
    assert [(i.name, i.path, i.optional) for i in a.inputs] == [
        ("b", ("brief",), False),
        ("r", ("review", "score"), True),
    ]
    assert [(i.name, i.path, i.optional) for i in b.inputs] == [
        ("brief", ("brief",), False),
        ("notes", ("review", "notes"), True),
    ]
    assert (a.output, a.impl, a.retry, a.timeout) == ("Out", None, RetryPolicy(), None)
    assert a.output_span == SourceSpan("s.yaml", 6, 54, 6, 57)
    assert b.impl == "pkg.mod:run"


@pytest.mark.parametrize(
    ("retry", "policy"),
    [
        ("3", RetryPolicy(attempts=3)),
        ("{attempts: 4, backoff: 0.5}", RetryPolicy(attempts=4, backoff=0.5)),
        ("{attempts: 2, backoff: 1, multiplier: 3, max_backoff: 9}", RetryPolicy(2, 1, 3, 9)),
    ],
)
def test_retry_policy_forms(retry: str, policy: RetryPolicy) -> None:
    """An attempt count or a mapping; unset settings keep RetryPolicy's defaults."""
    spec = parse(AGENT_BASE + f"  a: {{output: Out, retry: {retry}, timeout: 2.5}}\n")
    assert (spec.agents[0].retry, spec.agents[0].timeout) == (policy, 2.5)


@pytest.mark.parametrize(
    "impl", ["pkg.agents:Writer", "agents/content.py:write", "./a/b_c.py:Cls.method", "m:f"]
)
def test_valid_impl_forms(impl: str) -> None:
    """A module path or a relative .py file, then ':' and an attribute path."""
    assert parse(AGENT_BASE + f"  a: {{output: Out, impl: '{impl}'}}\n").agents[0].impl == impl


@pytest.mark.parametrize(
    ("output", "hint"),
    [
        ("str", "name a record contract, e.g. Result: {value: str}"),
        ("'list[Out]'", "name a record contract, e.g. Result: {value: list[Out]}"),
        ("Out?", "it is never None; write 'Out'"),
    ],
)
def test_an_output_written_as_a_type_is_not_told_to_declare_a_contract(
    output: str, hint: str
) -> None:
    """`output: str` names no contract to declare: the output must be a record."""
    found = only(AGENT_BASE + f"  a: {{output: {output}}}\n")
    assert found.code == "spec-not-a-record"
    assert found.hint == hint


@pytest.mark.parametrize("impl", ["agents/x.py", "/abs/x.py:f", "pkg:1f", "pkg.mod", "a b:c"])
def test_invalid_impl_forms(impl: str) -> None:
    """Anything else is an error with both accepted forms in the hint."""
    found = only(AGENT_BASE + f"  a: {{output: Out, impl: '{impl}'}}\n")
    assert (str(found.span), found.message) == (
        "s.yaml:6:26",
        f"invalid impl {impl!r} for agent 'a'",
    )
    assert found.hint == "write 'package.module:function' or a relative 'path/to/file.py:function'"


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("[Out]", "6:6 expected a mapping with the 'input' and 'output' of agent 'a', got a list"),
        ("{input: [brief]}", "6:6 missing required key 'output' in agent 'a'"),
        ("{output: Outt}", "6:15 unknown contract 'Outt'"),
        ("{output: Level}", "6:15 an agent's output must be a record contract; 'Level' is an enum"),
        ("{output: str}",
         "6:15 an agent's output must be a record contract; 'str' is a type expression"),
        ("{output: Out?}",
         "6:15 an agent's output must be a record contract; 'Out?' is a type expression"),
        ("{output: Out, inputs: [brief]}", "6:20 unknown key 'inputs' in agent 'a'"),
        ("{output: Out, input: brief}",
         "6:27 expected the inputs of agent 'a' as {name: context_path} or a list of paths, got "
         "the string 'brief'"),
        ("{output: Out, input: [x.a, y.a]}", "6:33 two inputs of agent 'a' are named 'a'"),
        ("{output: Out, input: [brief..x]}", "6:28 invalid context path 'brief..x'"),
        ("{output: Out, input: {r: 'r?.s'}}", "6:31 invalid context path 'r?.s'"),
        ("{output: Out, input: {class: brief}}",
         "6:28 invalid input name 'class': 'class' is a Python keyword"),
        ("{output: Out, retry: 0}",
         "6:27 expected the attempts of a retry policy (an integer >= 1), got the integer 0"),
        ("{output: Out, retry: {backoff: -1}}",
         "6:37 expected 'backoff' (a number >= 0), got the integer -1"),
        ("{output: Out, retry: {multiplier: 0.5}}",
         "6:40 expected 'multiplier' (a number >= 1), got the number 0.5"),
        ("{output: Out, retry: {tries: 2}}",
         "6:28 unknown key 'tries' in the retry policy of agent 'a'"),
        ("{output: Out, retry: fast}",
         "6:27 expected a retry policy (attempts, or {attempts, backoff, ...}), got the string "
         "'fast'"),
        ("{output: Out, timeout: 0}",
         "6:29 expected the timeout of agent 'a' in seconds (a number > 0), got the integer 0"),
    ],
)  # fmt: skip
def test_agent_errors(agent: str, expected: str) -> None:
    """Each agent mistake is one diagnostic at the offending text."""
    assert errors(AGENT_BASE + f"  a: {agent}\n") == [expected]


def test_unknown_output_contract_suggests_a_close_name() -> None:
    """A misspelt output contract comes with a did-you-mean."""
    assert only(AGENT_BASE + "  a: {output: Outt}\n").hint == "did you mean 'Out'?"


# -- states ------------------------------------------------------------------------------------

STATE_BASE = """
contracts:
  Review: {score: float, notes: list[str], detail: Detail?, one: str}
  Detail: {lines: list[int]}
  Decision: {ok: bool}
  Level: {enum: [a]}
context:
  review: Review?
  score: float
  log: {type: list[str], merge: append}
  lines: list[int]?
  decision: Decision?
agents:
  reviewer: {output: Review}
states:
  done: {final: true}
"""


def state(state_text: str) -> Spec:
    """A spec whose state `s` (on line 16) is the given text."""
    return parse(STATE_BASE + f"  s: {state_text}\ninitial: done\n")


def test_state_kinds() -> None:
    """agent, wait, final, and a route state for `{}` or only a description."""
    spec = parse(
        STATE_BASE
        + "  a: {agent: reviewer, writes: review, on_error: done}\n"
        + "  w: {wait: [go]}\n"
        + "  r: {description: Routes.}\n"
        + "  e: {}\n"
        + "initial: a\n"
    )
    kinds = {s.name: (s.kind, s.agent, s.on_error, s.description) for s in spec.states}
    assert kinds == {
        "done": ("final", None, None, ""),
        "a": ("agent", "reviewer", "done", ""),
        "w": ("wait", None, None, ""),
        "r": ("route", None, None, "Routes."),
        "e": ("route", None, None, ""),
    }
    a = spec.state("a")
    assert a is not None
    assert a.on_error_span == SourceSpan("s.yaml", 16, 50, 16, 54)


def test_writes_forms_and_paths() -> None:
    """A field name takes the whole output; `{field: path}` takes a part, `.` the whole."""
    writes = "{review: ., score: score, log: notes, lines: detail.lines}"
    s = state(f"{{agent: reviewer, writes: {writes}}}").state("s")
    assert s is not None
    assert [(w.field, w.source) for w in s.writes] == [
        ("review", ()),
        ("score", ("score",)),
        ("log", ("notes",)),
        ("lines", ("detail", "lines")),
    ]
    assert s.writes[0] == WriteDef("review", (), SourceSpan("s.yaml", 16, 33, 16, 39))


def test_append_accepts_an_item_or_a_list_of_items() -> None:
    """A list[str] field with merge: append takes a str or a list[str]."""
    spec = parse(
        STATE_BASE
        + "  s: {agent: reviewer, writes: {log: one}}\n"
        + "  t: {agent: reviewer, writes: {log: notes}}\ninitial: done\n"
    )
    assert [s.writes[0].source for s in spec.states[1:]] == [("one",), ("notes",)]


def test_wait_events_with_and_without_data() -> None:
    """`wait:` lists events, or maps them to null or to {data, writes}."""
    s = state("{wait: {approve: {data: Decision, writes: decision}, cancel: }}").state("s")
    assert s is not None
    approve, cancel = s.events
    assert (approve.name, approve.data, [w.field for w in approve.writes]) == (
        "approve",
        "Decision",
        ["decision"],
    )
    assert isinstance(approve.data_type, RecordType)
    assert approve.data_type.field_names() == ("ok",)
    assert (cancel.name, cancel.data, cancel.data_type, cancel.writes) == ("cancel", None, None, ())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "16:5 expected a mapping for state 's', got null"),
        ("{agent: reviewr}", "16:14 unknown agent 'reviewr'"),
        ("{agent: reviewer, final: true}", "16:24 state 's' has both 'agent' and 'final'"),
        ("{wait: [go], final: true}", "16:19 state 's' has both 'wait' and 'final'"),
        ("{final: false}", "16:14 expected 'final: true' in state 's', got the boolean false"),
        ("{writes: review}", "16:7 'writes' in state 's', which runs no agent"),
        ("{agnt: reviewer}", "16:7 unknown key 'agnt' in state 's'"),
        ("{on_error: fail}", "16:17 unknown state 'fail' in 'on_error'"),
        ("{agent: reviewer, writes: reviw}", "16:32 unknown context field 'reviw'"),
        ("{agent: reviewer, writes: [review]}",
         "16:32 expected a context field name, or a mapping of context fields to paths, got a "
         "list"),
        ("{agent: reviewer, writes: {score: scor}}", "16:40 Review has no field 'scor'"),
        ("{agent: reviewer, writes: {score: 'notes[0]'}}", "16:40 invalid path 'notes[0]'"),
        ("{agent: reviewer, writes: {lines: score.x}}",
         "16:46 cannot read 'x' from Review.score, which is float"),
        ("{agent: reviewer, writes: {score: notes}}",
         "16:33 cannot write Review.notes (list[str]) into context field 'score' (float)"),
        ("{agent: reviewer, writes: {log: score}}",
         "16:33 cannot write Review.score (float) into context field 'log' (list[str])"),
        ("{agent: reviewer, writes: score}",
         "16:32 cannot write a Review into context field 'score' (float)"),
        ("{agent: reviewer, writes: {lines: detail.lines, score: detail.lines}}",
         "16:54 cannot write Review.detail.lines (list[int]?) into context field 'score' (float)"),
        ("{wait: []}", "16:13 state 's' waits for no event"),
        ("{wait: go}",
         "16:13 expected the events of state 's' as a list or a mapping, got the string 'go'"),
        ("{wait: [go, go]}", "16:18 duplicate event 'go' in state 's'"),
        ("{wait: [go-on]}", "16:14 invalid event name 'go-on': names must be ASCII identifiers"),
        ("{wait: {go: {writes: decision}}}", "16:19 'writes' in event 'go', which carries no data"),
        ("{wait: {go: {data: Level}}}",
         "16:25 event data must be a record contract; 'Level' is an enum"),
        ("{wait: {go: {data: Decison}}}", "16:25 unknown contract 'Decison'"),
        ("{wait: {go: {data: Decision, writes: review}}}",
         "16:43 cannot write a Decision into context field 'review' (Review?)"),
        ("{wait: {go: {data: Decision, sends: x}}}", "16:35 unknown key 'sends' in event 'go'"),
    ],
)  # fmt: skip
def test_state_errors(text: str, expected: str) -> None:
    """Each state mistake is one diagnostic at the offending text."""
    assert errors(STATE_BASE + f"  s: {text}\ninitial: done\n") == [expected]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("{final: yes}", "in YAML 1.2 'yes' is text, not a boolean: write true"),
        ("{final: On}", "in YAML 1.2 'On' is text, not a boolean: write true"),
        ("{final: 'true'}", "'true' is quoted, so it is text: write true without quotes"),
        ("{final: false}", "only final states write 'final'; remove it from other states"),
    ],
)
def test_final_written_as_a_yaml_11_boolean_says_to_write_true(text: str, hint: str) -> None:
    """`final: yes` is YAML 1.1 habit; the hint must say to write true, not to remove 'final'."""
    [found] = diagnostics(STATE_BASE + f"  s: {text}\ninitial: done\n")
    assert (found.span.line, found.span.column, found.hint) == (16, 14, hint)


@pytest.mark.parametrize(
    ("field", "hint"),
    [
        ("{type: bool, default: no}", "in YAML 1.2 'no' is text, not a boolean: write false"),
        ("{type: 'list[bool]', default: [true, off]}",
         "in YAML 1.2 'off' is text, not a boolean: write false"),
        ("{type: bool, default: 'false'}",
         "'false' is quoted, so it is text: write false without quotes"),
        ("{type: bool, default: nope}", None),
    ],
)  # fmt: skip
def test_bool_default_written_as_a_yaml_11_boolean_gets_a_hint(
    field: str, hint: str | None
) -> None:
    """A bool default of yes/no/on/off is text in YAML 1.2; the error says what to write."""
    [found] = diagnostics(f"contracts:\n  C:\n    flag: {field}\n")
    assert found.code == "spec-default"
    assert found.hint == hint


def test_optional_parts_of_an_output_cannot_fill_a_required_field() -> None:
    """A path through an optional field may be None, so it cannot fill a non-optional field."""
    base = STATE_BASE.replace("lines: list[int]?", "lines: list[int]")
    found = errors(base + "  s: {agent: reviewer, writes: {lines: detail.lines}}\ninitial: done\n")
    expected = (
        "cannot write Review.detail.lines (list[int]?) into context field 'lines' (list[int])"
    )
    assert found == [f"16:33 {expected}"]


def test_on_error_is_kept_for_the_validator_on_any_state() -> None:
    """Whether on_error suits the state is a validation rule; parsing records it."""
    s = state("{on_error: done}").state("s")
    assert s is not None
    assert (s.kind, s.on_error) == ("route", "done")


def test_unknown_state_suggests_a_close_name() -> None:
    """A misspelt on_error target gets a did-you-mean."""
    assert (
        only(STATE_BASE + "  s: {on_error: dnoe}\ninitial: done\n").hint == "did you mean 'done'?"
    )


# -- transitions -------------------------------------------------------------------------------

TRANSITION_BASE = """
states:
  start: {}
  approval: {wait: [approve]}
  done: {final: true}
initial: start
transitions:
"""


def test_transitions_keep_order_guard_text_and_positions() -> None:
    """Index follows the list; the guard is kept verbatim with the span of its text."""
    spec = parse(
        TRANSITION_BASE
        + "  start:\n"
        + "    - {to: approval, when: \"note == 'x'\", name: picked}\n"
        + "    - {to: done}\n"
        + "  approval: [{on: approve, to: done}]\n"
    )
    first, second, third = spec.transitions
    assert (first.source, first.index, first.target, first.name) == (
        "start",
        0,
        "approval",
        "picked",
    )
    assert first.guard == "note == 'x'"
    assert first.guard_span == SourceSpan("s.yaml", 8, 29, 8, 40)
    assert first.target_span == SourceSpan("s.yaml", 8, 12, 8, 20)
    assert first.span == SourceSpan("s.yaml", 8, 7, 8, 56)
    assert (second.index, second.guard, second.guard_span) == (1, None, None)
    assert (third.source, third.event, third.label) == ("approval", "approve", "on approve")


def test_plain_guard_text_is_kept_and_located() -> None:
    """An unquoted guard is text too; its span starts at its first character."""
    [transition] = parse(TRANSITION_BASE + "  start: [{to: done, when: steps < 3}]\n").transitions
    assert transition.guard == "steps < 3"
    assert transition.guard_span == SourceSpan("s.yaml", 7, 28, 7, 37)


def test_event_and_wait_rules_are_left_to_the_validator() -> None:
    """`on:` on a non-wait state or an undeclared event parses; validate reports them."""
    spec = parse(TRANSITION_BASE + "  start: [{on: ping, to: done}]\n  approval: [{to: done}]\n")
    assert [(t.source, t.event) for t in spec.transitions] == [
        ("start", "ping"),
        ("approval", None),
    ]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        ("  strat: [{to: done}]", "7:3 transitions of unknown state 'strat'"),
        ("  start: [{to: dne}]", "7:16 unknown state 'dne' in 'to'"),
        ("  start: [{when: 'steps < 1'}]",
         "7:11 missing required key 'to' in transition 1 from 'start'"),
        ("  start: [{to: done, when: true}]",
         "7:28 expected a guard expression (text), got the boolean true"),
        ("  start: [{to: done, when: ' '}]", "7:28 empty guard"),
        ("  start: [{to: done, name: if}]",
         "7:28 invalid transition name 'if': 'if' is a Python keyword"),
        ("  start: [{to: done, guard: x}]",
         "7:22 unknown key 'guard' in transition 1 from 'start'"),
        ("  start: {to: done}", "7:10 expected a list of transitions from 'start', got a mapping"),
        ("  start: [done]",
         "7:11 expected a transition {to: <state>, when: <guard>} as transition 1 from 'start', "
         "got the string 'done'"),
        ("  start: [{to: done, name: a}, {to: done, name: a}]",
         "7:32 two transitions from 'start' are named 'a'"),
    ],
)  # fmt: skip
def test_transition_errors(lines: str, expected: str) -> None:
    """Each transition mistake is one diagnostic at the offending text."""
    assert errors(TRANSITION_BASE + lines + "\n") == [expected]


def test_transitions_must_map_states_to_lists() -> None:
    """The section itself has a shape: state name → list of transitions."""
    snippet = TRANSITION_BASE.replace("transitions:\n", "transitions: [a]\n")
    expected = "expected a mapping of state names to lists of transitions, got a list"
    assert errors(snippet) == [f"6:14 {expected}"]


@pytest.mark.parametrize(
    ("lines", "hint"),
    [
        ("  start: [{to: dne}]", "did you mean 'done'?"),
        ("  start: [{to: done, guard: x}]", "expected one of: to, when, on, name"),
        ("  start: [done]", "write {to: done}"),
        ("  start: [{to: done, when: yes}]\n", None),
    ],
)
def test_hints_suggest_close_names_or_list_the_options(lines: str, hint: str | None) -> None:
    """A near miss gets did-you-mean; otherwise the hint lists or shows what is allowed."""
    if hint is None:  # `yes` is a string in YAML 1.2, so it is a (nonsense) guard, not an error
        assert parse(TRANSITION_BASE + lines).transitions[0].guard == "yes"
        return
    assert only(TRANSITION_BASE + lines + "\n").hint == hint


# -- how deep types may nest -------------------------------------------------------------------


def test_a_type_nested_too_deeply_is_an_error_not_a_recursion_error() -> None:
    """`list[list[…]]` 500 levels deep overflowed the recursive type parser (a RecursionError
    traceback); 200 validated but crashed `fsm generate`. 64 levels load, 65 are refused."""
    ok = parse(f"context: {{note: '{'list[' * 63}int{']' * 63}'}}\n")
    assert ok.context[0].name == "note"
    for depth in (64, 500):
        found = only(f"context: {{note: '{'list[' * depth}int{']' * depth}'}}\n")
        assert (found.span.line, found.code) == (1, "spec-type")
        assert "type nested more than 64 levels deep" in found.message


def test_a_long_chain_of_contracts_is_an_error_not_a_recursion_error() -> None:
    """1,500 contracts each holding the next overflowed the cycle search; contracts that nest
    too deep together, each within the limit alone, are refused at the field too."""
    chain = "".join(f"  C{i}: {{nxt: C{i + 1}?}}\n" for i in range(1500))
    found = only(f"contracts:\n{chain}  C1500: {{v: int}}\ncontext: {{c: C0?}}\n")
    assert found.message == "contracts nested more than 64 levels deep at 'C64'"
    assert found.span.line == 66
    lists = "".join(f"  C{i}: {{nxt: '{'list[' * 10}C{i + 1}{']' * 10}'}}\n" for i in range(7))
    found = only(f"contracts:\n{lists}  C7: {{v: int}}\ncontext: {{c: C0?}}\n")
    assert found.message.startswith("the type of field 'C1.nxt' nests 67 levels deep")
