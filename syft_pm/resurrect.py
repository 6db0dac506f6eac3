"""Resurrection: bring back a process whose supervisor died (``kill -9``, the OOM killer)
or whose host rebooted, as pm2's ``resurrect`` and systemd's ``Restart=`` do.

Only entries whose restart policy says the user wants them kept up (``always``, or
``on-failure``: a supervisor's death killed the command, which is a failure) and that are
still *recorded* active while their supervisor is verifiably dead (pid gone or reused,
nobody holding ``supervisor.lock``) are brought back. An entry someone has since written
(stop, restart, repair, remove) is theirs and left alone. Everything happens under the
per-name lock and re-checks under it, so two resurrectors (the server and the CLI) start
one supervisor, never two; the old run's leftovers are stopped only when verified (pid
and create time, or its run id in their environment), by the manager's repair.

The restart count goes on from the dead run, plus one, and ``restart_reason`` says why:
"supervisor was killed", or "host rebooted" when the record's ``boot_id`` is not this
boot's. Callers: ``syft-pm resurrect``, :func:`resurrect`, and the server extension
(:class:`ResurrectThread`: once at start, then every few seconds).
"""

from __future__ import annotations

import builtins
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from . import procutil, runners
from .handle import ProcessHandle
from .launch import stored_environ
from .manager import ProcessManager
from .observe import needs_repair
from .registry import LockTimeout, ProcessRecord
from .state import boot_id
from .status import ACTIVE_STATUSES

REASON_KILLED = "supervisor was killed"
REASON_REBOOT = "host rebooted"
POLICIES = ("always", "on-failure")

log = logging.getLogger("syft_pm.resurrect")


@dataclass
class Resurrected:
    name: str
    reason: str
    handle: ProcessHandle | None = None
    error: str | None = None


def reason_for(rec: ProcessRecord) -> str | None:
    """Why ``rec`` should be brought back now, or None. Reads only (no lock needed)."""
    if rec.error or rec.config.get("restart") not in POLICIES:
        return None
    if runners.is_remote(rec.config):
        # Its supervisor runs elsewhere: a local pid says nothing about it, and bringing
        # it back is the scheduler's business (sbatch --requeue), never a second job.
        return None
    if rec.status not in ACTIVE_STATUSES or not needs_repair(rec):
        return None
    recorded = rec.state.get("boot_id")
    now = boot_id()
    if isinstance(recorded, str) and now is not None and recorded != now:
        return REASON_REBOOT
    return REASON_KILLED


def resurrect_one(pm: ProcessManager, name: str, lock_timeout: float = 5.0) -> Resurrected | None:
    """Bring ``name`` back if it should be (checked again under its lock), else None."""
    if reason_for(pm.registry.record(name)) is None:
        return None
    try:
        with pm.registry.lock(name, timeout=lock_timeout):
            rec = pm.registry.record(name)
            why = reason_for(rec)
            if why is None:
                return None  # someone else got there first
            restarts = rec.state.get("restarts")
            carry = {
                "restarts": (restarts if isinstance(restarts, int) else 0) + 1,
                "restart_reason": why,
            }
            rec = pm._repair_locked(name)  # records the end; stops verified leftovers
            config = {
                k: v
                for k, v in rec.config.items()
                if k not in ("run_id", "provenance", "created_at", "carry")
            }
            config["carry"] = carry
            prov = rec.config.get("provenance")
            origin = (
                {k: v for k, v in prov.items() if k != "restarted_by"}
                if isinstance(prov, dict)
                else None
            )
            try:
                handle = pm._start_locked(
                    config, None, base_env=stored_environ(rec.directory), origin=origin
                )
            except Exception as e:  # noqa: BLE001 - reported per process, the others go on
                return Resurrected(name, why, error=str(e))
            return Resurrected(name, why, handle=handle)
    except LockTimeout:
        return None  # a start or stop is under way: the next pass looks again


def resurrect(
    pm: ProcessManager | None = None, names: builtins.list[str] | None = None
) -> builtins.list[Resurrected]:
    """Bring back every process that should be (of ``names``, default all); what was
    done, one entry per process."""
    if pm is None:
        from .manager import default_manager

        pm = default_manager()
    done = []
    for name in pm.registry.names() if names is None else names:
        try:
            result = resurrect_one(pm, name)
        except Exception as e:  # noqa: BLE001 - one broken entry must not stop the rest
            log.warning("syft_pm: could not resurrect %s: %s", name, e)
            continue
        if result is not None:
            done.append(result)
    return done


class Scanner:
    """Which entries might need resurrecting, cheaply enough to ask every few seconds of
    a thousand: an entry's files are read again only when they changed (inode and
    mtime of config.json and state.json); what is left per pass is a ``stat`` per
    entry and, for the active ones with a policy that keeps them up, one read of
    ``/proc/<supervisor pid>/stat``. A candidate is then checked in full, under its lock.
    """

    def __init__(self) -> None:
        # name -> (file key, supervisor pid and create time if it is a kept-up active entry)
        self._seen: dict[str, tuple[tuple[int, ...], tuple[object, object] | None]] = {}

    def candidates(self, pm: ProcessManager) -> builtins.list[str]:
        names = pm.registry.names()
        for gone in set(self._seen) - set(names):
            del self._seen[gone]
        out = []
        for name in names:
            d = pm.registry.processes_dir / name
            try:
                cs, ss = (d / "config.json").lstat(), (d / "state.json").lstat()
            except OSError:
                self._seen.pop(name, None)
                continue
            key = (cs.st_ino, cs.st_mtime_ns, ss.st_ino, ss.st_mtime_ns)
            seen = self._seen.get(name)
            if seen is None or seen[0] != key:
                rec = pm.registry.record(name)
                kept_up = (
                    not rec.error
                    and not runners.is_remote(rec.config)
                    and rec.config.get("restart") in POLICIES
                    and rec.status in ACTIVE_STATUSES
                )
                sup = (
                    (rec.state.get("supervisor_pid"), rec.state.get("supervisor_create_time"))
                    if kept_up
                    else None
                )
                seen = self._seen[name] = (key, sup)
            sup = seen[1]
            if sup is None:
                continue
            pid, ctime = sup
            if not procutil.is_alive(
                pid if isinstance(pid, int) else None,
                float(ctime) if isinstance(ctime, (int, float)) else None,
            ):
                out.append(name)
        return out


class ResurrectThread:
    """The server extension's resurrector: a pass at start, then one every ``interval``
    seconds, on a daemon thread of its own (never the event loop)."""

    def __init__(self, home: Path, interval: float = 5.0) -> None:
        self.home = home
        self.interval = interval
        self.scanner = Scanner()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="syft-pm-resurrect", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        pm: ProcessManager | None = None
        while not self._stop.is_set():
            try:
                pm = pm or ProcessManager(self.home)
                for r in resurrect(pm, self.scanner.candidates(pm)):
                    if r.error:
                        log.warning(
                            "syft_pm: could not bring %s back (%s): %s", r.name, r.reason, r.error
                        )
                    else:
                        log.info("syft_pm: brought %s back (%s)", r.name, r.reason)
            except Exception:
                log.exception("syft_pm: resurrection pass failed")
            self._stop.wait(self.interval)
