"""``fsm init``: a new project folder with a minimal valid spec, its agents, an input, a README.

The skeleton is rendered from ``templates/project/`` with the same strict environment as the
generated package. The only text taken from the user is the folder name, and it reaches the
files only as the workflow name derived from it, which is a validated identifier.
"""

from __future__ import annotations

import keyword
import os
import re
import unicodedata
from pathlib import Path

import attrs

from codegen.naming import pascal_case
from codegen.render import make_environment
from codegen.write import CodegenError

PROJECT_TEMPLATES: tuple[tuple[str, str], ...] = (
    ("{workflow}.yaml", "project/spec.yaml.jinja"),
    ("agents.py", "project/agents.py.jinja"),
    ("input.json", "project/input.json.jinja"),
    ("README.md", "project/README.md.jinja"),
)


@attrs.frozen
class ProjectView:
    workflow: str
    workflow_class: str
    spec_file: str


def workflow_name_for(folder: Path) -> str:
    """``My Flow-2`` → ``my_flow_2``, ``Über Fluß`` → ``uber_fluss``: the folder name as a spec
    workflow name (accents are taken off letters rather than the letters dropped)."""
    plain = unicodedata.normalize("NFKD", folder.name.lower().replace("ß", "ss"))
    plain = plain.encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^a-z0-9_]+", "_", plain).strip("_")
    name = re.sub(r"_+", "_", name)
    if not name:
        raise CodegenError(
            f"cannot derive a workflow name from the folder name {folder.name!r}; use letters, "
            "digits and underscores, e.g. 'fsm init my_workflow'"
        )
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"wf_{name}"
    return name


def init_project(folder: str | Path) -> tuple[Path, ...]:
    """Create ``folder`` with the skeleton; refuses a folder that exists and is not empty."""
    target = Path(folder)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CodegenError(
            f"{target} already exists and is not an empty folder; choose a new name "
            "(fsm init never overwrites files)"
        )
    # `fsm init .` in an empty folder: the name is the folder's own, not the empty '.'
    workflow = workflow_name_for(Path(os.path.abspath(target)))
    view = ProjectView(workflow, f"{pascal_case(workflow)}Workflow", f"{workflow}.yaml")
    environment = make_environment()
    written: list[Path] = []
    path = target
    try:
        target.mkdir(parents=True, exist_ok=True)
        for name, template in PROJECT_TEMPLATES:
            path = target / name.format(workflow=workflow)
            text = environment.get_template(template).render(view=view)
            path.write_bytes(text.encode("utf-8"))
            written.append(path)
    except OSError as error:  # read-only, no permission, disk full: a message, not a traceback
        raise CodegenError(f"cannot create {path}: {error.strerror or error}") from None
    return tuple(written)
