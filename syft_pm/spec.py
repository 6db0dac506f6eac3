"""What to run: validation of ``run()`` arguments and the config written to config.json.

Everything here happens before anything is created, so a bad name, command, cwd,
executable, restart policy, TTL, health spec, labels or logs config raises
:class:`SpecError` (or :class:`~syft_pm.names.InvalidNameError`) and leaves the registry
untouched. The fingerprint is what makes two runs "the same process" for
``if_exists="reuse"``.
"""

from __future__ import annotations

import builtins
import hashlib
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .binding import bind_config, fingerprint_part
from .health import validate_health
from .limits import parse_memory
from .logwriter import validate_logs_config
from .names import validate_name
from .ready import validate_ready
from .ready import validate_timeout as validate_ready_timeout
from .registry import SCHEMA_VERSION
from .runners import runner_config

RESTART_POLICIES = ("no", "on-failure", "always")
IF_EXISTS = ("reuse", "replace", "error")
DEFAULT_BACKOFF = {"initial": 1.0, "factor": 2.0, "max": 30.0, "reset_after": 10.0}
#: What makes two runs "the same process" for ``if_exists="reuse"`` (not labels/provenance).
FINGERPRINT_KEYS = (
    "cmd",
    "shell",
    "cwd",
    "env",
    "restart",
    "max_restarts",
    "backoff",
    "ttl",
    "health",
    "logs",
    "function_sha256",
)


class SpecError(ValueError):
    """A run() argument that cannot work (missing executable, bad cwd, bad policy...)."""


# -- validation ---------------------------------------------------------------------------


def _str_dict(value: Any, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise SpecError(f"{what} must be a dict of str to str, not {value!r}")
    return dict(value)


def _number(value: Any, what: str, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= minimum:
        raise SpecError(f"{what} must be a number > {minimum:g}, not {value!r}")
    return float(value)


def _resolve_executable(cmd0: str, cwd: str, env: dict[str, str]) -> str:
    if "/" in cmd0:
        path = str(Path(cwd, cmd0))  # an absolute cmd0 wins over cwd
        if not Path(path).is_file():
            raise SpecError(f"executable {cmd0!r} not found (looked for {path})")
        if not os.access(path, os.X_OK):
            raise SpecError(f"{path} is not executable (chmod +x?)")
        return path
    search = env.get("PATH", os.environ.get("PATH", os.defpath))
    found = shutil.which(cmd0, path=search)
    if found is None:
        raise SpecError(f"executable {cmd0!r} not found on PATH")
    return found


def build_config(
    name: str,
    cmd: str | builtins.list[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: dict[str, str] | None = None,
    shell: bool = False,
    restart: str = "no",
    max_restarts: int | None = 10,
    backoff: dict[str, float] | None = None,
    ttl: float | None = None,
    health: dict[str, Any] | None = None,
    labels: dict[str, str] | None = None,
    logs: dict[str, int] | None = None,
    stop_timeout: float = 5.0,
    ready: dict[str, Any] | None = None,
    ready_timeout: float = 60.0,
    max_memory: int | str | None = None,
    bind: str | dict[str, Any] | None = None,
    runner: str | None = None,
    resources: dict[str, Any] | None = None,
    runner_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Validate everything and return the config.json body (without provenance/run id)."""
    validate_name(name)
    if not isinstance(shell, bool):
        raise SpecError(f"shell must be True or False, not {shell!r}")
    env_d = _str_dict(env, "env")
    if shell:
        if isinstance(cmd, builtins.list) and cmd and all(isinstance(c, str) for c in cmd):
            cmd = shlex.join(cmd)
        if not isinstance(cmd, str) or not cmd.strip():
            raise SpecError("with shell=True, cmd must be a non-empty command line string")
    elif isinstance(cmd, str):
        example = shlex.split(cmd)[:3] or ["python", "app.py"]
        raise SpecError(
            f"cmd must be a list of arguments like {example!r}; "
            "pass shell=True to run a shell command line"
        )
    elif (
        not isinstance(cmd, (builtins.list, tuple))
        or not cmd
        or not all(isinstance(c, (str, os.PathLike)) for c in cmd)
    ):
        raise SpecError(f"cmd must be a non-empty list of strings, not {cmd!r}")
    else:
        cmd = [os.fspath(c) for c in cmd]
    cwd_s = str(Path(cwd).expanduser().resolve()) if cwd is not None else str(Path.cwd())
    if not Path(cwd_s).exists():
        raise SpecError(f"cwd {cwd_s} does not exist")
    if not Path(cwd_s).is_dir():
        raise SpecError(f"cwd {cwd_s} is not a directory")
    if shell:
        _resolve_executable("/bin/sh", cwd_s, env_d)
    else:
        _resolve_executable(cmd[0], cwd_s, env_d)
    if restart not in RESTART_POLICIES:
        raise SpecError(
            f"restart must be one of {', '.join(map(repr, RESTART_POLICIES))}, not {restart!r}"
        )
    if max_restarts is not None and (
        isinstance(max_restarts, bool) or not isinstance(max_restarts, int) or max_restarts < 0
    ):
        raise SpecError(f"max_restarts must be an integer >= 0 or None, not {max_restarts!r}")
    bo = dict(DEFAULT_BACKOFF)
    if backoff is not None:
        if not isinstance(backoff, dict) or set(backoff) - set(DEFAULT_BACKOFF):
            raise SpecError(
                f"backoff must be a dict with keys among {sorted(DEFAULT_BACKOFF)}, not {backoff!r}"
            )
        for k, v in backoff.items():
            bo[k] = (
                _number(v, f"backoff[{k!r}]")
                if k != "reset_after"
                else _number(v, f"backoff[{k!r}]", -1e-9)
            )
        if bo["factor"] < 1:
            raise SpecError(f"backoff['factor'] must be >= 1, not {bo['factor']!r}")
    ttl_f = None if ttl is None else _number(ttl, "ttl")
    try:
        health_d = validate_health(health)
        logs_d = validate_logs_config(logs)
        extras = {
            "ready": validate_ready(ready, health_d),
            "ready_timeout": validate_ready_timeout(ready_timeout),
            "max_memory": parse_memory(max_memory),
            "bind": bind_config(bind),
        }
        remote = runner_config(runner, resources, runner_options)
        if remote is not None:  # absent for the local runner, as before runners existed
            extras["runner"] = remote
    except ValueError as e:
        raise SpecError(str(e)) from None
    return {
        "schema": SCHEMA_VERSION,
        "name": name,
        "kind": "command",
        "cmd": cmd,
        "shell": shell,
        "cwd": cwd_s,
        "env": env_d,
        "restart": restart,
        "max_restarts": max_restarts,
        "backoff": bo,
        "ttl": ttl_f,
        "health": health_d,
        "labels": _str_dict(labels, "labels"),
        "logs": logs_d,
        "stop_timeout": _number(stop_timeout, "stop_timeout"),
        "function_sha256": None,
        **extras,
    }


def fingerprint(config: dict[str, Any]) -> str:
    fields = {k: config.get(k) for k in FINGERPRINT_KEYS}
    # Newer keys count only when set, so entries started before they existed keep
    # their fingerprint (a reuse after an upgrade is still a reuse).
    for key in ("ready", "max_memory", "bind", "runner"):
        if config.get(key) is not None:
            fields[key] = fingerprint_part(config[key]) if key == "bind" else config[key]
    body = json.dumps(fields, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _pickle_call(func: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Pickle by reference when the function is importable, else with cloudpickle."""
    import pickle

    if not callable(func):
        raise SpecError(f"run_function needs a callable, not {func!r}")
    module = getattr(func, "__module__", None)
    qualname = getattr(func, "__qualname__", "")
    by_reference = module not in (None, "__main__") and "<" not in qualname
    if by_reference:
        try:
            call = pickle.dumps((func, args, kwargs))
            pickler = "pickle"
        except (pickle.PicklingError, TypeError, AttributeError):
            by_reference = False
    if not by_reference:
        try:
            import cloudpickle
        except ImportError:
            raise SpecError(
                f"{qualname or func!r} is defined in a notebook or script (or is a lambda or "
                "closure), so it needs cloudpickle to run in a new interpreter: "
                "pip install syft_pm[functions]"
            ) from None
        try:
            call = cloudpickle.dumps((func, args, kwargs))
        except Exception as e:  # noqa: BLE001 - anything cloudpickle refuses
            raise SpecError(f"cannot pickle the function or its arguments: {e}") from None
        pickler = "cloudpickle"
    return pickle.dumps({"sys_path": [p for p in sys.path if p], "pickler": pickler, "call": call})


def _function_name(func: Callable[..., Any]) -> str:
    raw = getattr(func, "__name__", "") or "function"
    name = "".join(c if c.isalnum() or c in "._-" else "-" for c in raw).strip("-._")
    return (name or "function")[:64]
