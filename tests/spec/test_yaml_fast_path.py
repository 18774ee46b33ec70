"""libyaml composes specs fast; the result must be exactly what the Python parser gives."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from fsm.spec import yaml_dialect
from fsm.spec.load import load_tree
from fsm.spec.yaml_dialect import MAX_DEPTH

SPEC_FILES = [
    *sorted(Path("specs").glob("*.yaml")),
    *sorted(Path("tests/spec/gallery").glob("*.yaml")),
]
TRICKY_TEXTS = [
    "f: {type: list[str]?, merge: append}\n",
    "f: {type: dict[str, list[int?]]?, default: {}}\n",
    "k: {a: x[b, c], d: [e, f]}\n",
    "k: [a, b[1], 'c[2], d?']\n",
    "k: plain text? with [brackets], and commas\n",
    'k: "quoted [x, y]? z"\n',
    "? complex key\n: value\n",
    "when: visits.drafting < 3 and xs[0] is not None\n",
    "k: {a: b?, c: d}\n",
    "k: {a: b [c]}\n",
]


def outcome(load: Callable[[], object]) -> object:
    """The loaded tree, or the error message: both paths must agree on either."""
    try:
        return load()
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def slow_tree(text: str, path: str, monkeypatch: pytest.MonkeyPatch) -> object:
    with monkeypatch.context() as patch:
        patch.setattr(yaml_dialect, "USE_LIBYAML", False)
        return load_tree(text, path)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("path", SPEC_FILES, ids=lambda p: p.stem)
def test_fast_and_python_parsers_build_identical_trees(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every example and gallery spec loads to the same located tree (values and spans)."""
    text = path.read_text(encoding="utf-8")
    fast = outcome(lambda: load_tree(text, str(path)))
    assert fast == outcome(lambda: slow_tree(text, str(path), monkeypatch))


DEEP_TEXTS = {
    "explicit keys": "? " * 30_000 + "x\n",
    "block sequences": "- " * 30_000 + "x\n",
    "flow": "a: " + "[" * 30_000 + "]" * 30_000 + "\n",
    "mixed": "? - " * 10_000 + "[{a: " * 50 + "x" + "}]" * 50 + "\n",
    "indentation": "a:\n" + "".join(" " * depth + "b:\n" for depth in range(1, 3_000)),
}


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
def test_deep_explicit_keys_do_not_crash_the_process() -> None:
    """30,000 nested `? ` keys used to overflow the C stack in libyaml's recursive composer:
    a segfault that took the whole process down, so the check runs in a child process."""
    script = (
        "import sys\n"
        "from fsm.errors import SpecError\n"
        "from fsm.spec.load import load_tree\n"
        "try:\n"
        "    load_tree('? ' * 30_000 + 'x\\n', 'q.yaml')\n"
        "except SpecError as error:\n"
        "    print(error.diagnostics[0].headline())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith(
        f"q.yaml:1:{2 * MAX_DEPTH + 1}: error: collections nested more than {MAX_DEPTH} levels"
    )


@pytest.mark.parametrize("text", DEEP_TEXTS.values(), ids=DEEP_TEXTS.keys())
def test_deep_nesting_is_refused_at_the_first_level_too_many_on_both_paths(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever nests (keys, entries, brackets, indentation, or a mix), both parsers stop
    composing at MAX_DEPTH and report where the first collection too many starts."""
    fast = outcome(lambda: load_tree(text, "t.yaml"))
    slow = outcome(lambda: slow_tree(text, "t.yaml", monkeypatch))
    assert fast == slow
    assert "SpecError" in str(fast)
    assert "nested more than 100 levels deep" in str(fast)


def test_a_lone_surrogate_in_the_text_is_a_spec_error_on_both_paths(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``parse_spec`` takes a ``str``, which may hold half a surrogate pair: libyaml cannot
    encode it (a UnicodeEncodeError); it must be the Python parser's positioned SpecError."""
    text = "workflow: a\ud800\n"
    fast = outcome(lambda: load_tree(text, "s.yaml"))
    assert fast == outcome(lambda: slow_tree(text, "s.yaml", monkeypatch))
    assert str(fast).startswith("SpecError: s.yaml:1:12: error: invalid YAML: character")


def test_nesting_up_to_the_limit_loads() -> None:
    """MAX_DEPTH levels are fine, block and flow alike."""
    _, problems = load_tree("[" * MAX_DEPTH + "]" * MAX_DEPTH, "t.yaml")
    assert problems == []
    _, problems = load_tree("- " * MAX_DEPTH + "x\n", "t.yaml")
    assert problems == []


def test_flow_type_expressions_still_parse_through_the_fallback() -> None:
    """`{type: list[str]?}` is outside libyaml's grammar; the Python parser's dialect takes it."""
    tree, problems = load_tree("f: {type: list[str]?, merge: append}\n", "x.yaml")
    assert problems == []
    assert "list[str]?" in repr(tree)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_masked_dialect_text_loads_like_the_python_parser(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Brackets, commas and `?` inside and outside flow style mean the same on both paths."""
    fast = outcome(lambda: load_tree(text, "t.yaml"))
    assert fast == outcome(lambda: slow_tree(text, "t.yaml", monkeypatch))
