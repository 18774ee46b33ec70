"""Rendering: the jinja2 environment and the templates of the generated package.

Templates live in the repository's ``templates/`` folder; the wheel ships them inside the
package as ``codegen/templates/`` (see ``[tool.hatch.build.targets.wheel.force-include]``).
``codegen.template_names.templates_dir`` finds them in both layouts. The environment is strict
(an unknown name is an error, never an empty string), never escapes (we print Python, not HTML;
every spec text is made safe by ``codegen.pysource`` before it reaches a template) and
deterministic.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import jinja2

from codegen.lint import exemption_line, exemptions
from codegen.template_names import GENERATED_TEMPLATES, SCAFFOLD_TEMPLATE, templates_dir
from codegen.viewmodel import PackageView


def make_environment(directory: Path | None = None) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory or templates_dir()),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701  (we render Python source; see the module docstring)
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


@attrs.frozen
class RenderedFile:
    """One output file: its path inside the package, its text, and whether the user owns it."""

    path: str
    text: str
    scaffold: bool = False


def render_package(view: PackageView, environment: jinja2.Environment) -> tuple[RenderedFile, ...]:
    """Every file of the package, generated files first, then one scaffold per agent; each
    starts with the ``# ruff: noqa`` its spec-dictated names need (``codegen.lint``)."""
    files = [
        _exempted(path, _render(environment, template, view_for(view, path)))
        for path, template in GENERATED_TEMPLATES
    ]
    files.extend(
        _exempted(
            f"agents_impl/{agent.name}.py",
            _render(environment, SCAFFOLD_TEMPLATE, None, agent=agent),
            scaffold=True,
        )
        for agent in view.agents.agents
    )
    return tuple(files)


def _exempted(path: str, text: str, *, scaffold: bool = False) -> RenderedFile:
    return RenderedFile(path, exemption_line(exemptions(path, text)) + text, scaffold)


def view_for(view: PackageView, path: str) -> object:
    """The part of the view model a template needs (each template sees only its own view)."""
    return {
        "__init__.py": view,
        "spec.py": view.spec_text,
        "contracts.py": view.contracts,
        "agents.py": view.agents,
        "workflow.py": view.workflow_facade,
        "test_routing.py": view.routing_tests,
        "agents_impl/__init__.py": view.agents,
        "agents_impl/conftest.py": view.agents,
    }[path]


def _render(environment: jinja2.Environment, template: str, view: object, **extra: object) -> str:
    return environment.get_template(template).render(view=view, **extra)
