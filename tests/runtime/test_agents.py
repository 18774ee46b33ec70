"""Resolving agents from ``impl``: files next to the spec, modules, classes, clear errors."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fsm.errors import AgentError
from fsm.runtime import Workflow
from fsm.spec.validate import checked_from_text
from fsm.store import MemoryStore

from .specs import COUNTER

AGENT_FILE = """
CREATED = []

class Bump:
    def __init__(self):
        CREATED.append(self)

    def __call__(self, inputs, call):
        return {"value": inputs.value + len(CREATED) * 3}

def plain(inputs, call):
    return {"value": 10}

def yielding(inputs, call):
    yield {"value": 10}

async def streaming(inputs, call):
    yield {"value": 10}

class Streams:
    async def __call__(self, inputs, call):
        yield {"value": 10}
"""


def _spec(tmp_path: Path, impl: str) -> Path:
    path = tmp_path / "counter.yaml"
    path.write_text(COUNTER.replace("output: Out,", f"output: Out, impl: '{impl}',"))
    return path


def test_relative_file_impl_is_loaded_without_taking_its_module_name(tmp_path: Path) -> None:
    """impl 'agents/x.py:attr' loads from the spec's folder under a private module name."""
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "json.py").write_text(AGENT_FILE)
    workflow = Workflow.from_spec(_spec(tmp_path, "agents/json.py:plain"), store=MemoryStore())
    assert workflow.start().context_json["value"] == 10
    import json

    assert sys.modules["json"] is json  # the stdlib module is not shadowed


def test_class_impl_is_instantiated_once(tmp_path: Path) -> None:
    """A class named by impl is created once (no arguments) and called for every step."""
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "bumpers.py").write_text(AGENT_FILE)
    workflow = Workflow.from_spec(_spec(tmp_path, "agents/bumpers.py:Bump"), store=MemoryStore())
    handle = workflow.start()
    assert handle.context_json["items"] == [3, 6, 9, 12]


def test_module_impl_is_imported() -> None:
    """impl 'package.module:attr' imports normally."""
    spec = checked_from_text(
        COUNTER.replace("output: Out,", "output: Out, impl: 'tests.runtime.test_agents:ten',"),
        "c.yaml",
    )
    workflow = Workflow.from_spec(spec, store=MemoryStore())
    assert workflow.start().context_json["value"] == 10


def ten(inputs: object, call: object) -> dict[str, int]:
    return {"value": 10}


@pytest.mark.parametrize(
    ("impl", "message"),
    [
        ("agents/missing.py:plain", "does not exist"),
        ("agents/bumpers.py:nothing", "has no attribute 'nothing'"),
        ("no_such_module_xyz:plain", "cannot import module 'no_such_module_xyz'"),
        ("agents/bumpers.py:CREATED", "is not callable"),
        ("agents/bumpers.py:yielding", "is a generator function, which yields values"),
        ("agents/bumpers.py:streaming", "is an async generator function, which yields"),
        ("agents/bumpers.py:Streams", "Streams.__call__ is an async generator function"),
    ],
)
def test_bad_impl_is_a_clear_agent_error(tmp_path: Path, impl: str, message: str) -> None:
    """Every way an impl can be wrong names the agent and the problem."""
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "bumpers.py").write_text(AGENT_FILE)
    with pytest.raises(AgentError, match=f"agent 'bump'.*{message}"):
        Workflow.from_spec(_spec(tmp_path, impl), store=MemoryStore())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("raise RuntimeError('no API key')\n", "failed: RuntimeError: no API key"),
        ("def f(:\n", "failed: SyntaxError"),
        ("import sys\nsys.exit(2)\n", r"failed: the module called sys.exit\(2\) while being"),
    ],
)
def test_module_impl_failing_at_import_is_a_clear_agent_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    """A module impl that fails while imported is reported like a file impl that does: as an
    AgentError naming the agent, not a traceback (nor, for sys.exit, a silent exit)."""
    package = tmp_path / "broken_agents_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text(body)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "broken_agents_pkg", raising=False)
    monkeypatch.delitem(sys.modules, "broken_agents_pkg.mod", raising=False)
    with pytest.raises(AgentError, match=f"agent 'bump'.*'broken_agents_pkg.mod'.*{message}"):
        Workflow.from_spec(_spec(tmp_path, "broken_agents_pkg.mod:f"), store=MemoryStore())


def test_file_impl_calling_sys_exit_at_import_is_a_clear_agent_error(tmp_path: Path) -> None:
    """An agent file that exits while loaded (module-level argument parsing) must not end the
    caller silently with its exit status."""
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "script.py").write_text("import sys\nsys.exit(3)\n")
    with pytest.raises(AgentError, match=r"agent 'bump'.*sys.exit\(3\) while being imported"):
        Workflow.from_spec(_spec(tmp_path, "agents/script.py:f"), store=MemoryStore())


def test_impl_errors_name_the_spec_line_that_writes_the_impl(tmp_path: Path) -> None:
    """An impl that cannot be loaded is reported at its spec position (file:line:col), like
    every other spec problem, with the closest attribute the file has."""
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "bumpers.py").write_text(AGENT_FILE)
    spec = _spec(tmp_path, "agents/bumpers.py:plian")
    line = next(n for n, text in enumerate(spec.read_text().splitlines(), 1) if "plian" in text)
    column = spec.read_text().splitlines()[line - 1].index("'agents/") + 1
    with pytest.raises(AgentError) as caught:
        Workflow.from_spec(spec, store=MemoryStore())
    assert str(caught.value).startswith(f"{spec}:{line}:{column}: agent 'bump': ")
    assert str(caught.value).endswith("(did you mean 'plain'?)")


def test_file_impl_inside_a_package_keeps_its_relative_imports(tmp_path: Path) -> None:
    """A file in a package (a generated scaffold in ``pkg/agents_impl/``) is loaded as part of
    its package, under a private name, so ``from ..helpers import X`` works in it."""
    package = tmp_path / "counter_pkg"
    (package / "agents_impl").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("TEN = 10\n")
    (package / "agents_impl" / "__init__.py").write_text("")
    (package / "agents_impl" / "ten.py").write_text(
        "from ..helpers import TEN\n\ndef ten(inputs, call):\n    return {'value': TEN}\n"
    )
    spec = _spec(tmp_path, "counter_pkg/agents_impl/ten.py:ten")
    workflow = Workflow.from_spec(spec, store=MemoryStore())
    assert workflow.start().context_json["value"] == 10
    assert "counter_pkg" not in sys.modules  # loaded privately, like any impl file
