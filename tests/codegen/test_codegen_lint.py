"""codegen.lint against ruff itself: the confusables table, the ambiguity rule, and the
file-level exemptions for spec-dictated names.

``codegen/confusables.py`` is generated from the installed ruff; after a ruff upgrade changes
its table, regenerate it with ``FSM_UPDATE_CONFUSABLES=1 pytest
tests/codegen/test_codegen_lint.py`` and review the diff.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest

from codegen import confusables
from codegen.lint import ambiguous_positions, exemptions
from codegen.pysource import Text, assignment

UPDATE = os.environ.get("FSM_UPDATE_CONFUSABLES") == "1"


def ruff_reports(tmp_path: Path, lines: list[str], select: str) -> list[tuple[int, int]]:
    """(line, column) of each diagnostic ruff reports for ``select`` in a file of ``lines``."""
    (tmp_path / "ruff.toml").write_text(f'[lint]\nselect = ["{select}"]\n')
    (tmp_path / "probe.py").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    found = re.findall(r"^probe\.py:(\d+):(\d+):", result.stdout, re.MULTILINE)
    return [(int(line), int(column)) for line, column in found]


def ranges_text(codepoints: list[int]) -> str:
    ranges: list[list[int]] = []
    for code in codepoints:
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return " ".join(f"{a:x}" if a == b else f"{a:x}-{b:x}" for a, b in ranges)


def confusables_module(codepoints: list[int]) -> str:
    ranges = assignment(Text(ranges_text(codepoints)), "", len("_RANGES = "))
    return (
        '"""The characters ruff reports as ambiguous (RUF001, RUF002, RUF003): Unicode '
        "confusables\nthat look like an ASCII character, as hexadecimal code points and "
        "ranges.\n\nGenerated from ruff by tests/codegen/test_codegen_lint.py, which checks "
        "it against the\ninstalled ruff; regenerate with FSM_UPDATE_CONFUSABLES=1 (see there)."
        '\n"""\n\nfrom __future__ import annotations\n\n'
        f"_RANGES = {ranges}\n\n\n"
        "def _code_points(ranges: str) -> frozenset[int]:\n"
        "    found: set[int] = set()\n"
        "    for item in ranges.split():\n"
        '        first, _, last = item.partition("-")\n'
        "        found.update(range(int(first, 16), int(last or first, 16) + 1))\n"
        "    return frozenset(found)\n\n\n"
        "CONFUSABLES = _code_points(_RANGES)\n"
        '"""Code points of the characters ruff reports as ambiguous."""\n'
    )


def test_confusables_are_ruffs_table(tmp_path: Path) -> None:
    """Every printable non-ASCII character, alone in a string: ruff reports exactly the ones in
    CONFUSABLES (a ruff upgrade that changes its table fails here; see the module docstring)."""
    characters = [
        code
        for code in range(0x80, 0x110000)
        if not 0xD800 <= code <= 0xDFFF and chr(code).isprintable()
    ]
    lines = [f'x = " {chr(code)} "' for code in characters]
    reported = sorted(characters[line - 1] for line, _ in ruff_reports(tmp_path, lines, "RUF001"))
    module = Path(confusables.__file__)
    if UPDATE:
        module.write_text(confusables_module(reported), encoding="utf-8")
    assert sorted(confusables.CONFUSABLES) == reported, "run with FSM_UPDATE_CONFUSABLES=1"
    assert module.read_text(encoding="utf-8") == confusables_module(reported)


def test_ambiguous_positions_are_where_ruff_reports(tmp_path: Path) -> None:
    """Random mixes of ASCII, Greek and Cyrillic letters (some confusable), CJK, typographic
    punctuation and fullwidth characters: ruff reports exactly the predicted characters."""
    chance = random.Random(3)
    alphabet = list("ab1 _-.") + list(
        "\u0391\u0392\u0393\u0394\u03b1\u03b2\u03b3"  # Greek: confusable but for gamma, delta
        "\u043e\u0440\u0441\u041f\u0416"  # Cyrillic: the first three are confusable
        "\u4e2d\u6587\uff0c\u3002"  # CJK, a fullwidth comma (confusable), an ideographic stop
        "\u2013\u2019\u00d7\uff57\U0001f600"  # dash, apostrophe, times, fullwidth w, emoji
    )
    texts = ["".join(chance.choices(alphabet, k=chance.randint(1, 12))) for _ in range(400)]
    lines = [f'x = "{text}"' for text in texts]
    expected = [(n, 6 + p) for n, text in enumerate(texts, 1) for p in ambiguous_positions(text)]
    assert ruff_reports(tmp_path, lines, "RUF001") == expected


@pytest.mark.parametrize(
    ("path", "source", "codes"),
    [
        ("contracts.py", "class Note:\n    textBody: str\n", ("N815",)),
        ("contracts.py", "class Note:\n    text_body: str\n    URL: str\n", ()),
        ("contracts.py", "class Review_Note:\n    x: int\n", ("N801",)),
        ("workflow.py", "def start(self, *, firstNote: int) -> None: ...\n", ("N803",)),
        ("workflow.py", "def send_Approve(self) -> None: ...\n", ("N802",)),
        ("agents_impl/echoAgent.py", "def echoAgent() -> None: ...\n", ("N802", "N999")),
        ("agents_impl/setUp.py", "def setUp() -> None: ...\n", ()),  # ignore-names
        ("agents_impl/__init__.py", "from .echoAgent import echoAgent\n", ()),
        ("agents.py", "class A:\n    maxDiff: int\n", ()),
    ],
)
def test_exemptions_name_exactly_what_pep8_naming_reports(
    tmp_path: Path, path: str, source: str, codes: tuple[str, ...]
) -> None:
    """The computed codes are the N codes ruff reports for the file (no more: RUF100)."""
    assert exemptions(path, source) == codes
    target = tmp_path / "pkg" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    for folder in (tmp_path / "pkg", target.parent):
        (folder / "__init__.py").touch()
    target.write_text(source)
    (tmp_path / "ruff.toml").write_text('[lint]\nselect = ["N"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tuple(sorted(set(re.findall(r" (N\d+) ", result.stdout)))) == codes


@pytest.mark.parametrize(
    ("source", "codes"),
    [
        ("class BloodGroup:\n    O = 'O'\n    I: int\n", ("E741",)),
        ("class O:\n    x = 1\n", ("E742",)),
        ("def l(inputs: int) -> None: ...\n", ("E743",)),
        ("def start(self, *, l: int) -> None: ...\n", ("E741",)),
        ("def f() -> object:\n    return X(l=1)\n", ()),  # a keyword is no variable
        ("from .l import l\n", ()),
        ("class A:\n    PASSWORD = 'password'\n    TOKEN = ''\n", ("S105",)),
        ("class A:\n    my_token: str = ('a' 'b')\n    tokens: str = 'x'\n", ("S105",)),
        ("class A:\n    PASSWD2 = 'x'\n    passed = 'x'\n    token = None\n", ()),
        ("X = f(default=lambda: Login(token='admin', password=''))\n", ("S106",)),
        ("def f(a: str, secret: str = 'x', *, pwd: str = '') -> None: ...\n", ("S107",)),
        ("class A:\n    host = '0.0.0.0'\n    other = '0.0.0.0 '\n", ("S104",)),
        ('"""/tmp is where"""\nX = {"a": ["/var/tmp" "/x"]}\n', ("S108",)),
        ("X = ['/tmpfoo', 'a/tmp', '/TMP', '/dev/shm']\n", ("S108",)),
        ("X = ['a/tmp', '/TMP', '0.0.0.0:80', '::']\n", ()),
    ],
)
def test_exemptions_name_exactly_what_ruff_reports_for_values_and_short_names(
    tmp_path: Path, source: str, codes: tuple[str, ...]
) -> None:
    """Spec data and short names that flake8-bandit (S104-S108) and pycodestyle (E741-E743)
    report are exempted too, with exactly the codes ruff reports (no more: RUF100)."""
    assert exemptions("contracts.py", source) == codes
    (tmp_path / "ruff.toml").write_text('[lint]\nselect = ["E74", "S10"]\n')
    (tmp_path / "probe.py").write_text(source)
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tuple(sorted(set(re.findall(r" ([ES]\d+) ", result.stdout)))) == codes
