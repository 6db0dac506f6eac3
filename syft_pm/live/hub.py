"""One registry as a live source: its watcher, the thread that drives it, and the pools.

The kernel keeps one hub per registry it serves; the server keeps one. Everything that
may block (a scan, a snapshot of a thousand processes, a stop that waits for a process
tree to exit) runs on the watcher thread or on one of two bounded pools, so a transport
never has to: actions (slow, rare) and reads (snapshots, polls, log pages; fast,
frequent) have separate pools, so six slow stops never starve the reads a sidebar needs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from ..registry import Registry
from .pool import Pool
from .watcher import Subscription, Watcher
from .watcher_thread import WatcherThread

JSON = dict[str, Any]
Send = Callable[[JSON], None]
T = TypeVar("T")


class LiveHub:
    def __init__(
        self,
        home: Path,
        *,
        snapshot_lines: int = 200,
        heartbeat: float = 15.0,
        tick: float = 0.1,
        idle_tick: float = 2.0,
        stop_when_idle: bool = False,
        action_workers: int = 4,
        read_workers: int = 4,
    ) -> None:
        self.registry = Registry(home).ensure()
        self.watcher = Watcher(
            self.registry, snapshot_lines=snapshot_lines, heartbeat_interval=heartbeat
        )
        self.thread = WatcherThread(
            self.watcher, tick=tick, idle_tick=idle_tick, stop_when_idle=stop_when_idle
        )
        self._stop_when_idle = stop_when_idle
        self._actions = Pool(action_workers, "syft_pm-action")
        self._reads = Pool(read_workers, "syft_pm-read")
        self._start_lock = threading.Lock()
        self.closed = False

    def subscribe(
        self, send: Send, names: list[str] | None, *, log_lines: int | None, logs: bool
    ) -> Subscription:
        """Add a view (blocking: it scans and sends the snapshot) and make sure the
        thread that keeps it current runs."""
        sub = self.watcher.subscribe(send, names, log_lines=log_lines, logs=logs)
        with self._start_lock:
            self.thread.start()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Lock-free (see :meth:`Watcher.unsubscribe`); an idle kernel hub's thread
        notices it has no views left and ends by itself."""
        self.watcher.unsubscribe(sub)
        if self._stop_when_idle and self.watcher.subscriber_count == 0:
            self.thread.wake()

    def submit_action(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._actions.submit(fn, *args)

    def submit_read(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._reads.submit(fn, *args)

    def call_action(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """From an event loop, without taking a lock a worker holds (see pool.py)."""
        return self._actions.call(fn, *args)

    def call_read(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """From an event loop, without taking a lock a worker holds (see pool.py)."""
        return self._reads.call(fn, *args)

    def wake(self) -> None:
        """Scan soon: after an action, so every view sees its effect at once."""
        self.thread.wake()

    def close(self) -> None:
        """Blocking: joins the watcher thread. Call it off any event loop."""
        self.closed = True
        self.thread.close()
        self._actions.shutdown()
        self._reads.shutdown()
