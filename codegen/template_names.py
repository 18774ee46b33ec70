"""The templates (where they are, which file each renders) and the module-level names each
template binds for itself.

A spec name that lands in a generated module (a contract imported by ``workflow.py``, an agent's
function in its scaffold) must not rebind a name the module's template already binds: an
import (``from types import TracebackType``), a function (``typed_bridge``) or a constant
(``JSON_SCHEMAS``). ``template_bindings`` reads those names from the template text itself, so
every import or definition a template gains is reserved at once, without a list to keep in
step. Only names written literally count; ``{{ ... }}`` parts are the spec's names, which
``codegen.naming`` checks among themselves. Lines inside ``{% if %}`` blocks count whether or
not the block renders, so the result is the same for every spec.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

GENERATED_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("__init__.py", "package/__init__.py.jinja"),
    ("spec.py", "package/spec.py.jinja"),
    ("contracts.py", "package/contracts.py.jinja"),
    ("agents.py", "package/agents.py.jinja"),
    ("workflow.py", "package/workflow.py.jinja"),
    ("test_routing.py", "package/test_routing.py.jinja"),
    ("agents_impl/__init__.py", "package/agents_impl/__init__.py.jinja"),
    ("agents_impl/conftest.py", "package/agents_impl/conftest.py.jinja"),
)
"""(output path, template) of every generated file; scaffolds are rendered per agent."""

SCAFFOLD_TEMPLATE = "package/agents_impl/scaffold.py.jinja"
"""The template of ``agents_impl/<agent>.py``, written once per agent."""

GENERATED_AGENT_MODULES = frozenset(
    path.removeprefix("agents_impl/").removesuffix(".py")
    for path, _ in GENERATED_TEMPLATES
    if path.startswith("agents_impl/")
)
"""Modules of ``agents_impl/`` that are generated: no agent's scaffold may take their name."""


def templates_dir() -> Path:
    """``codegen/templates`` in an installed wheel, else the repository's ``templates/``."""
    package_dir = Path(__file__).resolve().parent
    installed = package_dir / "templates"
    if installed.is_dir():
        return installed
    return package_dir.parent / "templates"


_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_IMPORT = re.compile(rf"import (?P<module>{_NAME})(?:\.{_NAME})*(?: as (?P<alias>{_NAME}))?\s*")
_FROM = re.compile(r"from \S+ import (?P<names>.*)")
_DEFINITION = re.compile(rf"(?:async def|def|class) (?P<name>{_NAME})\b")
_ASSIGNMENT = re.compile(rf"(?P<name>{_NAME})\s*(?::[^=]*)?=(?!=)")
_ALIAS = re.compile(rf"(?:{_NAME}\s+as\s+)?(?P<name>{_NAME})")


@functools.cache
def template_bindings(template: str, directory: Path | None = None) -> frozenset[str]:
    """The names ``template`` (a path under the templates folder) binds at module level:
    imported names, functions, classes and assigned constants written literally at column 0."""
    text = ((directory or templates_dir()) / template).read_text(encoding="utf-8")
    return frozenset(_bindings(text.splitlines()))


_TOP_MODULE = re.compile(rf"(?:import|from) (?P<module>{_NAME})")


@functools.cache
def template_imports(directory: Path | None = None) -> frozenset[str]:
    """The top-level modules the package templates import (``fsm``, ``attrs``, ``typing``, …):
    a generated package of one of these names would shadow the module it imports."""
    found: set[str] = set()
    for path in sorted((directory or templates_dir()).joinpath("package").rglob("*.jinja")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if match := _TOP_MODULE.match(line):
                found.add(match["module"])
    return frozenset(found)


def _bindings(lines: list[str]) -> list[str]:
    found: list[str] = []
    continued = False  # inside the parentheses of a multi-line ``from x import (``
    for line in lines:
        if continued:
            if line.startswith(")"):
                continued = False
            else:
                found.extend(_imported(line.strip().rstrip(",")))
            continue
        if imported := _IMPORT.fullmatch(line):
            found.append(imported["alias"] or imported["module"])
        elif from_import := _FROM.fullmatch(line):
            names = from_import["names"].strip()
            if names == "(":
                continued = True
            else:
                found.extend(_imported(names.strip("()")))
        elif match := _DEFINITION.match(line) or _ASSIGNMENT.match(line):
            found.append(match["name"])
    return found


def _imported(names: str) -> list[str]:
    """The names bound by ``a, b as c`` (``{{ ... }}`` parts bind spec names: skipped)."""
    bound: list[str] = []
    for part in names.split(","):
        match = _ALIAS.fullmatch(part.strip())
        if match:
            bound.append(match["name"])
    return bound
