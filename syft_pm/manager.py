"""ProcessManager: validate, start (exactly once per name), stop, reconcile.

Every operation that changes an entry holds the registry's per-name lock, so eight
``run("web", ...)`` calls from threads, kernels or shells start one process. Reads take
no lock and have no side effects: an entry whose supervisor is verifiably dead (pid
gone, or alive with another create time) *reads* as ``failed``, but it is only recorded
so, and its leftovers (found by the run id in their environment) only terminated, by a
write: run, stop, restart, remove or :meth:`ProcessManager.repair`. A GET from a
browser must never kill anything.

Validation happens before anything is created: a bad name, command, cwd, executable,
restart policy, TTL, health spec, labels or logs config raises :class:`SpecError` (or
:class:`~syft_pm.names.InvalidNameError`) and leaves the registry untouched.
"""

from __future__ import annotations

import builtins
import contextlib
import errno
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import launch, procutil, runners
from .errors import (
    ProcessExistsError,
    ProcessNotFoundError,
    ProcessRunningError,
    ProcessStartError,
)
from .handle import ProcessHandle
from .launch import stored_environ
from .liveness import LiveSupervisor, live_supervisor
from .names import validate_name
from .observe import (
    dead_supervisor_reason,
    needs_repair,
    observed,
    supervisor_recorded_dead,
)
from .registry import (
    ProcessRecord,
    Registry,
    atomic_write_json,
    default_home,
    note_home_in_use,
    write_stop_request,
)
from .spec import (
    FINGERPRINT_KEYS,
    IF_EXISTS,
    SpecError,
    _function_name,
    _pickle_call,
    build_config,
    fingerprint,
)
from .status import ACTIVE_STATUSES
from .supervisor import REQUEST_STOP_SIGNAL, REWRITE_SIGNAL

if TYPE_CHECKING:
    import psutil

#: The errors live in errors.py (launch.py raises them too); they are part of this
#: module's API as they always were.
__all__ = [
    "ProcessExistsError",
    "ProcessManager",
    "ProcessNotFoundError",
    "ProcessRunningError",
    "ProcessStartError",
    "default_manager",
    "get",
    "list",
    "run",
    "run_function",
]

#: How long run/stop wait for a live supervisor to rewrite a damaged state.json.
REREAD_TIMEOUT = 2.0


# -- the manager ----------------------------------------------------------------------------


class ProcessManager:
    """All processes of one registry (``home``; default ``$SYFT_PM_HOME`` or ``~/.syft_pm``)."""

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self.registry = Registry(home)
        note_home_in_use(self.registry.home)

    @property
    def home(self) -> Path:
        return self.registry.home

    def __repr__(self) -> str:
        return f"ProcessManager({str(self.home)!r})"

    # -- public API -------------------------------------------------------------------

    def run(
        self,
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
        if_exists: str = "reuse",
        ready: dict[str, Any] | None = None,
        ready_timeout: float = 60.0,
        max_memory: int | str | None = None,
        bind: str | dict[str, Any] | None = None,
        wait: str | None = None,
        runner: str | None = None,
        resources: dict[str, Any] | None = None,
        runner_options: dict[str, Any] | None = None,
    ) -> ProcessHandle:
        """Start ``cmd`` under a supervisor as ``name``; return once it has a live pid.

        ``if_exists``: ``"reuse"`` returns an active process of that name if it was
        started with the same configuration (else raises ProcessExistsError);
        ``"replace"`` stops it and starts this one; ``"error"`` always raises if active.
        A finished entry is started afresh (its logs are appended to).

        ``ready`` (``{"port": 8000}``, ``{"http": url}``, ``{"log": regex}``,
        ``{"health": True}``) says when the process can be used: it is ``starting``
        until then; ``wait="ready"`` returns only then (see ProcessHandle.wait_ready).
        ``max_memory="2G"`` restarts the process (stops it with ``restart="no"``) when
        its tree stays above that. ``bind="kernel"`` stops it when the calling kernel
        shuts down or dies (not when it restarts).

        ``runner="slurm"`` runs the supervisor as a Slurm job instead of on this host,
        with ``resources`` (``{"cpus": 2, "memory": "4G", "gpus": 1, "time":
        "02:00:00"}``) and ``runner_options`` (``partition``, ``account``, ``qos``,
        ``sbatch_args``); it returns at once with the process ``queued``
        (see docs/clusters.md).
        """
        if wait not in (None, "ready"):
            raise SpecError(f"wait must be None or 'ready', not {wait!r}")
        config = build_config(
            name,
            cmd,
            cwd=cwd,
            env=env,
            shell=shell,
            restart=restart,
            max_restarts=max_restarts,
            backoff=backoff,
            ttl=ttl,
            health=health,
            labels=labels,
            logs=logs,
            ready=ready,
            ready_timeout=ready_timeout,
            max_memory=max_memory,
            bind=bind,
            runner=runner,
            resources=resources,
            runner_options=runner_options,
        )
        handle = self._run_config(config, if_exists)
        return handle.wait_ready() if wait == "ready" else handle

    def run_function(
        self,
        func: Callable[..., Any],
        *args: Any,
        name: str | None = None,
        cwd: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        restart: str = "no",
        max_restarts: int | None = 10,
        backoff: dict[str, float] | None = None,
        ttl: float | None = None,
        health: dict[str, Any] | None = None,
        labels: dict[str, str] | None = None,
        logs: dict[str, int] | None = None,
        if_exists: str = "reuse",
        runner: str | None = None,
        resources: dict[str, Any] | None = None,
        runner_options: dict[str, Any] | None = None,
        ready: dict[str, Any] | None = None,
        ready_timeout: float = 60.0,
        max_memory: int | str | None = None,
        bind: str | dict[str, Any] | None = None,
        wait: str | None = None,
        **kwargs: Any,
    ) -> ProcessHandle:
        """Run ``func(*args, **kwargs)`` in a new interpreter of this Python, supervised.

        Keyword arguments named like run() options are run() options; to pass such a
        keyword to the function itself, use ``functools.partial``. The name defaults to
        the function's name.
        """
        if wait not in (None, "ready"):
            raise SpecError(f"wait must be None or 'ready', not {wait!r}")
        pname = name if name is not None else _function_name(func)
        payload = _pickle_call(func, args, kwargs)
        config = build_config(
            pname,
            [sys.executable, "-m", "syft_pm.function_runner", "function.pkl"],
            cwd=cwd,
            env=env,
            restart=restart,
            max_restarts=max_restarts,
            backoff=backoff,
            ttl=ttl,
            health=health,
            labels=labels,
            logs=logs,
            runner=runner,
            resources=resources,
            runner_options=runner_options,
            ready=ready,
            ready_timeout=ready_timeout,
            max_memory=max_memory,
            bind=bind,
        )
        # The payload lives in the process directory; its path is fixed once known.
        config["cmd"][-1] = str(self.registry.processes_dir / pname / "function.pkl")
        config["kind"] = "function"
        config["function"] = {
            "module": getattr(func, "__module__", None),
            "qualname": getattr(func, "__qualname__", None),
        }
        config["function_sha256"] = hashlib.sha256(payload).hexdigest()
        handle = self._run_config(config, if_exists, payload=payload)
        return handle.wait_ready() if wait == "ready" else handle

    def get(self, name: str) -> ProcessHandle:
        """The handle of ``name``; ProcessNotFoundError if there is no such entry."""
        validate_name(name)
        if not self.registry.exists(name):
            raise ProcessNotFoundError(f"no process named {name!r} in {self.home}")
        return ProcessHandle(self, name, self.refreshed(name))

    def list(self) -> builtins.list[ProcessHandle]:
        """Handles for every entry, sorted by name; a damaged entry has status "error"."""
        return [ProcessHandle(self, n, self.refreshed(n)) for n in self.registry.names()]

    # -- start ------------------------------------------------------------------------

    def _run_config(
        self, config: dict[str, Any], if_exists: str, payload: bytes | None = None
    ) -> ProcessHandle:
        if if_exists not in IF_EXISTS:
            raise SpecError(
                f"if_exists must be one of {', '.join(map(repr, IF_EXISTS))}, not {if_exists!r}"
            )
        name = config["name"]
        config["fingerprint"] = fingerprint(config)
        self.registry.ensure()
        with self.registry.lock(name):
            rec = self._repair_locked(name) if self.registry.exists(name) else None
            if rec is not None and rec.status in ACTIVE_STATUSES:
                if if_exists == "reuse" and rec.config.get("fingerprint") == config["fingerprint"]:
                    return ProcessHandle(self, name, rec)
                if if_exists != "replace":
                    raise ProcessExistsError(self._exists_message(rec, config, if_exists))
                self._stop_locked(rec, float(rec.config.get("stop_timeout") or 5.0))
            elif rec is not None and rec.error:
                live = live_supervisor(rec.directory)
                if live is not None and if_exists != "replace":
                    raise ProcessExistsError(
                        f"process {name!r} cannot be read ({rec.error}) but {live.describe()}; "
                        "it was left alone. Pass if_exists='replace' to stop it and start anew"
                    )
                self._stop_unreadable_locked(rec, live, float(config.get("stop_timeout") or 5.0))
            return self._start_on_disk_locked(config, payload)

    def _start_on_disk_locked(self, config: dict[str, Any], payload: bytes | None) -> ProcessHandle:
        """Start; a registry that cannot be written (full, read-only) is a clear error, and
        an entry this call created is not left behind half-made as an ``error`` entry."""
        pdir = self.registry.process_dir(config["name"])
        created = not pdir.exists()
        try:
            return self._start_locked(config, payload)
        except OSError as e:
            if e.errno not in _UNWRITABLE:
                raise
            if created:
                shutil.rmtree(pdir, ignore_errors=True)
            raise ProcessStartError(
                f"cannot start {config['name']!r}: the registry {self.home} cannot be "
                f"written ({e.strerror})"
            ) from e

    @staticmethod
    def _exists_message(rec: ProcessRecord, config: dict[str, Any], if_exists: str) -> str:
        pid = rec.state.get("pid")
        what = f"process {rec.name!r} is already {rec.status}" + (f" (pid {pid})" if pid else "")
        if if_exists == "error":
            return f"{what}; pass if_exists='replace' to stop it and start a new one"
        changed = [k for k in FINGERPRINT_KEYS if rec.config.get(k) != config.get(k)]
        return (
            f"{what} with a different configuration (changed: {', '.join(changed) or 'unknown'}); "
            "pass if_exists='replace' to stop it and start the new one, or use another name"
        )

    def _start_locked(
        self,
        config: dict[str, Any],
        payload: bytes | None,
        *,
        base_env: dict[str, str] | None = None,
        origin: dict[str, Any] | None = None,
    ) -> ProcessHandle:
        """Start a run (see :func:`launch.start_run`); the caller holds the lock."""
        launch.start_run(self.registry, config, payload, base_env=base_env, origin=origin)
        return ProcessHandle(self, config["name"], self.registry.record(config["name"]))

    # -- reconciliation ---------------------------------------------------------------

    def refreshed(self, name: str) -> ProcessRecord:
        """Read an entry as it truly is, changing nothing (see :func:`observed`)."""
        return observed(self.registry.record(name), self.registry)

    def repair(self, name: str) -> ProcessRecord:
        """Record the end of a run whose supervisor died, and stop what it left running.

        Reads only *report* such an entry as failed; this is the explicit write (run,
        stop, restart and remove do the same first). A no-op for a healthy entry.
        """
        validate_name(name)
        if not self.registry.exists(name):
            raise ProcessNotFoundError(f"no process named {name!r} in {self.home}")
        with self.registry.lock(name):
            return self._repair_locked(name)

    def _repair_locked(self, name: str) -> ProcessRecord:
        rec = self.registry.record(name)
        if runners.is_remote(rec.config):
            from .runners import remote

            return remote.repair(rec)
        if not needs_repair(rec):
            if rec.error or supervisor_recorded_dead(rec):
                # Unreadable, or naming a dead supervisor while a live one holds the
                # lock (a stale or foreign record): never a kill; ask it to rewrite.
                return self._reread_locked(rec)
            return rec
        st = rec.state
        run_id = str(st.get("run_id") or "")
        child = procutil.verified(st.get("pid"), st.get("create_time"))
        procutil.kill_tree(lambda: _leftovers(run_id, child))
        reason = dead_supervisor_reason(rec)
        now = time.time()
        state = {
            **st,
            "status": "failed",
            "reason": reason,
            "ended_at": st.get("ended_at") or now,
            "updated_at": now,
        }
        try:
            atomic_write_json(rec.directory / "state.json", state)
        except OSError as e:  # a full disk: report what could not be recorded
            state["reason"] = f"{reason} (not recorded: {e.strerror or e})"
            return ProcessRecord(name, rec.directory, rec.config, state, rec.health)
        return self.registry.record(name)

    def _reread_locked(self, rec: ProcessRecord) -> ProcessRecord:
        """An entry we cannot read (or whose record names another supervisor) while its
        supervisor is alive and verified: ask it to write its state again (it keeps it
        in memory) and read that, briefly."""
        live = live_supervisor(rec.directory)
        if live is None or live.process is None:
            return rec
        import psutil

        try:
            live.process.send_signal(REWRITE_SIGNAL)
        except psutil.Error:
            return rec
        deadline = time.monotonic() + REREAD_TIMEOUT
        delay = 0.002
        while time.monotonic() < deadline:
            fresh = self.registry.record(rec.name)
            if not fresh.error and not supervisor_recorded_dead(fresh):
                return fresh
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return self.registry.record(rec.name)

    def _stop_unreadable_locked(
        self, rec: ProcessRecord, live: LiveSupervisor | None, timeout: float
    ) -> ProcessRecord:
        """Stop an entry whose state.json cannot be read. A live supervisor is stopped
        only once verified (its lock file's pid and create time); with none alive, what
        still carries the run id in its environment is a leftover of a dead run."""
        if live is None:
            run_id = rec.config.get("run_id") or rec.state.get("run_id")
            if isinstance(run_id, str) and run_id:
                procutil.kill_tree(lambda: _leftovers(run_id, None))
            return rec
        if live.process is None:
            raise ProcessRunningError(
                f"process {rec.name!r} cannot be read ({rec.error}) and {live.describe()}; "
                "nothing was signalled"
            )
        state = {
            "status": "running",
            "run_id": live.run_id,
            "supervisor_pid": live.pid,
            "supervisor_create_time": live.create_time,
        }
        return self._stop_locked(ProcessRecord(rec.name, rec.directory, rec.config, state), timeout)

    # -- stop / restart / remove (used by ProcessHandle) --------------------------------

    def stop(self, name: str, timeout: float = 5.0) -> ProcessRecord:
        with self.registry.lock(name, timeout=timeout + 30):
            rec = self._repair_locked(name)
            if rec.error:
                return self._stop_unreadable_locked(rec, live_supervisor(rec.directory), timeout)
            return self._stop_locked(rec, timeout)

    def _stop_locked(self, rec: ProcessRecord, timeout: float) -> ProcessRecord:
        if runners.is_remote(rec.config):
            from .runners import remote

            remote.stop(rec, timeout)
            return self.registry.record(rec.name)
        if rec.status not in ACTIVE_STATUSES:
            return rec
        st = rec.state
        sup = procutil.verified(st.get("supervisor_pid"), st.get("supervisor_create_time"))
        if sup is None:
            live = live_supervisor(rec.directory)
            if live is None or live.process is None:
                return self._repair_locked(rec.name)
            # The record names another supervisor; the verified lock holder is the one.
            sup = live.process
            st = {
                **st,
                "supervisor_pid": live.pid,
                "supervisor_create_time": live.create_time,
                "run_id": live.run_id,
            }
        signum = 15
        try:
            write_stop_request(rec.directory, timeout, st.get("run_id"))
        except OSError:
            # A full disk: the request travels as a signal instead (needs no space);
            # the supervisor then uses the configured stop timeout.
            signum = REQUEST_STOP_SIGNAL
        import psutil

        with contextlib.suppress(psutil.Error):
            sup.send_signal(signum)
        if procutil.wait_gone([sup], timeout + 10.0):
            # The supervisor is wedged: take over. Nothing is signalled unverified.
            with contextlib.suppress(psutil.Error):
                sup.kill()
            procutil.wait_gone([sup], 5.0)
            child = procutil.verified(st.get("pid"), st.get("create_time"))
            run_id = str(st.get("run_id") or "")
            procutil.kill_tree(lambda: _leftovers(run_id, child), timeout=1.0)
            now = time.time()
            with contextlib.suppress(OSError):  # a full disk: the repair below reports it
                atomic_write_json(
                    rec.directory / "state.json",
                    {
                        **st,
                        "status": "stopped",
                        "stop_reason": "requested",
                        "reason": "the supervisor did not stop in time and was killed",
                        "ended_at": now,
                        "updated_at": now,
                    },
                )
        return self._repair_locked(rec.name)

    def restart(self, name: str, timeout: float = 5.0) -> ProcessHandle:
        """Stop (if active) and start again with the stored configuration."""
        with self.registry.lock(name, timeout=timeout + 30):
            rec = self._repair_locked(name)
            if rec.error or not rec.config.get("cmd"):
                raise ProcessStartError(
                    f"cannot restart {name!r}: {rec.error or 'no stored command'}"
                )
            self._stop_locked(rec, timeout)
            cfg = rec.config
            config = build_config(
                name,
                cfg["cmd"],
                cwd=cfg.get("cwd"),
                env=cfg.get("env"),
                shell=bool(cfg.get("shell")),
                restart=cfg.get("restart", "no"),
                max_restarts=cfg.get("max_restarts", 10),
                backoff=cfg.get("backoff"),
                ttl=cfg.get("ttl"),
                health=cfg.get("health"),
                labels=cfg.get("labels"),
                logs=cfg.get("logs"),
                stop_timeout=float(cfg.get("stop_timeout") or 5.0),
            )
            for key in (
                "kind",
                "function",
                "function_sha256",
                "ready",
                "ready_timeout",
                "max_memory",
                "bind",
            ):
                if key in cfg:
                    config[key] = cfg[key]
            config["fingerprint"] = fingerprint(config)
            origin = cfg.get("provenance") if isinstance(cfg.get("provenance"), dict) else None
            if origin is not None:
                origin = {k: v for k, v in origin.items() if k != "restarted_by"}
            return self._start_locked(
                config, None, base_env=stored_environ(rec.directory), origin=origin
            )

    def remove(self, name: str, force: bool = False) -> None:
        with self.registry.lock(name, timeout=60):
            rec = self._repair_locked(name)
            stop_timeout = float(rec.config.get("stop_timeout") or 5.0)
            if rec.status in ACTIVE_STATUSES:
                if not force:
                    raise ProcessRunningError(
                        f"process {name!r} is {rec.status}; stop it first or pass force=True"
                    )
                self._stop_locked(rec, stop_timeout)
            elif rec.error:
                live = live_supervisor(rec.directory)
                if live is not None and not force:
                    raise ProcessRunningError(
                        f"process {name!r} cannot be read ({rec.error}) but {live.describe()}; "
                        "stop it first or pass force=True"
                    )
                self._stop_unreadable_locked(rec, live, stop_timeout)
            shutil.rmtree(rec.directory, ignore_errors=True)


_UNWRITABLE = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def _leftovers(run_id: str, child: psutil.Process | None) -> builtins.list[psutil.Process]:
    """Processes verifiably of this run: env carries the run id, or the verified child tree."""
    found: dict[int, psutil.Process] = {}
    if run_id:
        for p in procutil.processes_with_run_id(run_id):
            found[p.pid] = p
    if child is not None:
        for p in procutil.descendants([child]):
            found.setdefault(p.pid, p)
    return builtins.list(found.values())


# -- module-level API on the default registry --------------------------------------------------

_default: ProcessManager | None = None


def default_manager() -> ProcessManager:
    """A manager on :func:`default_home`, re-read at each call (SYFT_PM_HOME may change)."""
    global _default
    home = default_home()
    if _default is None or _default.home != home:
        _default = ProcessManager(home)
    return _default


def run(name: str, cmd: str | builtins.list[str], **kwargs: Any) -> ProcessHandle:
    """Start ``cmd`` as ``name`` in the default registry; see :meth:`ProcessManager.run`."""
    return default_manager().run(name, cmd, **kwargs)


def run_function(func: Callable[..., Any], *args: Any, **kwargs: Any) -> ProcessHandle:
    """Run a callable supervised; see :meth:`ProcessManager.run_function`."""
    return default_manager().run_function(func, *args, **kwargs)


def get(name: str) -> ProcessHandle:
    """The handle of ``name`` in the default registry."""
    return default_manager().get(name)


def list() -> builtins.list[ProcessHandle]:
    """Every process in the default registry."""
    return default_manager().list()
