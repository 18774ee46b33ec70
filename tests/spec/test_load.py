"""The located YAML loader: exact spans, YAML 1.2 scalars, and a clean error for bad input."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fsm.diagnostics import Diagnostic, SourceSpan
from fsm.errors import SpecError
from fsm.spec import load, yaml_dialect
from fsm.spec.load import (
    MAX_NODES,
    LList,
    LMap,
    LNode,
    LScalar,
    describe,
    load_document,
    load_tree,
    read_spec_file,
    to_plain,
)
from fsm.spec.yaml_dialect import MAX_DEPTH, resolve_plain


def load_map(text: str, path: str = "t.yaml") -> LMap:
    node = load_document(text, path)
    assert isinstance(node, LMap)
    return node


def scalar(node: LNode | None) -> LScalar:
    assert isinstance(node, LScalar)
    return node


def problems(text: str, path: str = "t.yaml") -> list[Diagnostic]:
    with pytest.raises(SpecError) as caught:
        load_document(text, path)
    return caught.value.diagnostics


def only(text: str, path: str = "t.yaml") -> Diagnostic:
    found = problems(text, path)
    assert len(found) == 1, found
    return found[0]


# -- spans -------------------------------------------------------------------------------------


def test_spans_of_keys_and_values_are_exact() -> None:
    """Keys and values carry 1-based line/column of their start and their end."""
    root = load_map("workflow: demo\nstates:\n  start: {final: true}\n")
    key = root.key("workflow")
    assert key is not None
    assert key.span == SourceSpan("t.yaml", 1, 1, 1, 9)
    assert scalar(root.get("workflow")).span == SourceSpan("t.yaml", 1, 11, 1, 15)
    states = root.get("states")
    assert isinstance(states, LMap)
    start = states.get("start")
    assert isinstance(start, LMap)
    assert start.span == SourceSpan("t.yaml", 3, 10, 3, 23)
    assert scalar(start.get("final")).span == SourceSpan("t.yaml", 3, 18, 3, 22)


def test_list_items_keep_their_own_spans() -> None:
    """Each item of a block list points at its own line."""
    root = load_map("wait:\n  - approve\n  - reject\n")
    wait = root.get("wait")
    assert isinstance(wait, LList)
    assert [item.span.line for item in wait.items] == [2, 3]
    assert [item.span.column for item in wait.items] == [5, 5]


def test_content_of_a_quoted_scalar_starts_after_the_quote() -> None:
    """Guard diagnostics point inside the string, so the content starts one column later."""
    when = scalar(load_map('when: "review.score >= 0.8"\n').get("when"))
    assert when.quoted
    assert when.span.column == 7
    assert when.content == SourceSpan("t.yaml", 1, 8)
    assert when.span_of(7, 12) == SourceSpan("t.yaml", 1, 15, 1, 20)


def test_plain_scalar_content_starts_at_the_scalar() -> None:
    """An unquoted scalar's text starts where the scalar does, so offsets are columns."""
    when = scalar(load_map("when: visits.drafting < 3\n").get("when"))
    assert not when.quoted
    assert when.content == SourceSpan("t.yaml", 1, 7)
    assert when.span_of(7) == SourceSpan("t.yaml", 1, 14, 1, 26)


def test_escapes_are_mapped_so_span_of_points_past_them() -> None:
    """With an escape the text differs from the source; each character's position is kept."""
    when = scalar(load_map('when: "a\\tb == c"\n').get("when"))
    assert when.text == "a\tb == c"
    assert not when.verbatim
    assert when.content == SourceSpan("t.yaml", 1, 8)
    assert when.span_of(4, 6) == SourceSpan("t.yaml", 1, 13, 1, 15)  # "=="


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        ('when: "x == \\"\\u00e9\\" and fooo"\n', 1, 28),  # escapes before the name
        ("when: 'x == ''a'' and fooo'\n", 1, 23),  # doubled single quotes
        ('when: "x == \\"\\ud83d\\ude00\\" and fooo"\n', 1, 34),  # a surrogate pair: one char
        ("when: |\n  (x > 1\n   and fooo)\n", 3, 8),  # a literal block keeps its indentation
        ("when: >\n  x > 1\n  and fooo\n", 3, 7),  # a folded block joins lines with a space
        ("when: x > 1\n  and fooo\n", 2, 7),  # so does a plain scalar over two lines
        ('when: "x > 1 \\\n  and fooo"\n', 2, 7),  # an escaped line break
    ],
)
def test_span_of_finds_each_character_where_it_was_written(
    source: str, line: int, column: int
) -> None:
    when = scalar(load_map(source).get("when"))
    start = when.text.index("fooo")
    assert when.span_of(start, start + 4) == SourceSpan("t.yaml", line, column, line, column + 4)


def test_block_scalar_content_starts_on_its_first_text_line() -> None:
    """A literal block's text starts below its header, at the block's indentation."""
    when = scalar(load_map("when: |\n\n    steps < 3\nnext: 1\n").get("when"))
    assert when.text == "\nsteps < 3\n"
    assert when.content == SourceSpan("t.yaml", 3, 5)


# -- YAML 1.2 core schema ----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["on", "off", "yes", "no", "y", "n", "On", "NO", "Yes"])
def test_yaml_11_booleans_stay_strings(text: str) -> None:
    """`on`, `no`, `yes`... are strings under YAML 1.2, so states and events may use them."""
    root = load_map(f"{text}: {text}\n")
    assert root.keys() == [text]
    assert scalar(root.get(text)).value == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("True", True),
        ("FALSE", False),
        ("null", None),
        ("~", None),
        ("", None),
        ("42", 42),
        ("-7", -7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("-.inf", -math.inf),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("2024-01-01", "2024-01-01"),
        ("tRUE", "tRUE"),
    ],
)
def test_plain_scalars_resolve_by_the_yaml_12_core_schema(text: str, value: object) -> None:
    """Exactly the YAML 1.2 core schema: no sexagesimals, dates, underscores or 0b."""
    assert resolve_plain(text) == value
    assert type(resolve_plain(text)) is type(value)


def test_integers_too_long_to_convert_stay_text() -> None:
    """Python refuses to convert huge digit strings; such a scalar stays a string."""
    digits = "9" * 5000
    assert resolve_plain(digits) == digits


@pytest.mark.parametrize("text", ["0x" + "f" * 4000, "0o" + "7" * 5000])
def test_hex_and_octal_integers_too_long_to_write_stay_text(text: str) -> None:
    """Python reads any number of hex or octal digits, but could not write the value as text
    (nor could a store): such a scalar stays a string, like a long decimal, so a
    ``max_steps: 0xfff…`` is an error of ``fsm validate``, not of every run."""
    assert resolve_plain(text) == text
    assert resolve_plain("0x" + "f" * 2000) == 16**2000 - 1


def test_nan_resolves_to_a_float_nan() -> None:
    """`.nan` is a float (and not equal to itself, hence its own test)."""
    result = resolve_plain(".NaN")
    assert isinstance(result, float)
    assert math.isnan(result)


@given(st.integers())
def test_any_integer_text_resolves_to_that_integer(number: int) -> None:
    """Integers written in decimal come back exactly, however large."""
    assert resolve_plain(str(number)) == number


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_any_float_repr_resolves_to_that_float(number: float) -> None:
    """Python's float repr (`1e-07`, `2.5`) is valid YAML 1.2 float syntax."""
    assert resolve_plain(repr(number)) == number


def test_quoted_scalars_are_always_strings() -> None:
    """Quoting opts out of resolution: `"true"` and `'3'` are text."""
    root = load_map("a: \"true\"\nb: '3'\nc: |\n  null\n")
    assert to_plain(root) == {"a": "true", "b": "3", "c": "null\n"}


# -- refused input -----------------------------------------------------------------------------


def test_duplicate_key_points_at_the_second_and_names_the_first_line() -> None:
    """A repeated key is an error at the repetition, mentioning where the first one is."""
    found = only("states:\n  a: {}\n  b: {}\n  a: {final: true}\n")
    assert found.span == SourceSpan("t.yaml", 4, 3, 4, 4)
    assert found.message == "duplicate key 'a' (first defined on line 2)"
    assert found.code == "yaml-duplicate-key"


def test_non_string_keys_are_rejected() -> None:
    """Keys are names; a number, boolean or null key is an error with a hint to quote it."""
    found = problems("1: a\ntrue: b\n~: c\n'2': d\n")
    assert [(d.span.line, d.message) for d in found] == [
        (1, "mapping keys must be strings, got the integer 1"),
        (2, "mapping keys must be strings, got the boolean true"),
        (3, "mapping keys must be strings, got null"),
    ]
    assert found[0].hint == "quote the key"


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !!python/object/apply:os.system [ls]\n", "!!python/object/apply:os.system"),
        ("a: !custom 3\n", "!custom"),
        ("a: !!str 3\n", "!!str"),
    ],
)
def test_explicit_tags_are_rejected(text: str, tag: str) -> None:
    """A spec is plain data: any explicit tag is refused, never constructed."""
    found = only(text)
    assert found.message == f"tags are not supported (found {tag!r})"
    assert (found.span.line, found.span.column) == (1, 4)


def test_merge_keys_are_rejected() -> None:
    """`<<` is YAML 1.1 only; it is reported rather than silently kept as a key."""
    found = only("base: &b {x: 1}\nother:\n  <<: *b\n")
    assert found.message == "merge keys ('<<') are not supported"
    assert (found.span.line, found.span.column) == (3, 3)


def test_anchors_and_aliases_are_allowed() -> None:
    """An alias stands for a copy of the anchored value."""
    root = load_map("a: &shared [x, y]\nb: *shared\n")
    assert to_plain(root) == {"a": ["x", "y"], "b": ["x", "y"]}


def test_alias_bomb_is_a_clean_error() -> None:
    """Nested aliases that expand past MAX_NODES values fail fast instead of eating memory."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 9):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"a{level}: &a{level} [{refs}]")
    found = only("\n".join(lines) + "\n")
    assert found.code == "yaml-too-large"
    assert f"(the limit is {MAX_NODES:,})" in found.message
    assert found.span.line == 6  # the first value that expands past the limit


@pytest.mark.parametrize("fast", [True, False], ids=["libyaml", "python"])
def test_a_document_of_too_many_values_is_refused_where_the_limit_is_passed(
    fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large data file given by mistake (no alias in it) stops at the first value too many,
    with a message that does not blame aliases; a document of exactly MAX_NODES values (the
    root, a key, a list and its items) loads."""
    monkeypatch.setattr(yaml_dialect, "USE_LIBYAML", fast and yaml_dialect.USE_LIBYAML)
    limit = 2_000  # the limit lowered, so the test stays quick with the Python parser
    monkeypatch.setattr(yaml_dialect, "MAX_NODES", limit)
    monkeypatch.setattr(load, "MAX_NODES", limit)
    items = limit - 3
    assert len(load_map("k:\n" + "- x\n" * items).entries) == 1
    found = only("k:\n" + "- x\n" * (items + 1) + "- y\n" * 1000)
    assert found.code == "yaml-too-large"
    assert found.message == "the document is too large: it holds more than 2,000 values"
    assert (found.span.line, found.span.column) == (items + 2, 3)


def test_recursive_alias_is_an_error() -> None:
    """A value containing itself cannot become a tree."""
    found = only("a: &loop [*loop]\n")
    assert found.code == "yaml-recursive-alias"


def test_all_problems_of_a_document_are_reported_together() -> None:
    """Duplicate keys and tags anywhere are all reported in one error."""
    found = problems("a: 1\na: 2\nb: !!int 3\nc: {d: 1, d: 2}\n")
    assert [d.code for d in found] == ["yaml-duplicate-key", "yaml-tag", "yaml-duplicate-key"]


def test_syntax_error_reports_the_position_pyyaml_found() -> None:
    """A syntax error is a diagnostic at the problem mark, with the source kept for rendering."""
    with pytest.raises(SpecError) as caught:
        load_document("states:\n  a: {final: true\n  b: 1\n", "t.yaml")
    [found] = caught.value.diagnostics
    assert found.code == "yaml-syntax"
    assert found.message.startswith("invalid YAML: ")
    assert (found.span.line, found.span.column) == (3, 4)
    assert caught.value.sources == {"t.yaml": "states:\n  a: {final: true\n  b: 1\n"}


def test_unclosed_collection_error_names_the_line_where_it_was_opened() -> None:
    """A flow mapping left open (here by a '#' that comments out its end) is only noticed on a
    later line; the hint names the line that opened it, where the mistake is."""
    found = only("t:\n  - {to: a, when: x # note}\n  - {to: b}\n")
    assert (found.span.line, found.span.column) == (3, 3)
    assert found.hint is not None
    assert found.hint.startswith("while parsing a flow mapping that starts at line 2, column 5:")
    assert "close it with '}'" in found.hint


def test_misindented_key_error_names_the_mapping_it_breaks() -> None:
    """A key indented less than its siblings breaks their mapping; the hint says which."""
    found = only("c:\n  T:\n    a: int\n  b: {type: int}\n    d: str\n")
    assert (found.span.line, found.span.column) == (5, 5)
    assert found.hint is not None
    assert found.hint.startswith("while parsing a block mapping that starts at line 2, column 3:")


def test_colon_inside_a_plain_value_gets_a_hint() -> None:
    """'key: a: b' (or a line indented under a plain value) is a ': ' inside a plain scalar."""
    found = only("description: Note: be brief\n")
    assert (found.span.line, found.span.column) == (1, 18)
    assert found.hint == (
        "a plain value cannot contain ': '; quote the value, or check this line's indentation"
    )


def test_a_second_document_is_refused_with_what_to_do() -> None:
    """A spec file is one document; the error at the second says so and how to fix it."""
    found = only("workflow: a\n---\nworkflow: b\n")
    assert (found.span.line, found.span.column) == (2, 1)
    assert found.message == "invalid YAML: a spec is one YAML document, but another one starts here"
    assert found.hint == "remove the document from here on, or move it to a file of its own"


def test_tab_indentation_gets_a_hint() -> None:
    """Tabs cannot indent YAML; the error says so."""
    found = only("states:\n\tstart: {}\n")
    assert (found.span.line, found.span.column) == (2, 1)
    assert found.hint == "indent with spaces; YAML does not allow tabs for indentation"


def test_load_tree_returns_recoverable_problems_with_the_tree() -> None:
    """Duplicate keys leave a usable tree (first key kept), so callers can report more."""
    root, found = load_tree("a: 1\na: 2\nb: [x]\n", "t.yaml")
    assert to_plain(root) == {"a": 1, "b": ["x"]}
    assert [d.code for d in found] == ["yaml-duplicate-key"]


def test_empty_document_is_null() -> None:
    """An empty file loads as null at 1:1; the parser then says what it expected."""
    node = load_document("# nothing here\n", "t.yaml")
    assert node == LScalar(None, SourceSpan("t.yaml", 1, 1), False, "", SourceSpan("t.yaml", 1, 1))


def test_deep_flow_nesting_is_refused_early() -> None:
    """Deeply nested brackets stop at MAX_DEPTH, before PyYAML's scanner slows down."""
    found = only("[" * 5000 + "]" * 5000)
    assert found.code == "yaml-too-deep"
    assert found.message == f"collections nested more than {MAX_DEPTH} levels deep"
    assert (found.span.line, found.span.column) == (1, MAX_DEPTH + 1)
    assert found.hint is not None
    assert "flatten" in found.hint


def test_deep_block_nesting_is_a_clean_error() -> None:
    """Block nesting deep enough to exhaust the stack is reported where it passes the limit."""
    found = only("a:\n" + "".join(" " * depth + "-\n" for depth in range(1, 1000)))
    assert found.code == "yaml-too-deep"
    assert (found.span.line, found.span.column) == (MAX_DEPTH + 1, MAX_DEPTH + 1)


def test_aliases_cannot_nest_past_the_limit() -> None:
    """Each anchor below nests 90 levels and holds the one before it: the text stays within
    MAX_DEPTH, but the value it stands for nests 900 deep, which every later stage would
    recurse through (a RecursionError traceback from `fsm validate` before)."""
    lines = ["x0: &a0 " + "[" * 90 + "1" + "]" * 90]
    lines += [f"x{i}: &a{i} " + "[" * 90 + f"*a{i - 1}" + "]" * 90 for i in range(1, 10)]
    found = only("\n".join(lines) + "\n")
    assert found.code == "yaml-too-deep"
    assert found.span.line == 2  # the first anchor whose value nests past the limit
    assert found.hint is not None
    assert "alias" in found.hint


# -- type expressions in flow style ------------------------------------------------------------


def test_type_expressions_need_no_quotes_in_flow_mappings() -> None:
    """`list[str]`, `dict[str, int]` and a trailing `?` stay one plain scalar in `{...}`."""
    root = load_map("log: {type: list[str]?, merge: append}\nd: {type: dict[str, list[int?]]}\n")
    assert to_plain(root) == {
        "log": {"type": "list[str]?", "merge": "append"},
        "d": {"type": "dict[str, list[int?]]"},
    }


def test_question_mark_ends_plain_scalars_in_flow_lists() -> None:
    """YAML 1.2 allows `?` inside plain scalars in flow context: `[review?, brief]`."""
    assert to_plain(load_document("[review?, brief]", "t.yaml")) == ["review?", "brief"]


def test_flow_extension_does_not_change_valid_yaml() -> None:
    """A bracket after a separator is still a nested flow sequence."""
    assert to_plain(load_document("{a: [b], c: [d, [e]]}", "t.yaml")) == {
        "a": ["b"],
        "c": ["d", ["e"]],
    }


def test_unclosed_bracket_in_a_type_is_a_syntax_error() -> None:
    """`list[str` inside a flow mapping is reported at the bracket left open."""
    found = only("{type: list[str}\n")
    assert found.message == "invalid YAML: found an unclosed '['"
    assert (found.span.line, found.span.column) == (1, 12)


# -- JSON --------------------------------------------------------------------------------------


def test_json_with_tabs_and_escaped_slashes_loads() -> None:
    """JSON files may indent with tabs and escape `/`; both work through the YAML path."""
    text = '{\n\t"impl": "agents\\/x.py:run",\n\t"n": [1, 2.5, true, null]\n}\n'
    root = load_map(text, "spec.json")
    assert to_plain(root) == {"impl": "agents/x.py:run", "n": [1, 2.5, True, None]}
    key = root.key("n")
    assert key is not None
    assert key.span == SourceSpan("spec.json", 3, 2, 3, 5)


def test_a_json_suffix_in_capitals_is_json_too() -> None:
    """`SPEC.JSON` (as some tools save it) is read as JSON: its tab indentation loads."""
    text = '{\n\t"n": 1\n}\n'
    assert to_plain(load_map(text, "SPEC.JSON")) == {"n": 1}


def test_json_surrogate_pairs_become_one_character() -> None:
    """`\\ud83d\\ude00` is one emoji in JSON; PyYAML's two halves are joined."""
    assert to_plain(load_document('{"e": "\\ud83d\\ude00"}', "x.json")) == {"e": "\U0001f600"}


def test_lone_surrogate_is_an_error() -> None:
    """Half a surrogate pair is not text."""
    found = only('{"e": "\\ud83d"}', "x.json")
    assert found.code == "yaml-escape"


json_data = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150)
@given(json_data, st.sampled_from([None, 1, "\t"]))
def test_any_json_document_loads_to_the_same_data(data: object, indent: int | str | None) -> None:
    """JSON text, however indented, loads to exactly the data json.dumps was given."""
    text = json.dumps(data, indent=indent)
    assert to_plain(load_document(text, "data.json")) == data


# -- describing values -------------------------------------------------------------------------


def test_describe_names_what_was_found() -> None:
    """Shape errors say `got a list`, `got the string 'x'`, `got null`."""
    root = load_map("a: [1]\nb: {}\nc: x\nd: 3\ne: 2.5\nf: false\ng:\n")
    found = {key.text: describe(value) for key, value in root.entries}
    assert found == {
        "a": "a list",
        "b": "a mapping",
        "c": "the string 'x'",
        "d": "the integer 3",
        "e": "the number 2.5",
        "f": "the boolean false",
        "g": "null",
    }


# -- files -------------------------------------------------------------------------------------


def test_read_spec_file_returns_text_and_tree(tmp_path: Path) -> None:
    """A UTF-8 file (BOM or not) is read and loaded with its path in every span."""
    path = tmp_path / "s.yaml"
    path.write_bytes("\ufeffworkflow: démo\n".encode())
    text, root = read_spec_file(path)
    assert text == "workflow: démo\n"
    assert isinstance(root, LMap)
    assert scalar(root.get("workflow")).span == SourceSpan(str(path), 1, 11, 1, 15)


def test_missing_file_is_a_spec_error(tmp_path: Path) -> None:
    """A path that does not exist is a diagnostic, not an OSError traceback."""
    with pytest.raises(SpecError) as caught:
        read_spec_file(tmp_path / "nope.yaml")
    [found] = caught.value.diagnostics
    assert found.code == "file-not-found"
    assert found.message == f"spec file not found: {tmp_path / 'nope.yaml'}"


def test_non_utf8_file_names_the_offending_byte(tmp_path: Path) -> None:
    """Latin-1 bytes are reported with the line and column of the first bad byte."""
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"workflow: w\ndescription: caf\xe9\n")
    with pytest.raises(SpecError) as caught:
        read_spec_file(path)
    [found] = caught.value.diagnostics
    assert found.code == "file-encoding"
    assert (found.span.line, found.span.column) == (2, 17)
    assert "0xe9" in found.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be"])
def test_a_utf16_file_is_named_as_such(tmp_path: Path, encoding: str) -> None:
    """Windows editors and PowerShell often save UTF-16: the error says so, not only which
    byte failed."""
    path = tmp_path / "wide.yaml"
    text = "workflow: w\n"
    data = text.encode(encoding)
    path.write_bytes(data if data.startswith((b"\xff\xfe", b"\xfe\xff")) else b"\xfe\xff" + data)
    with pytest.raises(SpecError) as caught:
        read_spec_file(path)
    [found] = caught.value.diagnostics
    assert found.code == "file-encoding"
    assert "UTF-16" in found.message
    assert found.hint == "save the file as UTF-8"
