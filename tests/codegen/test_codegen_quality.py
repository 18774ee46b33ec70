"""Generated code is as good as hand-written: ruff check, ruff format and mypy --strict pass on
the package of every example spec, the hostile and edge-case specs, and a package with
filled-in agents."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import EDGE_SPECS, HOSTILE_SPEC, LINT_HOSTILE_SPEC, REPO, SPECS, generate_package

from codegen.pysource import (
    INDENT,
    Atom,
    Group,
    Pair,
    Text,
    assignment,
    docstring,
    json_node,
)

FILLED = Path(__file__).resolve().parent / "filled"


def ruff_config() -> str:
    """The repository's lint selection, for a folder outside the repository (where ``fsm`` is a
    third-party package, as in a user's project)."""
    ruff = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["ruff"]
    lint = ruff["lint"]
    return (
        f"line-length = {ruff['line-length']}\n"
        f"target-version = {ruff['target-version']!r}\n"
        "[lint]\n"
        f"select = {lint['select']!r}\n"
        f"ignore = {lint['ignore']!r}\n"
    )


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    for spec in [*SPECS, HOSTILE_SPEC, LINT_HOSTILE_SPEC, *EDGE_SPECS]:
        generate_package(spec, root / spec.stem)
    filled = generate_package(REPO / "specs" / "content_pipeline.yaml", root / "filled_pipeline")
    for agent in (FILLED / "content_pipeline").glob("*.py"):
        shutil.copyfile(agent, filled / "agents_impl" / agent.name)
    (root / "ruff.toml").write_text(ruff_config())
    (root / "mypy.ini").write_text("[mypy]\nstrict = True\npython_version = 3.11\n")
    return root


def layout_samples(count: int, seed: int) -> str:
    """Random texts (words, wide characters, quotes, line breaks) of 40 to 260 characters laid
    out in every context generated code puts strings in: docstrings, annotated defaults (after
    short and long names), keyword arguments, validators, enum members, nested JSON, call
    arguments and tuples."""
    chance = random.Random(seed)
    words = ["word", "longerword", "中文字", "it's", 'say "hi"', "a\\b", "x\ny", "tab\there"]
    words.append("x" * 95)  # longer than any line
    words += ["it\u2019s", "a\u2013b", "\u0391\u0392", "\uff0c", "\u0391\u03bb\u03c6\u03b1"]
    source = "import attrs\n"
    for index in range(count):
        text = ""
        while len(text) < chance.randint(40, 260):
            text += chance.choice(words) + chance.choice([" ", " ", "", "\n"])
        head = f"{'f' * chance.randint(1, 80)}: str"
        member = "M" * chance.randint(1, 40)
        call = Group(
            "attrs.field(",
            (
                Pair("default", "=", Text(text)),
                Pair(
                    "validator", "=", Group("[", (Group("matches_re(", (Text(text),), ")"),), "]")
                ),
            ),
            ")",
        )
        schema = json_node({"Name": {"description": text, "enum": [text, "b"], "x": {"t": text}}})
        error = Group("NotImplementedError(", (Text(text),), ")")
        pair = Group("(", (Text(text), Text("b")), ")")
        lines = [
            (f"class A{index}:", None, ""),
            (INDENT + docstring(text, INDENT) + "\n", None, INDENT),
            (f"    {head} = ", Text(text), INDENT),
            (f"    {head}2 = ", call, INDENT),
            (f"    {head}3 = ", Atom(f"A{index}.{member}"), INDENT),
            (f"    {member} = ", Text(text), INDENT),
            (f"X{index}: dict[str, object] = ", schema, ""),
            (f"def f{index}() -> None:", None, ""),
            ("    raise ", error, INDENT),
            (f"T{index} = ", pair, ""),
        ]
        for start, node, indent in lines:
            blank = "" if indent or start.startswith("    ") else "\n\n"
            laid_out = "" if node is None else assignment(node, indent, len(start))
            source += f"{blank}{start}{laid_out}\n"
    return source


def test_layout_is_ruff_format_stable_and_fits_the_line(tmp_path: Path) -> None:
    """Laid-out strings, whatever their length, are what ruff format prints, fit the line
    length ruff measures and hold no character ruff reports as ambiguous (so the hostile
    specs' few texts are no accident)."""
    (tmp_path / "ruff.toml").write_text(ruff_config())
    (tmp_path / "samples.py").write_text(layout_samples(150, seed=7), encoding="utf-8")
    check = run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "E,W,RUF00", "."],
        tmp_path,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    formatted = run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."], tmp_path
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MYPYPATH": str(REPO)}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, check=False)


def test_ruff_check_passes(packages: Path) -> None:
    """ruff check (the repository's rule selection) finds nothing in any generated package."""
    result = run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], packages)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_rules_beyond_the_repositorys_pass(packages: Path) -> None:
    """Rules a user's project may select that the repository does not (RUF022, the sorted
    ``__all__`` the repository checks its own way; PYI, ruff's default selection in recent
    versions) find nothing either."""
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "RUF022,PYI"]
    result = run([*command, "."], packages)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_generated_code_unchanged(packages: Path) -> None:
    """Generated code is already formatted as ruff format would format it."""
    result = run([sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "."], packages)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_strict_passes(packages: Path) -> None:
    """mypy --strict accepts every generated package, and the filled-in agents match their
    Protocols (one sync, one async)."""
    names = sorted(p.name for p in packages.iterdir() if p.is_dir())
    command = [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "--no-incremental"]
    for name in names:
        command += ["-p", name]
    result = run(command, packages)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"in {sum(len(list((packages / n).rglob('*.py'))) for n in names)} source files" in (
        result.stdout
    )


@pytest.mark.slow
def test_mypy_rejects_an_agent_with_the_wrong_output(packages: Path, tmp_path: Path) -> None:
    """The Protocols have teeth: an agent returning the wrong contract is a mypy error."""
    broken = tmp_path / "broken_pipeline"
    shutil.copytree(packages / "filled_pipeline", broken)
    writer = broken / "agents_impl" / "writer.py"
    writer.write_text(
        writer.read_text()
        .replace(") -> Draft:", ") -> Review:")
        .replace("from ..contracts import Draft", "from ..contracts import Draft, Review")
    )
    shutil.copyfile(packages / "mypy.ini", tmp_path / "mypy.ini")
    result = run(
        [sys.executable, "-m", "mypy", "--config-file", "mypy.ini", "-p", "broken_pipeline"],
        tmp_path,
    )
    assert result.returncode == 1
    assert "broken_pipeline/agents_impl/writer.py" in result.stdout
    assert "agents_impl/__init__.py" in result.stdout  # the default_agents() wiring


@pytest.mark.slow
def test_generated_tests_pass(packages: Path) -> None:
    """The generated test_routing.py of the filled-in package passes under pytest."""
    result = run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "filled_pipeline"],
        packages,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


@pytest.mark.slow
def test_generated_tests_pass_for_hostile_and_edge_specs(packages: Path) -> None:
    """The generated test_routing.py passes for the hostile and edge-case specs too (bounds no
    float holds exactly, long minimum lengths, hostile texts), not only for the examples."""
    names = [HOSTILE_SPEC.stem, LINT_HOSTILE_SPEC.stem, *(spec.stem for spec in EDGE_SPECS)]
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0"]
    result = run([*command, *(f"{name}/test_routing.py" for name in names)], packages)
    assert result.returncode == 0, result.stdout + result.stderr
