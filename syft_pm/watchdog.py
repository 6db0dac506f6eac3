"""The supervisor's watchdog: readiness, the memory limit and the kernel binding.

One daemon thread, started by the supervisor only when config.json asks for one of them
(``ready``, ``max_memory``, ``bind``). Like the health thread it never writes state.json
and never signals: it posts what it found and wakes the main loop, which calls
:meth:`Watchdog.apply` (the supervisor stays the one writer of its state). Each run of
the command is a generation; a finding about an earlier run is dropped.

- readiness: :class:`~syft_pm.ready.ReadyProbe` a few times a second (backing off to
  once a second) until ready, then ``ready_at`` and status ``running``;
- memory: the tree's resident memory once a second; :data:`MEMORY_SAMPLES` samples in a
  row above the limit restart the command (or stop it with ``restart="no"``), with the
  reason ("memory limit 2 GiB exceeded: 2.3 GiB") kept in ``restart_reason``;
- binding: the bound kernel once a second (see :mod:`syft_pm.binding`).

Imports: the standard library and psutil (the supervisor has them already), lazily.
"""

from __future__ import annotations

import os
import threading
import time

TYPE_CHECKING = False  # no typing import in the supervisor (see supervisor.py)
if TYPE_CHECKING:
    from typing import Any

    from .supervisor import Supervisor

MEMORY_SAMPLES = 3
MEMORY_INTERVAL = 1.0
BIND_INTERVAL = 1.0
READY_MAX_INTERVAL = 1.0


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0  # gone meanwhile


def tree_rss(pid: int, create_time: float | None) -> int | None:
    """Resident bytes of ``pid`` (verified by create time) and all its descendants,
    from /proc (the supervisor has no psutil)."""
    from . import procutil

    if not procutil.is_alive(pid, create_time):
        return None
    kids: dict[int, list[int]] = {}
    for p, (ppid, _) in procutil.proc_table().items():
        kids.setdefault(ppid, []).append(p)
    total, seen, stack = 0, set(), [pid]
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss(p)
        stack.extend(kids.get(p, ()))
    return total


class Watchdog:
    def __init__(self, sup: Supervisor) -> None:
        from . import ready as _ready

        self.sup = sup
        cfg = sup.config
        self.ready_spec: dict[str, Any] | None = cfg.get("ready")
        raw_timeout = cfg.get("ready_timeout")
        self.ready_timeout = (
            float(raw_timeout)
            if isinstance(raw_timeout, (int, float))
            else _ready.DEFAULT_READY_TIMEOUT
        )
        mm = cfg.get("max_memory")
        self.max_memory = int(mm) if isinstance(mm, (int, float)) and mm > 0 else None
        bind = cfg.get("bind")
        self.bind: dict[str, Any] | None = bind if isinstance(bind, dict) else None
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._closed = False
        self._gen = 0
        self._child: tuple[int, float | None, float] | None = None  # pid, create time, start
        self._posted: list[tuple[int, str, Any]] = []
        self._thread = threading.Thread(target=self._loop, name="syft-pm-watchdog", daemon=True)

    # -- called by the supervisor's main thread ------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def child_started(self, pid: int, create_time: float | None, at: float) -> None:
        with self._lock:
            self._gen += 1
            self._child = (pid, create_time, at)
        self._event.set()

    def child_stopped(self) -> None:
        with self._lock:
            self._gen += 1
            self._child = None
        self._event.set()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._gen += 1
        self._event.set()

    def pending(self) -> bool:
        with self._lock:
            return bool(self._posted)

    def apply(self) -> int | None:
        """Act on what the thread found; an exit code when the supervisor must end."""
        with self._lock:
            posted, self._posted = self._posted, []
            gen = self._gen
        sup = self.sup
        for g, kind, payload in posted:
            if kind == "bound_to":
                sup.write_state(bound_to=payload)
                continue
            if kind == "unbound":
                return self._stop(str(payload), "kernel")
            if g != gen or sup.child is None:
                continue  # about a run that has ended since
            if kind == "ready" and sup.state.get("status") == "starting":
                sup.write_state(status="running", reason=None, ready_at=payload)
                sup.apply_health()
            elif kind == "not_ready" and sup.state.get("status") == "starting":
                sup.write_state(reason=str(payload))
            elif kind == "memory":
                return self._memory(int(payload))
        return None

    def _memory(self, rss: int) -> int | None:
        from .limits import memory_reason

        sup = self.sup
        assert self.max_memory is not None
        reason = memory_reason(self.max_memory, rss)
        if sup.config.get("restart", "no") == "no":
            return self._stop(reason, "memory")
        # Restarted like a crash, with the policy's backoff and max_restarts: a slow leak
        # (a run longer than reset_after) comes back at once, a command that is too big
        # for its limit from the start does not loop every few seconds forever.
        ran_for = time.monotonic() - sup.child_started_mono
        if sup.monitor is not None:
            sup.monitor.child_stopped()
        self.child_stopped()
        sup.write_state(reason=f"restarting: {reason}", restart_reason=reason)
        sup.kill_tree(float(sup.config.get("stop_timeout") or 5.0))
        sup.drain()
        fields = sup._exit_fields(sup.child_status)
        sup.child = None
        now = time.time()
        if ran_for >= float(sup.backoff["reset_after"]):
            sup.consecutive = 0
        max_restarts = sup.config.get("max_restarts", 10)
        if max_restarts is not None and sup.consecutive >= int(max_restarts):
            sup.final_state(
                status="failed",
                reason=f"gave up after {sup.consecutive} restarts (last: {reason})",
                restart_reason=reason,
                ended_at=now,
                **fields,
            )
            return 0
        delay = min(
            float(sup.backoff["initial"]) * float(sup.backoff["factor"]) ** sup.consecutive,
            float(sup.backoff["max"]),
        )
        sup.consecutive += 1
        sup.restart_at = now + delay
        sup.write_state(
            status="starting",
            reason=f"restarting in {delay:g}s: {reason}",
            restart_reason=reason,
            ended_at=now,
            next_restart_at=sup.restart_at,
            **fields,
        )
        return None

    def _stop(self, reason: str, stop_reason: str) -> int:
        """Stop the whole tree and end, like a stop request, with our own reason."""
        sup = self.sup
        sup.write_state(
            status="stopping", reason=reason, stop_reason=stop_reason, next_restart_at=None
        )
        sup.closing = True
        if sup.monitor is not None:
            sup.monitor.close()
        self.close()
        sup.kill_tree(float(sup.config.get("stop_timeout") or 5.0))
        sup.drain()
        fields = sup._exit_fields(sup.child_status) if sup.child is not None else {}
        sup.final_state(status="stopped", ended_at=time.time(), **fields)
        return 0

    # -- the thread ------------------------------------------------------------------------

    def _post(self, gen: int, kind: str, payload: Any) -> None:
        from .supervisor import _HEALTH_WAKE, _suppress

        with self._lock:
            self._posted.append((gen, kind, payload))
        with _suppress(OSError):  # a full pipe: the loop is awake already
            os.write(self.sup.wake_w, _HEALTH_WAKE)  # wakes the main loop, like health does

    def _loop(self) -> None:
        try:
            self._run()
        except Exception as e:  # noqa: BLE001 - a bug here must not end supervision
            from .supervisor import _log

            _log(f"watchdog stopped: {e!r}")

    def _run(self) -> None:
        from .ready import ReadyProbe, describe

        seen = -1
        probe: ReadyProbe | None = None
        ready_done = True
        ready_delay = 0.05
        noted_timeout = False
        over = 0
        kernel = self._initial_kernel()
        lost_at: float | None = None
        next_ready = next_memory = next_bind = 0.0
        while True:
            with self._lock:
                if self._closed:
                    return
                gen, child = self._gen, self._child
            if gen != seen:
                seen = gen
                over, noted_timeout, ready_delay = 0, False, 0.05
                ready_done = self.ready_spec is None or child is None
                probe = None
                if not ready_done and self.ready_spec is not None:
                    probe = ReadyProbe(self.ready_spec, self.sup.dir, self._health_verdict)
                next_ready = next_memory = 0.0
            now = time.time()
            if child is not None and not ready_done and probe is not None and now >= next_ready:
                ok, message = probe.check()
                if ok:
                    ready_done = True
                    self._post(gen, "ready", time.time())
                else:
                    if not noted_timeout and now - child[2] >= self.ready_timeout:
                        noted_timeout = True
                        assert self.ready_spec is not None
                        self._post(
                            gen,
                            "not_ready",
                            f"not ready after {self.ready_timeout:g}s, still waiting until "
                            f"{describe(self.ready_spec)}: {message}",
                        )
                    next_ready = now + ready_delay
                    ready_delay = min(ready_delay * 1.5, READY_MAX_INTERVAL)
            if child is not None and self.max_memory is not None and now >= next_memory:
                rss = tree_rss(child[0], child[1])
                over = over + 1 if rss is not None and rss > self.max_memory else 0
                if over >= MEMORY_SAMPLES and rss is not None:
                    self._post(gen, "memory", rss)
                    over = -(10**9)  # once per run; the next run starts a new generation
                next_memory = now + MEMORY_INTERVAL
            if self.bind is not None and kernel is not None and now >= next_bind:
                kernel, lost_at = self._check_kernel(kernel, lost_at, now)
                next_bind = now + BIND_INTERVAL
            waits = []
            if child is not None and not ready_done:
                waits.append(next_ready)
            if child is not None and self.max_memory is not None:
                waits.append(next_memory)
            if self.bind is not None and kernel is not None:
                waits.append(next_bind)
            timeout = max(0.0, min(waits) - time.time()) if waits else None
            self._event.wait(timeout)
            self._event.clear()

    def _health_verdict(self) -> str | None:
        monitor = self.sup.monitor
        return monitor.verdict()[0] if monitor is not None else None

    # -- the kernel binding -------------------------------------------------------------------

    def _initial_kernel(self) -> tuple[int, float | None] | None:
        if self.bind is None or not isinstance(self.bind.get("pid"), int):
            return None
        ct = self.bind.get("create_time")
        return int(self.bind["pid"]), float(ct) if isinstance(ct, (int, float)) else None

    def _check_kernel(
        self, kernel: tuple[int, float | None], lost_at: float | None, now: float
    ) -> tuple[tuple[int, float | None] | None, float | None]:
        from . import procutil
        from .binding import describe, find_kernel

        assert self.bind is not None
        if procutil.is_alive(kernel[0], kernel[1]):
            return kernel, None
        kid = str(self.bind.get("kernel_id"))
        pid = find_kernel(str(self.bind.get("connection_file") or f"kernel-{kid}.json"))
        if pid is not None:
            ct = procutil.create_time(pid)
            self._post(-1, "bound_to", {"kernel_id": kid, "pid": pid, "lost_at": None})
            return (pid, ct), None
        if lost_at is None:
            self._post(-1, "bound_to", {"kernel_id": kid, "pid": None, "lost_at": now})
            lost_at = now
        grace = float(self.bind.get("grace") or 0.0)
        if now - lost_at >= grace:
            self._post(
                -1,
                "unbound",
                f"the {describe(self.bind)} it was bound to shut down or died "
                f"(gone for {grace:g}s)",
            )
            return None, lost_at
        return kernel, lost_at


def start_watchdog(sup: Supervisor) -> Watchdog:
    """Start watching; the run already under way (the first start) is the first generation."""
    wd = Watchdog(sup)
    if sup.child is not None:
        started = sup.state.get("started_at")
        wd.child_started(
            sup.child,
            sup.state.get("create_time"),
            float(started) if isinstance(started, (int, float)) else time.time(),
        )
    wd.start()
    return wd
