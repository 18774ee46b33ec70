"""Code generation: a typed Python package from a spec (``fsm generate``), and ``fsm init``.

Phases (``codegen.generate``): check names (``naming``) → view model (``viewmodel``, with
``typehints`` and ``pysource`` making every spec text safe) → render (``render``, jinja2
templates) → write (``write``: headers, idempotence, ``--check``, scaffolds kept). ``support``
is what generated packages import at run time. Nothing in ``fsm`` imports this package.
"""

from codegen.generate import generate, render_files
from codegen.project import init_project
from codegen.render import RenderedFile
from codegen.write import CodegenError, WriteReport

__all__ = [
    "CodegenError",
    "RenderedFile",
    "WriteReport",
    "generate",
    "init_project",
    "render_files",
]
