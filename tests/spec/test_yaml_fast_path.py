"""libyaml composes specs fast; the result must be exactly what the Python parser gives."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from fsm.spec import yaml_dialect
from fsm.spec.load import load_tree

SPEC_FILES = sorted(Path("specs").glob("*.yaml")) + sorted(
    Path("tests/spec/gallery").glob("*.yaml")
)


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
    try:
        fast = load_tree(text, str(path))
    except Exception as error:  # a syntax error must be the same error either way
        with pytest.raises(type(error)) as slow_error:
            slow_tree(text, str(path), monkeypatch)
        assert str(slow_error.value) == str(error)
        return
    assert fast == slow_tree(text, str(path), monkeypatch)


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
