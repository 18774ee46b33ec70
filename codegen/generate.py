"""``fsm generate`` as a list of phases: load → check names → view model → render → write.

``render_files`` is the pure part (a checked spec in, file texts out) that golden tests call;
``generate`` adds reading the spec and touching the disk.
"""

from __future__ import annotations

import keyword
import os
import re
import sys
from pathlib import Path

from codegen.naming import check_names
from codegen.render import RenderedFile, make_environment, render_package
from codegen.template_names import template_imports
from codegen.viewmodel import build_package_view
from codegen.write import CodegenError, WriteReport, check_files, with_header, write_files
from fsm.spec.checked import CheckedSpec
from fsm.spec.validate import load_checked


def render_files(checked: CheckedSpec, spec_path_from_package: str) -> tuple[RenderedFile, ...]:
    """Every file of the package for ``checked``, headers included; raises ``SpecError`` when a
    spec name cannot become valid, unambiguous Python."""
    names = check_names(checked)
    view = build_package_view(checked, names, spec_path_from_package)
    files = render_package(view, make_environment())
    return tuple(with_header(files, spec_path_from_package, checked.spec_hash))


def spec_path_from(out_dir: Path, spec_path: Path) -> str:
    """The spec's path relative to the package folder, in POSIX form: it does not depend on the
    directory ``fsm generate`` runs from, so headers (and ``--check``) are stable."""
    try:
        relative = os.path.relpath(spec_path.resolve(), out_dir.resolve())
    except ValueError:  # another drive on Windows
        return spec_path.resolve().as_posix()
    return Path(relative).as_posix()


def generate(
    spec_path: str | Path, out_dir: str | Path, *, check: bool = False, force: bool = False
) -> WriteReport:
    """Generate (or with ``check``, compare) the package for the spec at ``spec_path``."""
    spec_file, target = Path(spec_path), Path(out_dir)
    _check_package_name(target)
    checked = load_checked(spec_file)
    files = render_files(checked, spec_path_from(target, spec_file))
    if check:
        return check_files(files, target)
    return write_files(files, target, force=force)


def _check_package_name(target: Path) -> None:
    """The folder is the package's import name: ``my-flow`` or ``class`` could not be imported
    (nor type-checked, nor collected by pytest, whose test imports it as a package)."""
    name = target.resolve().name
    if not name.isidentifier() or keyword.iskeyword(name):
        suggestion = re.sub(r"\W+", "_", name).strip("_") or "my_workflow"
        if suggestion[0].isdigit() or keyword.iskeyword(suggestion):
            suggestion = f"{suggestion}_pkg" if suggestion[0].isalpha() else f"pkg_{suggestion}"
        raise CodegenError(
            f"{target}: the folder name {name!r} is not a valid Python package name; "
            f"use letters, digits and underscores (e.g. {suggestion!r}): the generated package "
            "is imported by that name"
        )
    if name in _shadowed_modules():
        raise CodegenError(
            f"{target}: a package named {name!r} would hide the module {name!r} (of the "
            "standard library, Flow Orchestra or one of its dependencies) from all code whose "
            f"import path holds its folder; choose another folder name (e.g. {name + '_pkg'!r})"
        )


_RUNTIME_MODULES = frozenset(
    [
        "fsm",
        "codegen",
        "transitions",
        "attrs",
        "attr",
        "cattrs",
        "jinja2",
        "markupsafe",
        "click",
        "hypothesis",
        "yaml",
        "orjson",
        "pytest",
        "psycopg",
        "psycopg_pool",
        "typing_extensions",
    ]
)
"""Flow Orchestra's own packages and the modules it imports at run time: ``attr`` (attrs'
older name, which cattrs imports), ``markupsafe`` (jinja2's), ``typing_extensions`` (cattrs'
and psycopg's) and the PostgreSQL store's ``psycopg`` and ``psycopg_pool`` included."""


def _shadowed_modules() -> frozenset[str]:
    """Names a generated package must not take: on the import path it would be found before
    the standard library module, Flow Orchestra or a dependency of that name."""
    return _RUNTIME_MODULES | template_imports() | frozenset(sys.stdlib_module_names)
