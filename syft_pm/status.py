"""The one list of statuses a process can have, and how long an active one has been up.

Everything that judges a status (registry, handles, the CLI, the watcher, the static
cell output) reads these names from here; ``syft_pm.live.protocol`` re-exports them as
part of the wire vocabulary, and ``labextension/src/live/protocol.ts`` mirrors them
(``tests/test_protocol_sync.py`` keeps the two in step). It lives in the core, not in
``live/``, because the registry itself needs it and the core never imports upwards.
"""

from __future__ import annotations

import time
from typing import Any

#: Every status a process can have, in lifecycle order. ``queued`` is a process waiting
#: for a cluster scheduler. ``error`` (below) is only ever reported for a registry entry
#: whose files cannot be read, never written.
STATUSES = (
    "queued",
    "starting",
    "running",
    "unhealthy",
    "stopping",
    "stopped",
    "exited",
    "failed",
)
#: A supervisor is (or should be) looking after the process.
ACTIVE_STATUSES = frozenset({"queued", "starting", "running", "unhealthy", "stopping"})
#: Nothing will change any more unless someone starts it again.
FINAL_STATUSES = frozenset({"stopped", "exited", "failed"})
ERROR_STATUS = "error"
#: Statuses in which the command itself runs, so an uptime means something.
UP_STATUSES = frozenset({"running", "unhealthy", "stopping"})


def uptime(status: str, state: dict[str, Any], now: float | None = None) -> float | None:
    """Seconds since the command started, while it runs; None otherwise.

    ``starting`` and ``queued`` have no uptime: the command is not running yet, and a
    crash-looping process would otherwise show the age of its last attempt.
    """
    started = state.get("started_at")
    if status not in UP_STATUSES or not isinstance(started, (int, float)):
        return None
    return max(0.0, (time.time() if now is None else now) - float(started))


def format_duration(seconds: float | None) -> str:
    """``42s``, ``3m 05s``, ``2h 07m``, ``1d 4h``: two units at most, the same as the
    frontend's ``formatUptime``, so the CLI, the static output and the views agree."""
    if seconds is None:
        return "-"
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m {s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h {m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d {h}h"
