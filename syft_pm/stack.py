"""Stacks: several named processes from one TOML file, started in dependency order.

::

    name = "shop"                      # optional; default: the file's stem (or its
                                       # directory's name for syft-pm.toml)
    [processes.db]
    cmd = ["postgres", "-D", "data"]
    ready = {port = 5432}

    [processes.migrate]
    cmd = ["python", "migrate.py"]
    depends_on = {db = "ready"}

    [processes.api]
    cmd = ["python", "-m", "uvicorn", "app:app"]
    depends_on = {db = "ready", migrate = "completed"}

Each ``[processes.NAME]`` takes the keyword arguments of ``run()`` (``cwd`` relative
to the file's directory, which is also the default) plus ``depends_on``: ``"started"``
(running), ``"ready"`` (see ready.py) or ``"completed"`` (exited 0). Everything is
validated, and the order computed, before anything starts: an unknown key or dependency,
a cycle or a bad ``run()`` argument is a :class:`StackError` and nothing runs. Every
process gets the label ``stack=<name>``, which groups a stack in the sidebar (its filter
matches label text) and in ``syft-pm list --label stack=<name>``.

``up`` is idempotent: a process already running with the same configuration is reused
(run()'s reuse rule), and a one-shot (``restart = "no"``) that already completed with
the same configuration is not run again. ``down`` stops in reverse order.
"""

from __future__ import annotations

import builtins
import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .handle import ProcessHandle
from .manager import ProcessManager, ProcessNotFoundError, default_manager
from .ready import ProcessNotReadyError
from .spec import SpecError, build_config, fingerprint

DEFAULT_FILE = "syft-pm.toml"
CONDITIONS = ("started", "ready", "completed")
#: run() keywords a stack entry may not set: the name is the table's, if_exists is up's.
_NOT_IN_FILE = {"self", "name", "if_exists", "wait"}


class StackError(ValueError):
    """A stack file that cannot work, or a dependency that did not come up."""


@dataclass
class StackProcess:
    name: str
    options: dict[str, Any]
    depends_on: dict[str, str] = field(default_factory=dict)


@dataclass
class Stack:
    name: str
    path: Path
    processes: dict[str, StackProcess]
    order: builtins.list[str]  # start order; down is its reverse


def _run_keys() -> set[str]:
    return set(inspect.signature(ProcessManager.run).parameters) - _NOT_IN_FILE


def _load_toml(path: Path) -> dict[str, Any]:
    import importlib

    tomllib: Any
    try:
        tomllib = importlib.import_module("tomllib")
    except ImportError:  # Python 3.10
        try:
            tomllib = importlib.import_module("tomli")
        except ImportError:
            raise StackError(
                "reading a stack file needs Python 3.11 or `pip install tomli`"
            ) from None
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = tomllib.load(f)
            return data
    except FileNotFoundError:
        raise StackError(f"no stack file at {path}") from None
    except tomllib.TOMLDecodeError as e:
        raise StackError(f"{path} is not valid TOML: {e}") from None


def load(path: str | os.PathLike[str] = DEFAULT_FILE) -> Stack:
    """Read and check a stack file; the order respects every ``depends_on``."""
    p = Path(path).expanduser().resolve()
    data = _load_toml(p)
    unknown = sorted(set(data) - {"name", "processes"})
    if unknown:
        raise StackError(f"{p}: unknown top-level key(s) {unknown}; expected 'name', 'processes'")
    default_name = p.parent.name if p.name == DEFAULT_FILE else p.stem
    stack_name = data.get("name", default_name)
    if not isinstance(stack_name, str) or not stack_name:
        raise StackError(f"{p}: 'name' must be a non-empty string, not {stack_name!r}")
    table = data.get("processes")
    if not isinstance(table, dict) or not table:
        raise StackError(f"{p}: no processes (add a [processes.NAME] table with a cmd)")
    allowed = _run_keys()
    procs: dict[str, StackProcess] = {}
    for name, body in table.items():
        if not isinstance(body, dict):
            raise StackError(f"{p}: processes.{name} must be a table")
        opts = dict(body)
        deps = opts.pop("depends_on", {})
        if isinstance(deps, builtins.list):
            deps = dict.fromkeys(deps, "started")
        if not isinstance(deps, dict) or not all(
            isinstance(v, str) and v in CONDITIONS for v in deps.values()
        ):
            raise StackError(
                f"{p}: processes.{name}.depends_on must map names to one of "
                f'{", ".join(CONDITIONS)}, like {{db = "ready"}}; got {deps!r}'
            )
        bad = sorted(set(opts) - allowed)
        if bad:
            raise StackError(
                f"{p}: processes.{name}: unknown key(s) {bad}; allowed: depends_on, "
                + ", ".join(sorted(allowed))
            )
        if "cmd" not in opts:
            raise StackError(f"{p}: processes.{name} has no cmd")
        cwd = Path(opts.get("cwd", ".")).expanduser()
        opts["cwd"] = str(cwd if cwd.is_absolute() else p.parent / cwd)
        opts["labels"] = {"stack": stack_name, **(opts.get("labels") or {})}
        procs[name] = StackProcess(name, opts, dict(deps))
    for sp in procs.values():
        for dep in sp.depends_on:
            if dep not in procs:
                raise StackError(
                    f"{p}: {sp.name} depends on {dep!r}, which is not in the file "
                    f"(processes: {', '.join(sorted(procs))})"
                )
    stack = Stack(stack_name, p, procs, _order(procs, p))
    for name in stack.order:  # every run() argument checked before anything starts
        try:
            _config(stack.processes[name])
        except (SpecError, ValueError) as e:
            raise StackError(f"{p}: processes.{name}: {e}") from None
    return stack


def _order(procs: dict[str, StackProcess], path: Path) -> builtins.list[str]:
    """Dependencies first; ties in file order. A cycle is named, edge by edge."""
    order: builtins.list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str, trail: builtins.list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = [*trail[trail.index(name) :], name]
            raise StackError(f"{path}: dependency cycle: {' -> '.join(cycle)}")
        state[name] = 1
        for dep in procs[name].depends_on:
            visit(dep, [*trail, name])
        state[name] = 2
        order.append(name)

    for name in procs:
        visit(name, [])
    return order


def _config(sp: StackProcess) -> dict[str, Any]:
    opts = {k: v for k, v in sp.options.items() if k in _build_keys()}
    cfg = build_config(sp.name, **opts)
    cfg["fingerprint"] = fingerprint(cfg)
    return cfg


def _build_keys() -> set[str]:
    return set(inspect.signature(build_config).parameters) - {"name"}


def _wait_for(pm: ProcessManager, sp: StackProcess, dep: str, condition: str) -> None:
    h = pm.get(dep)
    if condition == "ready":
        try:
            h.wait_ready()
        except (ProcessNotReadyError, TimeoutError) as e:
            raise StackError(f"{sp.name} needs {dep} ready, but: {e}") from None
    elif condition == "completed":
        code = h.wait()
        if code != 0:
            raise StackError(
                f"{sp.name} needs {dep} to complete, but it {h.status} "
                f"({h.reason or f'exit code {code}'}); nothing after it was started"
            )
    elif h.status not in ("running", "unhealthy", "starting"):
        raise StackError(f"{sp.name} needs {dep} started, but it is {h.status} ({h.reason})")


def _completed_already(pm: ProcessManager, sp: StackProcess) -> ProcessHandle | None:
    """A one-shot that already ran to success with this very configuration."""
    if sp.options.get("restart", "no") != "no":
        return None
    try:
        h = pm.get(sp.name)
    except ProcessNotFoundError:
        return None
    rec = h.record
    if rec.status == "exited" and rec.config.get("fingerprint") == _config(sp)["fingerprint"]:
        return h
    return None


def up(
    path: str | os.PathLike[str] = DEFAULT_FILE, pm: ProcessManager | None = None
) -> builtins.list[ProcessHandle]:
    """Start the stack in dependency order (idempotent); the handles, in that order."""
    pm = pm or default_manager()
    stack = load(path)
    handles = []
    for name in stack.order:
        sp = stack.processes[name]
        for dep, condition in sp.depends_on.items():
            _wait_for(pm, sp, dep, condition)
        done = _completed_already(pm, sp)
        if done is not None:
            handles.append(done)
            continue
        handles.append(pm.run(name, if_exists="reuse", **sp.options))
    return handles


def down(
    path: str | os.PathLike[str] = DEFAULT_FILE, pm: ProcessManager | None = None
) -> builtins.list[ProcessHandle]:
    """Stop the stack's processes, dependents first; the handles, in that order."""
    pm = pm or default_manager()
    stack = load(path)
    stopped = []
    for name in reversed(stack.order):
        try:
            h = pm.get(name)
        except ProcessNotFoundError:
            continue
        timeout = stack.processes[name].options.get("stop_timeout", 5.0)
        stopped.append(h.stop(timeout=float(timeout)))
    return stopped
