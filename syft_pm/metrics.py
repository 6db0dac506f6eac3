"""Resource metrics for a whole process tree (the managed command and its descendants).

Read from ``/proc`` directly: one pass over ``/proc/*/stat`` gives every process's
parent, CPU time, threads and resident memory, so sampling fifty trees costs one pass,
not fifty (``psutil.Process.children`` rescans /proc on every call, and
``net_connections`` reads the socket tables once per process: ``syft-pm list`` with 50
processes took 866 ms that way). Listening ports come from one read of
``/proc/net/tcp{,6}`` for all trees, and only when a process of them has a socket.

CPU percent is a rate, so it needs two samples of the same process: the last sample is
kept per ``(pid, start time)`` (a reused pid is a different key) and the first sample of
a process falls back to its lifetime average. A process vanishing mid-measurement is
skipped, never an error. No psutil: the supervisor's own samplers use this module too.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from . import procutil

_PURGE_AFTER = 120.0
_lock = threading.Lock()
#: ``(pid, start) -> (cpu seconds, monotonic time, last percent)``
_rates: dict[tuple[int, int], tuple[float, float, float]] = {}
_shared = threading.local()


class _Proc(NamedTuple):
    ppid: int
    start: int  # clock ticks after boot
    cpu: float  # user + system seconds
    threads: int


class Snapshot:
    """Every live process from one pass over /proc, and (on first use) the listening
    TCP sockets of the machine's network namespace."""

    def __init__(self) -> None:
        self.taken = time.monotonic()
        tck = os.sysconf("SC_CLK_TCK")
        self.procs: dict[int, _Proc] = {}
        self.kids: dict[int, list[int]] = {}
        for name in os.listdir("/proc"):  # noqa: PTH208 - runs per process, keep it cheap
            if not name.isdigit():
                continue
            try:
                with open(f"/proc/{name}/stat", "rb") as f:
                    raw = f.read()
            except OSError:
                continue
            fields = raw[raw.rfind(b")") + 2 :].split()
            if len(fields) < 22 or fields[0] in (b"Z", b"X"):
                continue
            pid = int(name)
            p = _Proc(
                int(fields[1]),
                int(fields[19]),
                (int(fields[11]) + int(fields[12])) / tck,
                int(fields[17]),
            )
            self.procs[pid] = p
            self.kids.setdefault(p.ppid, []).append(pid)
        self._listening: dict[int, int] | None = None

    def create_time(self, pid: int) -> float | None:
        p = self.procs.get(pid)
        if p is None:
            return None
        return p.start / os.sysconf("SC_CLK_TCK") + procutil._btime()

    def tree(self, root: int) -> list[int]:
        """``root`` and all its descendants."""
        out = [root]
        seen = {root}
        stack = list(self.kids.get(root, ()))
        while stack:
            pid = stack.pop()
            if pid in seen:
                continue
            seen.add(pid)
            out.append(pid)
            stack.extend(self.kids.get(pid, ()))
        return out

    def listening(self) -> dict[int, int]:
        """Socket inode -> port, for every TCP socket in LISTEN state (read once)."""
        if self._listening is None:
            found: dict[int, int] = {}
            for table in ("/proc/net/tcp", "/proc/net/tcp6"):
                try:
                    with open(table, "rb") as f:
                        lines = f.read().splitlines()[1:]
                except OSError:
                    continue
                for line in lines:
                    cols = line.split()
                    if len(cols) > 9 and cols[3] == b"0A":  # TCP_LISTEN
                        found[int(cols[9])] = int(cols[1].rsplit(b":", 1)[1], 16)
            self._listening = found
        return self._listening


def _rss(pid: int) -> int:
    """Resident bytes from statm (the rss in /proc/<pid>/stat is a per-CPU estimate that
    lags: a process that just started can show 0 there)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def _socket_inodes(pid: int) -> list[int]:
    out: list[int] = []
    try:
        fds = os.listdir(f"/proc/{pid}/fd")  # noqa: PTH208
    except OSError:
        return out
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")  # noqa: PTH115
        except OSError:
            continue
        if target.startswith("socket:["):
            out.append(int(target[8:-1]))
    return out


def _cpu_percent(pid: int, p: _Proc, now: float, age: float) -> float:
    key = (pid, p.start)
    with _lock:
        prev = _rates.get(key)
        if prev is None:
            pct = 100.0 * p.cpu / max(age, 1e-3)  # first sample: the lifetime average
        elif now - prev[1] < 0.01:
            pct = prev[2]  # sampled again at once: no new interval to measure
        else:
            pct = max(0.0, 100.0 * (p.cpu - prev[0]) / (now - prev[1]))
        _rates[key] = (p.cpu, now, pct)
        if len(_rates) > 256:
            for k in [k for k, v in _rates.items() if now - v[1] > _PURGE_AFTER]:
                del _rates[k]
    return pct


def tree_metrics(
    pid: int | None, create_time: float | None, snap: Snapshot | None = None
) -> dict[str, Any] | None:
    """``{"cpu_percent", "rss_bytes", "threads", "children", "ports"}`` or None if gone.

    ``snap`` is a :class:`Snapshot` shared by a caller that samples many trees; inside
    ``with shared_snapshot():`` one is shared implicitly (a listing's ``info()`` calls).
    """
    if not pid or create_time is None:
        return None
    if snap is None:
        snap = getattr(_shared, "snap", None) or Snapshot()
    ctime = snap.create_time(pid)
    if ctime is None or abs(ctime - create_time) > procutil.CREATE_TIME_TOLERANCE:
        return None
    now = time.monotonic()
    wall = time.time()
    cpu = 0.0
    rss = 0
    threads = 0
    inodes: list[int] = []
    pids = snap.tree(pid)
    for member in pids:
        p = snap.procs[member]
        age = wall - (snap.create_time(member) or wall)
        cpu += _cpu_percent(member, p, now, age)
        rss += _rss(member)
        threads += p.threads
        inodes.extend(_socket_inodes(member))
    ports: set[int] = set()
    if inodes:
        listening = snap.listening()
        ports = {listening[i] for i in inodes if i in listening}
    return {
        "cpu_percent": round(cpu, 1),
        "rss_bytes": rss,
        "threads": threads,
        "children": len(pids) - 1,
        "ports": sorted(ports),
    }


@contextmanager
def shared_snapshot() -> Iterator[Snapshot]:
    """Within the block, :func:`tree_metrics` (and so ``ProcessHandle.info()``) in this
    thread reads one snapshot of /proc: ``[h.info() for h in pm.list()]`` costs one
    pass and one socket-table read, however many processes there are."""
    outer = getattr(_shared, "snap", None)
    snap = outer or Snapshot()
    _shared.snap = snap
    try:
        yield snap
    finally:
        _shared.snap = outer


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids for the whole machine, from one pass over /proc."""
    return Snapshot().kids


class MetricsSampler:
    """Samples many trees in one call: ``sample({name: (pid, create_time)})``.

    One /proc pass per call; the CPU-rate memory is module-wide, so rates stay right
    whichever sampler asks.
    """

    def sample(
        self, targets: Mapping[str, tuple[int | None, float | None]]
    ) -> dict[str, dict[str, Any] | None]:
        if not targets:
            return {}
        snap = Snapshot()
        return {name: tree_metrics(pid, ct, snap) for name, (pid, ct) in targets.items()}
