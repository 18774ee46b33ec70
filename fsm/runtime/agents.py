"""Agents: what the runtime calls, and how a spec's ``impl`` becomes a callable.

An agent is any callable ``agent(inputs, call)``: a function, an ``async def`` function, or an
object with ``__call__``. ``inputs`` is the agent's input record (an attrs instance) and ``call``
an ``AgentCall`` describing this attempt. It returns its output contract, as an instance or as a
plain dict; the runtime validates it before anything touches the context.

``impl`` is resolved once per ``Workflow``: ``package.module:attr`` is imported normally;
``relative/file.py:attr`` is loaded from the spec's folder under a private module name derived
from the file's absolute path, so it never shadows or clashes with an importable module (a file
in a package is loaded as a submodule of its package, named so too, so its relative imports
work). A class is instantiated once, with no arguments.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs

from fsm.diagnostics import did_you_mean
from fsm.errors import AgentError
from fsm.spec.model import AgentDef, Spec

AgentFn = Callable[[Any, "AgentCall"], Any]
"""``agent(inputs, call) -> output`` (or an awaitable of the output)."""


@attrs.frozen
class AgentCall:
    """One attempt of one agent call. ``idempotency_key`` is the same when a crashed step is
    re-run (same run, seq and attempt), so an agent with side effects can deduplicate."""

    run_id: str
    seq: int
    attempt: int
    state: str
    agent: str

    @property
    def idempotency_key(self) -> str:
        return f"{self.run_id}:{self.seq}:{self.attempt}"


@attrs.frozen
class LoadedAgent:
    """An agent definition with its callable, and whether calling it yields a coroutine."""

    definition: AgentDef
    fn: AgentFn
    is_async: bool

    @property
    def name(self) -> str:
        return self.definition.name


def load_agents(spec: Spec, given: Mapping[str, object] | None = None) -> dict[str, LoadedAgent]:
    """Every agent of ``spec``: the ones ``given`` from Python win over the spec's ``impl``."""
    given = dict(given or {})
    unknown = sorted(set(given) - {agent.name for agent in spec.agents})
    if unknown:
        known = ", ".join(agent.name for agent in spec.agents) or "none"
        raise AgentError(
            f"agents given for {', '.join(map(repr, unknown))}, but spec '{spec.workflow}' "
            f"declares no such agent (its agents: {known})"
        )
    modules: dict[Path, ModuleType] = {}
    loaded: dict[str, LoadedAgent] = {}
    for agent in spec.agents:
        if agent.name in given:
            fn = _as_callable(agent, given[agent.name])
        elif agent.impl is not None:
            try:
                fn = _as_callable(agent, _resolve_impl(agent, Path(spec.path).parent, modules))
            except AgentError as error:
                raise _at_impl(agent, error) from error
        else:
            raise AgentError(
                f"agent '{agent.name}' has no implementation: add `impl: package.module:function` "
                f"(or `impl: relative/file.py:function`) to it in {spec.path}, or pass it from "
                f"Python: Workflow.from_spec(..., agents={{'{agent.name}': my_function}})"
            )
        loaded[agent.name] = LoadedAgent(agent, fn, _is_async(fn))
    return loaded


def _at_impl(agent: AgentDef, error: AgentError) -> AgentError:
    """The error prefixed with where the spec writes the ``impl`` (file:line:col), the line to
    fix, as every other problem with a spec is reported."""
    if agent.impl_span is None:
        return error
    return AgentError(f"{agent.impl_span}: {error}")


def _resolve_impl(agent: AgentDef, spec_dir: Path, modules: dict[Path, ModuleType]) -> object:
    impl = agent.impl or ""
    location, _, attribute = impl.rpartition(":")
    if not location or not attribute:
        raise AgentError(
            f"agent '{agent.name}': impl {impl!r} is not 'module:attribute' or "
            f"'relative/file.py:attribute'"
        )
    if location.endswith(".py"):
        module = _load_file(agent, (spec_dir / location).resolve(), modules)
    else:
        try:
            module = importlib.import_module(location)
        except ImportError as error:
            raise AgentError(
                f"agent '{agent.name}': cannot import module '{location}' named by impl "
                f"{impl!r}: {error}"
            ) from error
        except (Exception, SystemExit) as error:
            # Like a file impl: a module failing at import (a syntax error, a missing setting)
            # is the user's agent code, reported as such rather than as fsm's own traceback.
            raise AgentError(
                f"agent '{agent.name}': importing module '{location}' named by impl {impl!r} "
                f"failed: {_describe_load_error(error)}"
            ) from error
    target: object = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            names = [name for name in dir(target) if not name.startswith("_")]
            close = did_you_mean(part, names)
            raise AgentError(
                f"agent '{agent.name}': '{location}' has no attribute '{attribute}' (impl {impl!r})"
                + (f" ({close})" if close else "")
            ) from None
    return target


def _load_file(agent: AgentDef, path: Path, modules: dict[Path, ModuleType]) -> ModuleType:
    if path in modules:
        return modules[path]
    if not path.is_file():
        raise AgentError(
            f"agent '{agent.name}': impl file {path} does not exist (impl paths ending in .py "
            f"are relative to the spec's folder)"
        )
    root = _package_root(path) if path.stem.isidentifier() else None
    try:
        if root is None:
            module = _exec_private(agent, path, path, None)
        else:
            # A file in a package (a generated scaffold in pkg/agents_impl/) is imported as a
            # submodule of its package, itself under a private name: its relative imports work.
            package = _exec_private(agent, path, root / "__init__.py", [str(root)])
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            module = importlib.import_module(".".join((package.__name__, *parts)))
    except AgentError:
        raise
    except (Exception, SystemExit) as error:
        raise AgentError(
            f"agent '{agent.name}': loading {path} failed: {_describe_load_error(error)}"
        ) from error
    modules[path] = module
    return module


def _describe_load_error(error: BaseException) -> str:
    """What went wrong loading an agent module; a ``sys.exit()`` at import (a script's argument
    parsing, say) is named as such instead of ending ``fsm`` with the module's exit status."""
    if isinstance(error, SystemExit):
        return f"the module called sys.exit({error.code!r}) while being imported"
    return f"{type(error).__name__}: {error}"


def _package_root(path: Path) -> Path | None:
    """The outermost folder of the package ``path`` is in (each level has an ``__init__.py``),
    or None for a file outside any package."""
    root = None
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.name.isidentifier():
        root = folder
        if folder.parent == folder:
            break
        folder = folder.parent
    return root


def _exec_private(
    agent: AgentDef, path: Path, source: Path, search: list[str] | None
) -> ModuleType:
    """Execute ``source`` as a module (a package when ``search`` is given) under a private name
    derived from its absolute path. A package is executed once per process (its submodules
    are imported from it); a plain file once per ``Workflow.from_spec`` (shared by the agents
    of that spec), so module-level set-up, a client say, runs again for each workflow loaded."""
    digest = hashlib.sha256(str(source.parent if search else source).encode("utf-8"))
    stem = source.parent.name if search else source.stem
    name = f"_fsm_agents_{stem}_{digest.hexdigest()[:12]}"
    if search is not None and name in sys.modules:
        return sys.modules[name]
    module_spec = importlib.util.spec_from_file_location(
        name, source, submodule_search_locations=search
    )
    if module_spec is None or module_spec.loader is None:
        raise AgentError(f"agent '{agent.name}': cannot load {path} as a Python module")
    module = importlib.util.module_from_spec(module_spec)
    # Registered under a private name (never the file's stem), because dataclasses, attrs and
    # pickle look their module up in sys.modules.
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _as_callable(agent: AgentDef, target: object) -> AgentFn:
    if inspect.isclass(target):
        cls = target
        try:
            target = cls()
        except Exception as error:
            raise AgentError(
                f"agent '{agent.name}': class {cls.__name__} must be constructible without "
                f"arguments ({type(error).__name__}: {error})"
            ) from error
    if not callable(target):
        raise AgentError(
            f"agent '{agent.name}': {target!r} is not callable; an agent is a function "
            f"agent(inputs, call) or an object with __call__"
        )
    generates = _generator_kind(target)
    if generates is not None:
        raise AgentError(
            f"agent '{agent.name}': {_name_of(target)} is {generates} "
            f"function, which yields values instead of returning one; an agent returns its "
            f"output (with `return`), or, if async, is an `async def` that returns it"
        )
    fn: AgentFn = target
    return fn


def _name_of(target: object) -> str:
    name = getattr(target, "__qualname__", None)
    return name if isinstance(name, str) else f"{type(target).__qualname__}.__call__"


def _generator_kind(target: object) -> str | None:
    """'a generator' or 'an async generator' for a function (or ``__call__``) that yields:
    called, it would hand back an iterator, which every attempt's contract check refuses."""
    dunder_call = type(target).__dict__.get("__call__")
    for candidate in (target, dunder_call):
        if candidate is None:
            continue
        if inspect.isasyncgenfunction(candidate):
            return "an async generator"
        if inspect.isgeneratorfunction(candidate):
            return "a generator"
    return None


def _is_async(fn: AgentFn) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    dunder_call = type(fn).__dict__.get("__call__")
    return dunder_call is not None and inspect.iscoroutinefunction(dunder_call)
