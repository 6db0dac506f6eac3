"""ProcessHandle: a name in a registry, with live properties and controls.

A handle holds no process state of its own beyond the last record it read: every
property re-reads the registry (a few small JSON files), so a handle kept in a notebook
variable for a week still tells the truth, whoever changed the process meanwhile
(another kernel, the CLI, the sidebar, the TTL). ``pid`` and friends come from
``state.json``; liveness is always verified by pid *and* create time.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal as _signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import procutil, runners
from .logs import LogStream
from .logwriter import DEFAULT_BACKUPS
from .registry import ProcessRecord, Registry
from .status import ACTIVE_STATUSES, FINAL_STATUSES, uptime

if TYPE_CHECKING:
    from .manager import ProcessManager


class ProcessHandle:
    """A managed process, by name. Obtained from ``run()``, ``get()`` or ``list()``."""

    def __init__(
        self, manager: ProcessManager, name: str, record: ProcessRecord | None = None
    ) -> None:
        self._manager = manager
        self.name = name
        self._rec = record if record is not None else manager.refreshed(name)

    # -- reading ------------------------------------------------------------------------

    def refresh(self) -> ProcessHandle:
        """Re-read the registry. Changes nothing: an entry whose supervisor died reads
        as failed, and is recorded so by the next stop/restart/remove or repair()."""
        if not self.directory.is_dir():
            self._rec = ProcessRecord(
                self.name, self.directory, error="the registry entry was removed"
            )
        else:
            self._rec = self._manager.refreshed(self.name)
        return self

    @property
    def record(self) -> ProcessRecord:
        """The last record read (no I/O); properties below refresh it first."""
        return self._rec

    @property
    def directory(self) -> Path:
        return self._manager.registry.processes_dir / self.name

    @property
    def registry(self) -> Registry:
        """The registry this process belongs to (its ``id`` names it in cell outputs)."""
        return self._manager.registry

    @property
    def state(self) -> dict[str, Any]:
        """A copy of ``state.json`` as last refreshed (see docs/registry.md)."""
        return dict(self.refresh()._rec.state)

    @property
    def config(self) -> dict[str, Any]:
        """A copy of ``config.json`` (what was asked to run, and by whom)."""
        return dict(self._rec.config)

    @property
    def command_line(self) -> str:
        """The command as one shell-quoted line, for display."""
        cmd = self._rec.config.get("cmd")
        if isinstance(cmd, str):
            return cmd
        if isinstance(cmd, list):
            return shlex.join(str(c) for c in cmd)
        return ""

    @property
    def status(self) -> str:
        """starting, running, unhealthy, stopping, stopped, exited, failed (or error)."""
        return self.refresh()._rec.status

    @property
    def reason(self) -> str | None:
        """Why the process is in its status (failure, stop reason, health), if known."""
        rec = self.refresh()._rec
        if rec.error:
            return rec.error
        r = rec.state.get("reason")
        return r if isinstance(r, str) else None

    @property
    def pid(self) -> int | None:
        """The pid of the command's latest run (check is_running() for liveness)."""
        pid = self.refresh()._rec.state.get("pid")
        return pid if isinstance(pid, int) else None

    @property
    def exit_code(self) -> int | None:
        """Exit code of the latest run; None while running or if it died by a signal."""
        code = self.refresh()._rec.state.get("exit_code")
        return code if isinstance(code, int) else None

    @property
    def restarts(self) -> int:
        n = self.refresh()._rec.state.get("restarts")
        return n if isinstance(n, int) else 0

    @property
    def labels(self) -> dict[str, str]:
        labels = self._rec.config.get("labels")
        return dict(labels) if isinstance(labels, dict) else {}

    @property
    def uptime(self) -> float | None:
        """Seconds since the current run started; None when not running."""
        return _uptime(self.refresh()._rec)

    @property
    def health(self) -> dict[str, Any] | None:
        """The last health record (see health.py), or None if there is none."""
        return self.refresh()._rec.health

    def is_running(self) -> bool:
        """True if the command's process is alive (verified by pid and create time)."""
        st = self.refresh()._rec.state
        return self._rec.status in ACTIVE_STATUSES and procutil.is_alive(
            st.get("pid"), st.get("create_time")
        )

    # -- logs -----------------------------------------------------------------------------

    def _stream(self, which: str) -> LogStream:
        logs_cfg = self._rec.config.get("logs")
        backups = logs_cfg.get("backups") if isinstance(logs_cfg, dict) else None
        return LogStream(
            self.directory,
            which,
            backups=backups if isinstance(backups, int) else None,
            finished=self._finished,
        )

    def _finished(self) -> bool:
        return self.refresh()._rec.status not in ACTIVE_STATUSES

    @property
    def stdout(self) -> LogStream:
        return self._stream("stdout")

    @property
    def stderr(self) -> LogStream:
        return self._stream("stderr")

    # -- control --------------------------------------------------------------------------

    def stop(self, timeout: float = 5.0) -> ProcessHandle:
        """SIGTERM the whole tree, SIGKILL after ``timeout``; return when all is gone.

        Works when the supervisor is already dead; a no-op on a finished process.
        """
        self._rec = self._manager.stop(self.name, timeout)
        return self

    def restart(self, timeout: float = 5.0) -> ProcessHandle:
        """Stop (if active) and start again with the same configuration."""
        new = self._manager.restart(self.name, timeout)
        self._rec = new._rec
        return self

    def remove(self, force: bool = False) -> None:
        """Delete the entry and its logs; refuses while active unless ``force``."""
        self._manager.remove(self.name, force)
        self._rec = ProcessRecord(self.name, self.directory, error="the registry entry was removed")

    def wait(self, timeout: float | None = None) -> int | None:
        """Wait for a final status; return the exit code (negative signal number if killed).

        Waits on the supervisor's exit (a pidfd, no polling) rather than sleeping in a
        loop; raises TimeoutError if the process is still active after ``timeout``.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            rec = self.refresh()._rec
            if rec.status not in ACTIVE_STATUSES:
                return self._result(rec)
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError(
                    f"process {self.name!r} is still {rec.status} after {timeout:g}s"
                )
            sup = procutil.verified(
                rec.state.get("supervisor_pid"), rec.state.get("supervisor_create_time")
            )
            if sup is not None:
                procutil.wait_gone([sup], 3600.0 if left is None else left)
            else:
                time.sleep(0.02 if left is None else min(0.02, left))  # supervisor not up yet

    def wait_ready(self, timeout: float | None = None) -> ProcessHandle:
        """Block until the current run is ready; return this handle.

        Ready means: the ``ready`` spec given to run() held (the supervisor records
        ``ready_at``); without one, the health check passed, or without that, the tree
        listens on a port. Raises :class:`~syft_pm.ready.ProcessNotReadyError`, with
        the last log lines, if the process ends or ``timeout`` (default: run()'s
        ``ready_timeout``, 60 s) passes first.
        """
        from .ready import wait_ready

        return wait_ready(self, timeout)

    @property
    def ready_at(self) -> float | None:
        """When the current run became ready (epoch), or None (not yet, or no ready spec)."""
        t = self.refresh()._rec.state.get("ready_at")
        return float(t) if isinstance(t, (int, float)) else None

    @staticmethod
    def _result(rec: ProcessRecord) -> int | None:
        code = rec.state.get("exit_code")
        if isinstance(code, int):
            return code
        sig = rec.state.get("signal")
        if isinstance(sig, str):
            with contextlib.suppress(AttributeError, ValueError):
                return -int(getattr(_signal, sig))
        return None

    # -- everything ------------------------------------------------------------------------

    def info(self, metrics: bool = True, *, reveal: bool = False) -> dict[str, Any]:
        """Everything about the process as a JSON-ready dict (one registry read).

        This dict also travels to the sidebar, REST and ``syft-pm info``, and environment
        values are often secrets (tokens, passwords): ``config["env"]`` is therefore the
        sorted list of variable *names*. ``reveal=True`` (Python only, for the user's own
        eyes) gives the ``{name: value}`` dict instead.
        """
        from . import metrics as _metrics

        rec = self.refresh()._rec
        st = rec.state
        running = rec.status in ACTIVE_STATUSES and procutil.is_alive(
            st.get("pid"), st.get("create_time")
        )
        m = (
            _metrics.tree_metrics(st.get("pid"), st.get("create_time"))
            if metrics and running
            else None
        )
        logs_cfg = rec.config.get("logs") or {}
        backups = (
            int(logs_cfg.get("backups", DEFAULT_BACKUPS))
            if isinstance(logs_cfg, dict)
            else DEFAULT_BACKUPS
        )
        try:
            registry_id: str | None = self._manager.registry.id
        except Exception:  # noqa: BLE001 - info() must not fail on a damaged registry.json
            registry_id = None
        return {
            "name": self.name,
            "registry_id": registry_id,
            "registry_home": str(self._manager.registry.home),
            "directory": str(rec.directory),
            "status": rec.status,
            "reason": rec.error or st.get("reason"),
            "running": running,
            "pid": st.get("pid"),
            "exit_code": st.get("exit_code"),
            "signal": st.get("signal"),
            "restarts": st.get("restarts") or 0,
            "uptime": _uptime(rec),
            "labels": rec.config.get("labels") or {},
            "config": _shown_config(rec.config, reveal),
            "state": st,
            "health": rec.health,
            "metrics": m,
            "provenance": rec.config.get("provenance"),
            "logs": {
                which: LogStream(rec.directory, which, backups=backups).paths()
                for which in ("stdout", "stderr")
            },
            "error": rec.error,
            "runner": runners.where(rec.config, st),
        }

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Live in JupyterLab, Notebook 7, VS Code and Colab; a static card elsewhere
        (see kernel/display.py)."""
        from .kernel.display import mimebundle

        return mimebundle(self.refresh().record, self.registry)

    def __repr__(self) -> str:
        rec = self.refresh()._rec
        parts = [f"{self.name!r}", rec.status]
        pid = rec.state.get("pid")
        if pid and rec.status in ACTIVE_STATUSES:
            parts.append(f"pid={pid}")
        up = _uptime(rec)
        if up is not None:
            parts.append(f"uptime={up:.0f}s")
        if rec.status in FINAL_STATUSES:
            code = self._result(rec)
            if code is not None:
                parts.append(f"exit_code={code}")
        reason = rec.error or rec.state.get("reason")
        if reason and rec.status not in ("running",):
            parts.append(f"reason={reason!r}")
        return f"<ProcessHandle {' '.join(parts)}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProcessHandle):
            return NotImplemented
        return self.name == other.name and self._manager.home == other._manager.home

    def __hash__(self) -> int:
        return hash((self.name, os.fspath(self._manager.home)))


def _shown_config(config: dict[str, Any], reveal: bool) -> dict[str, Any]:
    """config.json as info() shows it: no provenance (shown apart), env values hidden."""
    shown = {k: v for k, v in config.items() if k != "provenance"}
    env = shown.get("env")
    if not reveal and isinstance(env, dict):
        shown["env"] = sorted(str(k) for k in env)
    return shown


def _uptime(rec: ProcessRecord) -> float | None:
    return uptime(rec.status, rec.state)
