"""The README and docs/*.md as a newcomer reads them: links resolve and the snippets run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fsm.errors import SpecError
from fsm.spec.validate import load_checked

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def _blocks(page: str, language: str) -> list[str]:
    """The fenced code blocks of one language in a page of docs/."""
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    return re.findall(rf"^```{language}\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_points_at_a_file(page: Path) -> None:
    """A Markdown link to a path names a file or folder of the repository."""
    links = re.findall(r"\]\(([^)#]+)\)", page.read_text(encoding="utf-8"))
    missing = [link for link in links if "://" not in link and not (page.parent / link).exists()]
    assert missing == []


def test_the_spec_format_excerpt_is_valid_with_the_parts_it_says_it_leaves_out(
    tmp_path: Path,
) -> None:
    """docs/spec-format.md lists what its excerpt omits; adding exactly that makes it valid."""
    excerpt = _blocks("spec-format.md", "yaml")[0]
    alone = tmp_path / "excerpt.yaml"
    alone.write_text(excerpt, encoding="utf-8")
    with pytest.raises(SpecError):
        load_checked(alone)
    additions = [
        ("    notes: list[str]\n", "  Draft:\n    title: str\n  Decision:\n    editor: str\n"),
        ("  log: {type: list[str], merge: append}\n", "  review: Review?\n  decision: Decision?\n"),
        ("# seconds\n", "  reviewer:\n    input: {draft: draft}\n    output: Review\n"),
        ("  published: {final: true}\n", "  failed: {final: true}\n"),
        ("transitions:\n", "  drafting:\n    - {to: triage}\n  triage:\n    - {to: reviewing}\n"),
    ]
    completed = excerpt
    for anchor, added in additions:
        assert anchor in completed
        completed = completed.replace(anchor, anchor + added, 1)
    whole = tmp_path / "completed.yaml"
    whole.write_text(completed, encoding="utf-8")
    load_checked(whole)


def _run_snippet(code: str, cwd: Path, *, pythonpath: Path | None = None) -> str:
    """Run a docs snippet as its own program in ``cwd`` (with ``specs/`` copied there)."""
    shutil.copytree(REPO / "specs", cwd / "specs")
    script = cwd / "snippet.py"
    script.write_text(code, encoding="utf-8")
    paths = [str(REPO), *([str(pythonpath)] if pythonpath else [])]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    env.pop("FSM_STORE", None)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_runtime_python_example_runs(tmp_path: Path) -> None:
    """docs/runtime.md's example runs as written and the run waits as its comment says."""
    code = _blocks("runtime.md", "python")[0]
    code += "print((run.status, run.state, run.waiting_for))\n"
    code += "print(workflow.history(run.run_id)[0].output)\n"
    out = _run_snippet(code, tmp_path).splitlines()
    assert out[0] == "('completed', 'published', ())"
    assert out[1] == "{'max_steps': 40, 'spec_version': '3'}"


def test_the_scaling_example_moves_runs_out_of_sqlite(tmp_path: Path) -> None:
    """docs/scaling.md's copy of the SQLite runs that can still move on, into another store
    (SQLite here for the PostgreSQL URL): the waiting run is copied and continues there."""
    code = _blocks("scaling.md", "python")[0]
    target = "postgresql://fsm@db.internal:5432/flows"
    assert target in code
    code = code.replace(target, "sqlite:moved.db")
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    subprocess.run(
        [sys.executable, "-m", "fsm", "run", "specs/content_pipeline.yaml", "--input",
         "@specs/inputs/content_pipeline.json"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO), "FSM_STORE": ""},
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    shutil.rmtree(tmp_path / "specs")  # _run_snippet copies the same specs again
    copied = _run_snippet(code, tmp_path).split()
    assert copied[0] == "copied"
    assert copied[2:] == ["waiting", "in", "approval"]
    sent = subprocess.run(
        [sys.executable, "-m", "fsm", "send", copied[1], "approve", "--data",
         '{"editor": "ada"}', "--store", "sqlite:moved.db"],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "completed in 'published'" in sent.stdout


def test_the_routing_checks_python_api_example_runs(tmp_path: Path) -> None:
    """docs/routing-checks.md's example imports everything it uses."""
    code = _blocks("routing-checks.md", "python")[0]
    code += "test_routing()\nprint(report.ok)\n"
    assert _run_snippet(code, tmp_path).strip() == "True"


def test_the_codegen_python_example_runs(tmp_path: Path) -> None:
    """docs/codegen.md's example runs against the generated package, with src on the path."""
    shutil.copytree(REPO / "specs", tmp_path / "gen" / "specs")
    subprocess.run(
        [sys.executable, "-m", "fsm", "generate", "specs/content_pipeline.yaml", "-o",
         "src/pipeline"],
        cwd=tmp_path / "gen", env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    code = _blocks("codegen.md", "python")[0] + "print(run.status, run.state)\n"
    out = _run_snippet(code, tmp_path / "run", pythonpath=tmp_path / "gen" / "src")
    assert out.strip() == "completed failed"


def test_the_codegen_impl_example_points_at_the_scaffold(tmp_path: Path) -> None:
    """docs/codegen.md's ``impl:`` for a scaffold, read from the spec's folder, runs it."""
    text = (REPO / "docs" / "codegen.md").read_text(encoding="utf-8")
    impl = re.search(r"`impl: ([^`]*agents_impl/writer\.py:writer)`", text)
    assert impl is not None
    shutil.copytree(REPO / "specs", tmp_path / "specs")
    spec = tmp_path / "specs" / "content_pipeline.yaml"
    original = "impl: agents/content_pipeline.py:write_draft"
    spec.write_text(spec.read_text(encoding="utf-8").replace(original, f"impl: {impl[1]}"))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("FSM_STORE", None)
    fsm = [sys.executable, "-m", "fsm"]
    generate = [*fsm, "generate", "specs/content_pipeline.yaml", "-o", "src/pipeline"]
    subprocess.run(generate, cwd=tmp_path, env=env, capture_output=True, check=True, timeout=120)
    run = [*fsm, "run", "specs/content_pipeline.yaml", "--input", '{"brief": {"topic": "abc"}}']
    done = subprocess.run(
        run, cwd=tmp_path, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    assert "fill in agents_impl/writer.py" in done.stdout
