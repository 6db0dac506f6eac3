"""Where a process's supervisor runs.

``local`` (the default): a detached supervisor on this host, started by the manager
itself (``syft_pm.manager``), judged by its verified pid. ``slurm``: the supervisor is the
program of a Slurm job, the registry sits on a filesystem the nodes share, and the
process is judged by the supervisor's heartbeat and the scheduler's own state, never by
a local pid (:mod:`syft_pm.runners.slurm`).

Config shape (``config.json["runner"]``, absent for local)::

    {"kind": "slurm", "resources": {"cpus": 2, "memory": "4G", "gpus": 1,
     "time": "02:00:00"}, "options": {"partition": "...", "account": "...",
     "sbatch_args": [...]}}
"""

from __future__ import annotations

import re
from typing import Any

KINDS = ("local", "slurm")
#: Seconds between two heartbeats of a remote supervisor; a reader judges it gone after
#: HEARTBEAT_STALE of silence (and asks the scheduler).
HEARTBEAT_INTERVAL = 2.0
HEARTBEAT_STALE = 10.0

_MEMORY = re.compile(r"^[1-9][0-9]*[KMGT]?$")
_TIME = re.compile(r"^(?:[0-9]+-)?[0-9]{1,2}(?::[0-9]{2}){0,2}$|^[0-9]+$")
_SAFE = re.compile(r"^[A-Za-z0-9_.,:=@%+/-]+$")


class RunnerSpecError(ValueError):
    """A runner, resource or option that cannot work."""


def runner_config(
    runner: str | None,
    resources: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
) -> dict[str, Any] | None:
    """Validate ``run()``'s runner arguments; None for the local runner."""
    kind = runner or "local"
    if kind not in KINDS:
        raise RunnerSpecError(f"runner must be one of {', '.join(KINDS)}, not {runner!r}")
    if kind == "local":
        if resources or options:
            raise RunnerSpecError(
                "resources and runner_options need a scheduler: pass runner='slurm'"
            )
        return None
    return {
        "kind": kind,
        "resources": _resources(resources or {}),
        "options": _options(options or {}),
    }


def where(config: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """``info()["runner"]``: the kind, and for a scheduler's job its id, node and
    partition (the node is None while the job waits)."""
    kind = kind_of(config)
    if kind == "local":
        import socket

        return {"kind": "local", "job_id": None, "node": socket.gethostname(), "partition": None}
    raw = state.get("runner")
    recorded: dict[str, Any] = raw if isinstance(raw, dict) else {}
    options = (config.get("runner") or {}).get("options") or {}
    return {
        "kind": kind,
        "job_id": recorded.get("job_id"),
        "node": recorded.get("node"),
        "partition": recorded.get("partition") or options.get("partition"),
    }


def kind_of(config: dict[str, Any]) -> str:
    runner = config.get("runner")
    if isinstance(runner, dict) and runner.get("kind") in KINDS:
        return str(runner["kind"])
    return "local"


def is_remote(config: dict[str, Any]) -> bool:
    return kind_of(config) != "local"


def _resources(res: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(res, dict):
        raise RunnerSpecError(f"resources must be a dict, not {res!r}")
    unknown = set(res) - {"cpus", "memory", "gpus", "time"}
    if unknown:
        raise RunnerSpecError(
            f"unknown resources {sorted(unknown)}; use cpus, memory, gpus and time"
        )
    out: dict[str, Any] = {}
    for key in ("cpus", "gpus"):
        if key in res and res[key] is not None:
            v = res[key]
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if key == "cpus" else 0):
                raise RunnerSpecError(f"resources[{key!r}] must be a whole number, not {v!r}")
            out[key] = v
    if res.get("memory") is not None:
        mem = str(res["memory"]).strip().upper().removesuffix("B")
        if not _MEMORY.match(mem):
            raise RunnerSpecError(
                f"resources['memory'] must look like '512M' or '4G', not {res['memory']!r}"
            )
        out["memory"] = mem
    if res.get("time") is not None:
        t = str(res["time"]).strip()
        if not _TIME.match(t):
            raise RunnerSpecError(
                f"resources['time'] must be minutes or [D-]HH:MM:SS, not {res['time']!r}"
            )
        out["time"] = t
    return out


def _options(opts: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(opts, dict):
        raise RunnerSpecError(f"runner_options must be a dict, not {opts!r}")
    unknown = set(opts) - {"partition", "account", "qos", "sbatch_args"}
    if unknown:
        raise RunnerSpecError(
            f"unknown runner_options {sorted(unknown)}; use partition, account, qos and sbatch_args"
        )
    out: dict[str, Any] = {}
    for key in ("partition", "account", "qos"):
        v = opts.get(key)
        if v is None:
            continue
        if not isinstance(v, str) or not _SAFE.match(v):
            raise RunnerSpecError(f"runner_options[{key!r}] must be a plain name, not {v!r}")
        out[key] = v
    extra = opts.get("sbatch_args") or []
    if not isinstance(extra, list) or not all(
        isinstance(a, str) and a.startswith("-") and "\n" not in a for a in extra
    ):
        raise RunnerSpecError(
            "runner_options['sbatch_args'] must be a list of sbatch options like "
            "['--constraint=v100']"
        )
    if extra:
        out["sbatch_args"] = list(extra)
    return out
