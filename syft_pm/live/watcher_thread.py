"""Drives a :class:`~syft_pm.live.watcher.Watcher` from a daemon thread: when to scan.

The watcher decides what changed; this decides when to look: on an inotify event, on a
wake-up (after an action), at the pace metrics and heartbeats need, and at least every
second while a process runs on another host (whose writes inotify cannot see). A token
bucket gives leading-edge wakeups with a bounded flood (see :class:`WatcherThread`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import threading
import time
from pathlib import Path

from ..filewatch import Inotify, open_inotify
from .gil import yield_cpu_to_the_loop
from .watcher import Watcher

log = logging.getLogger(__name__)

#: Longest wait between scans while a process runs elsewhere: inotify sees nothing that
#: another host writes to a shared filesystem, so those are polled (state and lines
#: within a second).
REMOTE_POLL = 1.0


class WatcherThread:
    """Drives a Watcher from a daemon thread.

    Wakes on inotify events and at least every ``idle_tick`` for metrics and heartbeats;
    without inotify it polls, from ``tick`` backing off to ``idle_tick``.

    Leading edge, bounded flood: scans that send something spend a token from a bucket
    of ``burst`` tokens refilled one per ``min_interval``. The first change after a quiet
    moment finds a token and is scanned and sent at once (a line reaches every view
    within milliseconds, not at the next tick of a fixed cadence); only a sustained
    stream runs the bucket dry, and then changes are coalesced, so a flood yields at
    most ``1/min_interval`` messages a second per view (plus the burst, once).
    """

    def __init__(
        self,
        watcher: Watcher,
        *,
        tick: float = 0.1,
        idle_tick: float = 2.0,
        min_interval: float = 1 / 19.5,
        burst: int = 4,
        use_inotify: bool = True,
        stop_when_idle: bool = False,
    ) -> None:
        self.watcher = watcher
        self.tick = tick
        self.idle_tick = idle_tick
        self.min_interval = min_interval
        self.burst = burst
        self.stop_when_idle = stop_when_idle
        self._use_inotify = use_inotify
        self._stop = threading.Event()
        #: Entries inotify said changed since the last scan (None: scan them all). Read
        #: and taken under ``_events``, by this thread and by a view's catch-up scan.
        self._dirty: set[str] | None = None
        self._events = threading.Lock()
        self._ino: Inotify | None = None
        self._processes_dir = str(watcher.registry.processes_dir)
        self._wake_r, self._wake_w = os.pipe()
        # Both ends non-blocking: wake() runs on the server's event loop and must return at
        # once even when the pipe is full (a full pipe already means "wake up").
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread: threading.Thread | None = None
        # Held for an instant by start() and by an idle thread deciding to end, so a view
        # that subscribes just as the last one leaves never finds a thread about to exit.
        self._life = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._life:
            if self.running:
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="syft_pm-watcher", daemon=True)
            self._thread.start()

    def _idle_exit(self) -> bool:
        """True (and the thread is marked gone) if no view is left to serve."""
        if not self.stop_when_idle or self.watcher.subscriber_count > 0:
            return False
        with self._life:
            # Asked again under the lock: a view may have subscribed meanwhile.
            if self._has_views():
                return False
            if self._thread is threading.current_thread():
                self._thread = None
            return True

    def _has_views(self) -> bool:
        return self.watcher.subscriber_count > 0

    def wake(self) -> None:
        """Scan soon (e.g. after an action), without waiting for the next tick."""
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake()
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout)
        self._thread = None

    def close(self) -> None:
        self.stop()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _run(self) -> None:
        yield_cpu_to_the_loop()
        ino: Inotify | None = open_inotify() if self._use_inotify else None
        if ino is not None:
            self._ino = ino
            self.watcher.changes_since_scan = self._changes_since_scan
        # selectors, not select.select: jupyter_server raises the open-files limit, and
        # select() fails outright on a descriptor numbered 1024 or more.
        selector = selectors.DefaultSelector()
        selector.register(self._wake_r, selectors.EVENT_READ)
        if ino is not None:
            selector.register(ino.fd, selectors.EVENT_READ)
        delay = self.tick
        tokens, refilled = float(self.burst), time.monotonic()
        try:
            while not self._stop.is_set():
                now = time.monotonic()
                tokens = min(float(self.burst), tokens + (now - refilled) / self.min_interval)
                refilled = now
                if tokens < 1.0:
                    # A sustained stream: coalesce what arrives until the next token.
                    self._stop.wait((1.0 - tokens) * self.min_interval)
                    continue
                try:
                    # Only the entries inotify named, when it named them; a full pass
                    # after a wake-up, a timeout (metrics, liveness) or an overflow.
                    with self._events:
                        only, self._dirty = self._dirty, set()
                    changed = self.watcher.scan(only=only)
                    if changed:
                        tokens -= 1.0
                    if self._idle_exit():
                        break
                    delay = self._wait(ino, selector, delay, changed)
                except Exception:
                    # A view that stops updating is worse than a log line: keep the thread
                    # alive through anything its loop body raises, and pace the retries.
                    log.exception("syft_pm watcher loop failed; retrying")
                    self._stop.wait(self.idle_tick)
                if self._idle_exit():
                    break
        finally:
            if ino is not None:
                with self._events:
                    self.watcher.changes_since_scan = None
                    self._ino = None
                ino.close()
            selector.close()

    def _wait(
        self, ino: Inotify | None, selector: selectors.BaseSelector, delay: float, changed: bool
    ) -> float:
        """Sleep until a registry change, a wake-up or the pace timeout; returns the
        polling delay to use next time (without inotify)."""
        relook = False
        if ino is not None:
            relook = self._sync_watches(ino)
            # inotify wakes us for every registry change; the timeout only paces metrics
            # and heartbeats.
            timeout = max(self.min_interval, min(self.watcher.metrics_interval, self.idle_tick))
            if self.watcher.polls_remote:
                timeout = min(timeout, REMOTE_POLL)
        else:
            delay = self.tick if changed else min(delay * 1.5, self.idle_tick)
            timeout = min(delay, REMOTE_POLL) if self.watcher.polls_remote else delay
        ready = selector.select(0 if relook else timeout)
        with self._events:
            if not ready and not relook:
                self._dirty = None  # the pace timeout: a full pass (metrics, liveness)
            for key, _ in ready:
                if key.fd == self._wake_r:
                    with contextlib.suppress(OSError):
                        os.read(self._wake_r, 4096)
                    self._dirty = None  # a wake-up (an action, a resync): look at everything
                elif ino is not None and key.fd == ino.fd:
                    self._note(ino.changed())
        return delay

    def _note(self, paths: set[str] | None) -> None:
        """Add what inotify reported to the entries to scan (under ``_events``)."""
        if paths is None or self._processes_dir in paths:
            self._dirty = None  # an entry came or went, or events were lost
        elif self._dirty is not None:
            self._dirty |= {os.path.basename(p) for p in paths}  # noqa: PTH119

    def _changes_since_scan(self) -> set[str] | None:
        """For a view's read-your-writes catch-up (the watcher calls it under its lock):
        the entries changed since the last scan, as inotify reported them, whether this
        thread has read those events yet or not. They are taken: the caller scans them
        now. None means "scan everything" (an entry came or went, events were lost, or a
        full pass was due anyway).

        Every write a caller finished before asking has queued its event by then, so a
        scan of these entries reads it; fifty views subscribing at once then cost fifty
        reads of an empty inotify queue, not fifty scans of the registry.
        """
        with self._events:
            ino = self._ino
            if ino is None:
                return None
            self._note(ino.changed())
            taken, self._dirty = self._dirty, set()
            return taken

    def _sync_watches(self, ino: Inotify) -> bool:
        """Watch every entry's directory; True if new ones are watched (and marked to be
        looked at again)."""
        wanted = {str(p) for p in self.watcher.watched_dirs()}
        wanted.add(str(self.watcher.registry.processes_dir))
        have = ino.watched()
        for p in have - wanted:
            ino.forget(Path(p))
        added = {p for p in wanted - have if ino.watch(Path(p))}
        if added:
            # A write between the scan that found the entry and this watch made no event:
            # look at the new entries once more, now that nothing can slip by.
            with self._events:
                self._note(added - {self._processes_dir})
        return bool(added)
