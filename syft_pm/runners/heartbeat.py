"""The heartbeat a remote supervisor writes, and how readers judge it.

On a cluster the submit host cannot see the node's processes: no pid means anything
there. So a supervisor started by a scheduler writes ``heartbeat.json`` every
:data:`~syft_pm.runners.HEARTBEAT_INTERVAL` seconds: the time, its node and job, and its
tree's metrics (which views show instead of sampling a local pid). A reader that finds
the heartbeat older than :data:`~syft_pm.runners.HEARTBEAT_STALE` asks the scheduler.
Standard library only at import: the supervisor imports this.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from typing import Any

from . import HEARTBEAT_INTERVAL, HEARTBEAT_STALE

FILE = "heartbeat.json"


class Heartbeat:
    """Supervisor side: call :meth:`due` for the loop's timeout, :meth:`beat` when due."""

    def __init__(self, process_dir: str, where: dict[str, Any]) -> None:
        self.path = os.path.join(process_dir, FILE)  # noqa: PTH118 - the lean supervisor
        self.where = where
        self.next_at = 0.0

    def due(self) -> float:
        return self.next_at

    def beat(self, child_pid: int | None, child_create_time: float | None) -> None:
        """Write the heartbeat now (a full disk only delays it: the next beat retries)."""
        self.next_at = time.time() + HEARTBEAT_INTERVAL
        metrics = None
        if child_pid:
            try:
                from ..metrics import tree_metrics

                metrics = tree_metrics(child_pid, child_create_time)
            except Exception:  # noqa: BLE001 - metrics are a courtesy, the beat is not
                metrics = None
        body = {"time": time.time(), **self.where, "metrics": metrics}
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w") as f:
                json.dump(body, f)
            os.replace(tmp, self.path)  # noqa: PTH105 - no pathlib in the lean supervisor
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)  # noqa: PTH108


def read(process_dir: os.PathLike[str] | str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(process_dir, FILE), "rb") as f:  # noqa: PTH118
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def fresh(beat: dict[str, Any] | None, now: float | None = None) -> bool:
    """A heartbeat recent enough that its supervisor is taken to be alive."""
    if not beat or not isinstance(beat.get("time"), (int, float)):
        return False
    return (time.time() if now is None else now) - float(beat["time"]) < HEARTBEAT_STALE
