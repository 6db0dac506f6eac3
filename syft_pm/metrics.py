"""Resource metrics for a whole process tree (the managed command and its descendants).

CPU percent is a rate, so it needs two samples of the same process: the psutil.Process
objects are cached by ``(pid, create_time)`` (a reused pid is a different key) and the
first sample of a process falls back to its lifetime average instead of psutil's
meaningless ``0.0``. A process vanishing mid-measurement is skipped, never an error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import procutil

if TYPE_CHECKING:
    import psutil

_cache: dict[tuple[int, float], tuple[psutil.Process, float]] = {}
_lock = threading.Lock()
_PURGE_AFTER = 120.0


def _cached(p: psutil.Process, now: float) -> tuple[psutil.Process, bool]:
    key = (p.pid, round(p.create_time(), 2))
    with _lock:
        hit = _cache.get(key)
        _cache[key] = (hit[0] if hit else p, now)
        if len(_cache) > 256:
            for k in [k for k, (_, seen) in _cache.items() if now - seen > _PURGE_AFTER]:
                del _cache[k]
    return (hit[0], False) if hit else (p, True)


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids for the whole machine, from one pass over /proc.

    ``Process.children()`` rescans /proc on every call; sampling many trees with one
    shared map is what keeps the watcher's cost flat in the number of processes.
    """
    import psutil

    out: dict[int, list[int]] = {}
    for p in psutil.process_iter(["ppid"]):
        ppid = p.info.get("ppid")
        if ppid is not None:
            out.setdefault(ppid, []).append(p.pid)
    return out


def _descendants(root: psutil.Process, kids: dict[int, list[int]]) -> list[psutil.Process]:
    import psutil

    out: list[psutil.Process] = []
    stack = list(kids.get(root.pid, ()))
    seen = {root.pid}
    while stack:
        pid = stack.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            out.append(psutil.Process(pid))
        except psutil.Error:
            continue
        stack.extend(kids.get(pid, ()))
    return out


def tree_metrics(
    pid: int | None, create_time: float | None, kids: dict[int, list[int]] | None = None
) -> dict[str, Any] | None:
    """``{"cpu_percent", "rss_bytes", "threads", "children", "ports"}`` or None if gone.

    ``kids`` is a :func:`children_map` shared by a caller that samples many trees.
    """
    import psutil

    root = procutil.verified(pid, create_time)
    if root is None:
        return None
    try:
        descendants = root.children(recursive=True) if kids is None else _descendants(root, kids)
    except psutil.Error:
        return None
    procs = [root, *descendants]
    now = time.time()
    cpu = 0.0
    rss = 0
    threads = 0
    ports: set[int] = set()
    counted = 0
    for proc in procs:
        try:
            p, first = _cached(proc, now)
            with p.oneshot():
                if first:
                    t = p.cpu_times()
                    age = max(now - p.create_time(), 1e-3)
                    cpu += 100.0 * (t.user + t.system) / age
                    p.cpu_percent(None)  # prime the rate for the next call
                else:
                    cpu += p.cpu_percent(None)
                rss += p.memory_info().rss
                threads += p.num_threads()
            for c in p.net_connections(kind="tcp"):
                if c.status == psutil.CONN_LISTEN and c.laddr:
                    ports.add(int(c.laddr[1]))
            counted += 1
        except (psutil.Error, OSError):
            continue
    if not counted:
        return None
    return {
        "cpu_percent": round(cpu, 1),
        "rss_bytes": rss,
        "threads": threads,
        "children": counted - 1,
        "ports": sorted(ports),
    }


class MetricsSampler:
    """Samples many trees in one call: ``sample({name: (pid, create_time)})``.

    The process cache is module-wide, so rates stay right whichever sampler asks.
    """

    def sample(
        self, targets: Mapping[str, tuple[int | None, float | None]]
    ) -> dict[str, dict[str, Any] | None]:
        if not targets:
            return {}
        kids = children_map()
        return {name: tree_metrics(pid, ct, kids) for name, (pid, ct) in targets.items()}
