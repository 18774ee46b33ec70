"""libyaml composes specs fast; the result must be exactly what the Python parser gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from fsm.spec import yaml_dialect
from fsm.spec.load import load_tree

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
        patch.setattr(yaml_dialect, "fast_path_is_safe", lambda text: False)
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


def test_deeply_nested_text_takes_the_python_parser() -> None:
    """Deep nesting never reaches libyaml's recursive composer (it has no depth limit)."""
    assert not yaml_dialect.fast_path_is_safe("a: " + "[" * 1000 + "]" * 1000)
    assert not yaml_dialect.fast_path_is_safe("a:\n" + "- " * 500 + "x\n")
    assert not yaml_dialect.fast_path_is_safe("a:\n" + " " * 300 + "b: 1\n")
    assert yaml_dialect.fast_path_is_safe(Path("specs/content_pipeline.yaml").read_text())


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
