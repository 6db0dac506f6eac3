"""Is the supervisor of an entry alive, when its state.json cannot say?

A truncated or unreadable ``state.json`` hides the supervisor's pid, and guessing must
never lead to a kill. So the supervisor holds an flock on ``supervisor.lock`` in its
process directory for its whole life (the kernel drops it when the process dies, however
it dies) and writes its pid, create time and run id into that file once. A held lock
means "alive"; the recorded pid, checked against its create time, is who may be asked
to rewrite its state or to stop. An unverified holder is never signalled.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import procutil
from .supervisor import LOCK_FILE

if TYPE_CHECKING:
    import psutil


@dataclass(frozen=True)
class LiveSupervisor:
    """A supervisor that holds its lock; ``process`` is set only once verified."""

    pid: int | None
    create_time: float | None
    run_id: str | None
    process: psutil.Process | None

    def describe(self) -> str:
        if self.process is not None:
            return f"its supervisor (pid {self.pid}) is alive"
        return "its supervisor is alive (it holds supervisor.lock; pid not verified)"


def live_supervisor(process_dir: Path) -> LiveSupervisor | None:
    """The supervisor holding ``process_dir``'s lock, or None if none does."""
    try:
        fd = os.open(process_dir / LOCK_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None  # no lock file: no supervisor of this version ever ran here
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return None  # we got it: nobody holds it
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None
        raw = os.pread(fd, 4096, 0)
    finally:
        os.close(fd)
    try:
        who = json.loads(raw)
    except ValueError:
        who = None
    if not isinstance(who, dict):
        return LiveSupervisor(None, None, None, None)
    pid, ctime, run_id = who.get("pid"), who.get("create_time"), who.get("run_id")
    pid = pid if isinstance(pid, int) and not isinstance(pid, bool) else None
    ctime = float(ctime) if isinstance(ctime, (int, float)) else None
    run_id = run_id if isinstance(run_id, str) else None
    return LiveSupervisor(pid, ctime, run_id, procutil.verified(pid, ctime))
