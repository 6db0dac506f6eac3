"""Turns the registry into protocol messages: one snapshot per subscriber, then deltas.

One :class:`Watcher` serves any number of subscribers (comms in a kernel, websockets in
the server). Its cost follows the number of changes, not the size of anything:

* state, health and config are only re-read when a ``stat`` of the file says it was
  replaced (every registry write is an atomic rename, so the inode changes);
* logs are read from a byte cursor, so an idle log costs one ``stat``; a flood is cut
  to the last ``max_lines_per_tick`` lines with a count of what was skipped;
* psutil metrics are sampled at a slower rate and only for live processes in scope.

The watcher itself is synchronous and thread-safe; :class:`WatcherThread` drives it,
sleeping on inotify when available (a change wakes it at once) and on an adaptive tick
otherwise. Nothing here imports Jupyter: the kernel and server layers only supply a
``send`` callable per subscriber.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import procutil, runners
from ..logs import LogStream
from ..metrics import MetricsSampler
from ..observe import observed
from ..registry import Registry
from ..runners import heartbeat
from ..status import ACTIVE_STATUSES
from . import protocol
from .gil import Courtesy

log = logging.getLogger(__name__)

JSON = dict[str, Any]
Send = Callable[[JSON], None]
_FILES = ("state.json", "health.json", "config.json", "heartbeat.json")
METRICS_BACKOFF = 8


def _alive(key: tuple[Any, Any]) -> bool:
    pid, create_time = key
    if not pid:
        return True  # no supervisor recorded yet (a start under way): nothing to judge
    return procutil.is_alive(pid, create_time)


def _file_key(directory: str) -> tuple[Any, ...]:
    """What identifies the current version of an entry's files: one ``stat`` each.

    The hot path of a scan (a thousand entries, several files each): plain strings and
    ``os.stat``, no ``pathlib`` objects, which cost more than the system calls."""
    key: list[Any] = []
    for fname in _FILES:
        try:
            st = os.stat(f"{directory}/{fname}")  # noqa: PTH116 - hot path
            key.append((st.st_ino, st.st_mtime_ns, st.st_size))
        except OSError:
            key.append(None)
    return tuple(key)


@dataclass
class _Tracked:
    name: str
    key: tuple[Any, ...] = ()
    state: JSON = field(default_factory=dict)
    active: bool = False
    pid_key: tuple[Any, Any] = (None, None)
    #: The supervisor's (pid, create_time): a supervisor killed with SIGKILL changes no
    #: file, so its liveness is checked at the metrics pace instead.
    supervisor: tuple[Any, Any] = (None, None)
    #: Its supervisor runs elsewhere (a Slurm job): judged by heartbeat and scheduler,
    #: its metrics come from the heartbeat, and it is polled.
    remote: bool = False
    streams: dict[str, LogStream] = field(default_factory=dict)
    cursors: dict[str, Any] = field(default_factory=dict)
    #: Snapshot tails by line count, with the cursors they were read up to: fifty views
    #: subscribing at once over a thousand finished processes read each tail once.
    tails: dict[int, tuple[dict[str, Any], dict[str, JSON]]] = field(default_factory=dict)
    drain: bool = True
    #: Metrics back off while they do not change (an idle server, a sleeping job):
    #: the interval doubles up to METRICS_BACKOFF x the base, and resets on a change.
    metrics_every: float = 0.0
    metrics_due: float = 0.0


@dataclass(eq=False)
class Subscription:
    """One view: its scope, its own sequence numbers, and how to reach it."""

    send: Send
    names: frozenset[str] | None = None
    log_lines: int = 200
    logs: bool = True
    seq: int = 0
    last_sent: float = 0.0
    #: Set by :meth:`Watcher.unsubscribe` without taking the watcher's lock, so a
    #: transport on an event loop can drop a view without waiting for a scan to finish.
    closed: bool = False
    id: int = field(default_factory=itertools.count(1).__next__)

    def wants(self, name: str) -> bool:
        return self.names is None or name in self.names


class Watcher:
    def __init__(
        self,
        registry: Registry,
        *,
        snapshot_lines: int = 200,
        max_lines_per_tick: int = 500,
        metrics_interval: float = 2.0,
        heartbeat_interval: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.registry = registry.ensure()
        self.snapshot_lines = snapshot_lines
        self.max_lines_per_tick = max_lines_per_tick
        self.metrics_interval = metrics_interval
        self.heartbeat_interval = heartbeat_interval
        self.clock = clock
        self._lock = threading.RLock()
        self._subs: list[Subscription] = []
        self._tracked: dict[str, _Tracked] = {}
        self._sampler = MetricsSampler()
        self._last_metrics = 0.0
        self._last_liveness = 0.0
        self._primed = False
        #: Full scans started so far; a view that arrived before the latest one began
        #: needs no scan of its own to read its writes (see :meth:`_catch_up_locked`).
        self._full_scans = 0
        #: The last snapshot's maps per kind of view, reused while nothing changed.
        self._bodies: dict[tuple[Any, ...], tuple[protocol.Shared, protocol.Shared]] = {}
        #: Set by the thread that drives this watcher when it has inotify: the entries
        #: changed since the last scan (None: unknown, scan them all). See
        #: :meth:`_catch_up_locked`.
        self.changes_since_scan: Callable[[], set[str] | None] | None = None
        self.on_subscribers_changed: Callable[[int], None] | None = None

    # -- subscribers ----------------------------------------------------------------------

    @property
    def subscriber_count(self) -> int:
        return sum(1 for s in self._subs if not s.closed)

    def subscribe(
        self,
        send: Send,
        names: list[str] | None = None,
        *,
        log_lines: int | None = None,
        logs: bool = True,
    ) -> Subscription:
        """Add a view and send it a snapshot right away."""
        sub = Subscription(
            send=send,
            names=frozenset(names) if names is not None else None,
            log_lines=self.snapshot_lines if log_lines is None else log_lines,
            logs=logs,
        )
        arrived = self._full_scans
        with self._lock:
            # Read your writes: bring every other view up to date first, so the
            # snapshot below includes a process whose run() returned a moment ago.
            self._catch_up_locked(arrived)
            # Copy on write: the list a scan iterates is never mutated under it.
            self._subs = [*self._subs, sub]
            self._resync_locked(sub)
        self._notify_count()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Drop a view. Lock-free on purpose (a flag, pruned by the next scan): the server
        calls it on its event loop, which must never wait for a scan in progress."""
        sub.closed = True
        self._notify_count()

    def resync(self, sub: Subscription) -> None:
        """Send ``sub`` a fresh snapshot: the answer to any gap, reconnect or reopen."""
        arrived = self._full_scans
        with self._lock:
            # Read your writes (as in subscribe); this view's own delta is skipped, the
            # snapshot that follows covers it.
            self._catch_up_locked(arrived, skip=sub)
            self._resync_locked(sub)

    def _catch_up_locked(self, arrived: int, skip: Subscription | None = None) -> None:
        """Bring every view up to date with the writes finished before the caller asked
        (all that read-your-writes promises), as cheaply as that can be known: the
        entries inotify named since the last scan, when the driving thread has inotify;
        else a full scan, unless one began after the caller arrived (``arrived`` is
        :attr:`_full_scans` read before taking the lock). Fifty clients connecting at
        once cost fifty reads of an empty inotify queue, or two or three full scans.
        """
        if not self._primed:
            self._scan_locked(dispatch=False)
            return
        changes = self.changes_since_scan
        if changes is not None:
            # inotify knows which entries changed since the last scan: only those.
            only = changes()
            if only is None or only:
                self._scan_locked(dispatch=True, skip=skip, only=only)
        elif self._full_scans == arrived:
            # A scan already running when the caller arrived had counted itself (it
            # counts before listing the registry) and may have missed the caller's write.
            self._scan_locked(dispatch=True, skip=skip)

    def _resync_locked(self, sub: Subscription) -> None:
        if sub.closed:
            return
        processes, logs = self._snapshot_body(sub)
        sub.seq += 1
        msg = protocol.snapshot(
            seq=sub.seq,
            registry_id=self.registry.id,
            time=self.clock(),
            processes=processes,
            logs=logs,
            scope=sorted(sub.names) if sub.names is not None else None,
        )
        self._send(sub, msg)

    def _snapshot_body(self, sub: Subscription) -> tuple[protocol.Shared, protocol.Shared]:
        """The processes and log tails ``sub`` sees, as :class:`protocol.Shared` maps: the
        same objects as the last snapshot of this kind of view when nothing in them has
        changed since, so their JSON is encoded once for all the views that get them."""
        processes: dict[str, JSON] = {}
        logs: dict[str, JSON] = {}
        courtesy = Courtesy()
        for name, tr in self._tracked.items():
            if not sub.wants(name):
                continue
            processes[name] = tr.state
            if sub.logs and sub.log_lines > 0:
                logs[name] = self._tail_payload(tr, sub.log_lines)
                courtesy.pause()
        key = (sub.names, sub.logs, sub.log_lines)
        last = self._bodies.get(key)
        if last is not None and _same(last[0], processes) and _same(last[1], logs):
            return last
        body = (protocol.Shared(processes), protocol.Shared(logs))
        if len(self._bodies) >= 8:  # a few kinds of view at most (scopes, tail sizes)
            self._bodies.clear()
        self._bodies[key] = body
        return body

    def states(self) -> dict[str, JSON]:
        """The current wire state of every process (as of the last scan)."""
        with self._lock:
            if not self._primed:
                self._scan_locked(dispatch=False)
            return {n: tr.state for n, tr in self._tracked.items()}

    def heartbeat(self, sub: Subscription) -> None:
        with self._lock:
            self._send(sub, protocol.heartbeat(seq=sub.seq, time=self.clock()))

    # -- scanning -------------------------------------------------------------------------

    def scan(self, only: set[str] | None = None) -> bool:
        """One pass over the registry (or just the entries ``only`` names, when the
        watcher thread knows from inotify which changed); sends deltas and due
        heartbeats. True if anything changed."""
        with self._lock:
            return self._scan_locked(dispatch=True, only=only)

    @property
    def polls_remote(self) -> bool:
        """True while some active process runs elsewhere (its writes need polling)."""
        return any(tr.remote and tr.active for tr in list(self._tracked.values()))

    def _ask_scheduler(self) -> None:
        """One batched scheduler query for every active remote process, so the reads
        that follow (observed()) hit the cache instead of asking one by one."""
        ids = [
            str(tr.state.get("runner", {}).get("job_id"))
            for tr in self._tracked.values()
            if tr.remote
            and tr.active
            and isinstance(tr.state.get("runner"), dict)
            and tr.state["runner"].get("job_id")
        ]
        if ids:
            from ..runners import slurm

            with contextlib.suppress(slurm.SlurmError):
                slurm.jobs(ids)

    def watched_dirs(self) -> list[Path]:
        with self._lock:
            return [self.registry.processes_dir / n for n in self._tracked]

    def _scan_locked(
        self, *, dispatch: bool, skip: Subscription | None = None, only: set[str] | None = None
    ) -> bool:
        now = self.clock()
        if any(s.closed for s in self._subs):
            self._subs = [s for s in self._subs if not s.closed]
        check_supervisors = now - self._last_liveness >= self.metrics_interval
        if only is not None and (
            not self._primed
            or check_supervisors
            or now - self._last_metrics >= self.metrics_interval
        ):
            only = None  # a timed pass is due anyway: make it a full one
        if only is None:
            self._full_scans += 1
            names = set(self.registry.names())
        else:
            names = {n for n in only if n in self._tracked}
        added: dict[str, JSON] = {}
        changed: dict[str, JSON] = {}
        removed = [] if only is not None else [n for n in self._tracked if n not in names]
        for n in removed:
            del self._tracked[n]
        if check_supervisors:
            self._last_liveness = now
            self._ask_scheduler()
        base = str(self.registry.processes_dir)
        want_any = self._scope(names, self._subs)
        want_logs = self._scope(names, [s for s in self._subs if s.logs])
        # A scan is thousands of stat() calls, each a release and a retake of the GIL too
        # quick for a waiting event loop to catch: without pauses it would wait the scan out.
        courtesy = Courtesy()
        for name in sorted(names):
            courtesy.pause()
            tr = self._tracked.get(name)
            is_new = tr is None
            if tr is None:
                tr = self._tracked[name] = _Tracked(name=name)
            key = _file_key(f"{base}/{name}")
            recheck = check_supervisors and tr.active and not is_new
            if recheck and (tr.remote or not _alive(tr.supervisor)):
                tr.key = ()  # read it again: see observed() (the scheduler may know more)
            if is_new or key != tr.key:
                tr.key = key
                # As a reader must report it: a dead supervisor's entry reads as failed,
                # without writing or signalling anything (repair is for write paths).
                rec = observed(self.registry.record(name), self.registry)
                tr.supervisor = (
                    rec.state.get("supervisor_pid"),
                    rec.state.get("supervisor_create_time"),
                )
                tr.remote = runners.is_remote(rec.config)
                metrics = tr.state.get("metrics")
                if tr.remote:
                    beat = heartbeat.read(rec.directory)
                    metrics = beat.get("metrics") if beat else None
                new_state = protocol.process_state(rec, metrics)
                was_active = tr.active
                tr.active = new_state["status"] in ACTIVE_STATUSES
                pid_key = (rec.state.get("pid"), rec.state.get("create_time"))
                if pid_key != tr.pid_key or not tr.active:
                    tr.pid_key = pid_key
                    tr.metrics_due = 0.0
                    tr.metrics_every = 0.0
                    if not tr.active:
                        new_state["metrics"] = None
                if tr.remote:
                    tr.pid_key = (None, None)  # never sampled here: a pid from elsewhere
                if was_active and not tr.active:
                    tr.drain = True  # read the last lines the process wrote
                if is_new:
                    tr.state = new_state
                    if self._primed:
                        added[name] = new_state
                        tr.cursors = {s: {"ino": None, "off": 0} for s in protocol.LOG_STREAMS}
                else:
                    diff = protocol.diff_state(tr.state, new_state)
                    tr.state = new_state
                    if diff:
                        changed[name] = diff
        if now - self._last_metrics >= self.metrics_interval:
            self._last_metrics = now
            self._sample_metrics(now, want_any, added, changed)
        logs: dict[str, dict[str, JSON]] = {}
        for name, tr in self._tracked.items():
            if name not in want_logs and self._primed:
                continue
            if not (tr.active or tr.drain):
                continue
            tr.drain = False
            courtesy.pause()
            payload = self._read_logs(tr, prime=not self._primed)
            if payload:
                logs[name] = payload
        self._primed = True
        anything = bool(added or changed or removed or logs)
        if dispatch:
            self._dispatch(now, added, changed, removed, logs, skip)
        return anything

    @staticmethod
    def _scope(names: set[str], subs: list[Subscription]) -> set[str]:
        """Names some subscriber wants: the union of scopes, computed once per scan
        (not per name and subscriber, which 50 clients over 1,000 processes would feel)."""
        if any(s.names is None for s in subs):
            return names
        wanted: set[str] = set()
        for s in subs:
            wanted |= s.names or frozenset()
        return names & wanted

    def _sample_metrics(
        self, now: float, want: set[str], added: dict[str, JSON], changed: dict[str, JSON]
    ) -> None:
        due = {
            n: tr.pid_key
            for n, tr in self._tracked.items()
            if tr.active and n in want and tr.pid_key[0] and now >= tr.metrics_due
        }
        for name, m in self._sampler.sample(due).items():
            tr = self._tracked[name]
            if tr.state.get("metrics") != m:
                tr.state = {**tr.state, "metrics": m}
                tr.metrics_every = self.metrics_interval
                if name in added:
                    added[name] = tr.state
                else:
                    changed.setdefault(name, {})["metrics"] = m
            else:
                tr.metrics_every = min(
                    max(tr.metrics_every * 2, self.metrics_interval),
                    self.metrics_interval * METRICS_BACKOFF,
                )
            # A hair early, so a tick landing just before the due time still samples.
            tr.metrics_due = now + tr.metrics_every * 0.95

    def _stream(self, tr: _Tracked, stream: str) -> LogStream:
        s = tr.streams.get(stream)
        if s is None:
            s = tr.streams[stream] = LogStream(self.registry.processes_dir / tr.name, stream)
        return s

    def _read_logs(self, tr: _Tracked, *, prime: bool) -> JSON:
        out: JSON = {}
        for stream in protocol.LOG_STREAMS:
            ls = self._stream(tr, stream)
            cursor = tr.cursors.get(stream)
            if prime or stream not in tr.cursors:
                # First sight at start-up: begin at the end; the snapshot shows the tail.
                cursor = None
            lines, new_cursor, skipped = ls.read_since(cursor, max_lines=self.max_lines_per_tick)
            tr.cursors[stream] = new_cursor
            if prime or not (lines or skipped):
                continue
            out[stream] = {
                "lines": protocol.log_lines_payload([ln.wire() for ln in lines]),
                "skipped": skipped,
            }
        return out

    def _tail_payload(self, tr: _Tracked, n: int) -> dict[str, JSON]:
        """The last ``n`` lines per stream, shared by every snapshot until a cursor moves
        (messages are never mutated after they are built, so sharing is safe)."""
        # A copy of the cursors compared by value: a cursor is a new dict each time a read
        # moves it, never changed in place, and == on a few small dicts stays in C.
        key = dict(tr.cursors)
        cached = tr.tails.get(n)
        if cached is not None and cached[0] == key:
            return cached[1]
        out: dict[str, JSON] = {}
        for stream in protocol.LOG_STREAMS:
            ls = self._stream(tr, stream)
            # Lines before the watcher's own cursor, so the snapshot joins the deltas
            # that follow it exactly: no line twice, none missing.
            pairs = ls.wire_before(tr.cursors.get(stream), n)
            out[stream] = {"lines": protocol.log_lines_payload(pairs), "skipped": 0}
        if len(tr.tails) >= 4:  # a few distinct sizes at most (settings of open views)
            tr.tails.clear()
        tr.tails[n] = (key, out)
        return out

    def _dispatch(
        self,
        now: float,
        added: dict[str, JSON],
        changed: dict[str, JSON],
        removed: list[str],
        logs: dict[str, dict[str, JSON]],
        skip: Subscription | None = None,
    ) -> None:
        for sub in self._subs:
            if sub.closed or sub is skip:
                continue
            a = {n: v for n, v in added.items() if sub.wants(n)}
            c = {n: v for n, v in changed.items() if sub.wants(n)}
            r = [n for n in removed if sub.wants(n)]
            lg = {n: v for n, v in logs.items() if sub.logs and sub.wants(n)} if sub.logs else {}
            if a or c or r or lg:
                sub.seq += 1
                self._send(
                    sub,
                    protocol.delta(seq=sub.seq, time=now, added=a, changed=c, removed=r, logs=lg),
                )
            elif now - sub.last_sent >= self.heartbeat_interval:
                self._send(sub, protocol.heartbeat(seq=sub.seq, time=now))

    def _send(self, sub: Subscription, msg: JSON) -> None:
        sub.last_sent = self.clock()
        try:
            sub.send(msg)
        except Exception:  # a broken view must never break the others
            log.warning("dropping a syft_pm subscriber whose send failed", exc_info=True)
            sub.closed = True

    def _notify_count(self) -> None:
        cb = self.on_subscribers_changed
        if cb is not None:
            cb(self.subscriber_count)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """True if ``a`` and ``b`` hold the very same objects under the same names (entries
    are replaced when they change, never mutated, so identity is equality here)."""
    return len(a) == len(b) and all(a.get(k) is v for k, v in b.items())
