"""How an entry reads, computed without writing or signalling anything.

Every read path (``get``, ``list``, ``refresh``, ``info``, the watcher behind every live
view, the resurrector's look) shows a record through :func:`observed`, so a browser's
GET can never kill leftovers or rewrite state: an entry whose supervisor is verifiably
dead only *reads* as ``failed`` here; the manager records it so, under the entry's lock,
on the next write. Kept apart from the manager so readers need not import what starts
processes.
"""

from __future__ import annotations

from pathlib import Path

from . import procutil, runners
from .liveness import live_supervisor
from .registry import ProcessRecord, Registry
from .status import ACTIVE_STATUSES


def observed(rec: ProcessRecord, registry: Registry) -> ProcessRecord:
    """``rec`` as a reader should report it, computed without writing or signalling.

    An active entry whose supervisor is verifiably dead reads as ``failed`` with the
    reason the next repair will record; anything else is returned unchanged. This is
    what every read path (get, list, refresh, info, the watcher) shows, so a browser's
    GET can never kill leftovers or rewrite state.
    """
    if runners.is_remote(rec.config):
        # Elsewhere a pid means nothing: the heartbeat and the scheduler decide.
        from .runners import remote

        return remote.observe(rec)
    if rec.error:
        live = live_supervisor(rec.directory)
        if live is None:
            return rec
        return ProcessRecord(
            rec.name,
            rec.directory,
            rec.config,
            rec.state,
            rec.health,
            error=f"{rec.error}; {live.describe()}",
        )
    if not needs_repair(rec):
        return rec
    if registry.is_locked(rec.name):
        return rec  # a start (no supervisor pid yet) or stop is under way: report as is
    state = {**rec.state, "status": "failed", "reason": dead_supervisor_reason(rec)}
    return ProcessRecord(
        name=rec.name,
        directory=rec.directory,
        config=rec.config,
        state=state,
        health=rec.health,
        error=rec.error,
    )


def dead_supervisor_reason(rec: ProcessRecord) -> str:
    if rec.state.get("supervisor_pid"):
        return "supervisor died unexpectedly (killed?)"
    return "supervisor failed to start" + log_hint(rec.directory / "supervisor.log")


def needs_repair(rec: ProcessRecord) -> bool:
    """An active record whose supervisor is verifiably gone: the pid it names is dead
    (or another process), and nobody holds the entry's lifetime lock."""
    return supervisor_recorded_dead(rec) and live_supervisor(rec.directory) is None


def supervisor_recorded_dead(rec: ProcessRecord) -> bool:
    if rec.error or rec.status not in ACTIVE_STATUSES:
        return False
    st = rec.state
    return not procutil.is_alive(st.get("supervisor_pid"), st.get("supervisor_create_time"))


def log_hint(path: Path) -> str:
    try:
        lines = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return f": {lines[-1][-300:]}" if lines else ""
