"""One view's protocol session, written once for every transport.

A transport (the kernel comm, the server websocket) only moves bytes and says who is
allowed; everything the protocol means is here: what the open arguments are and their
limits, how each client message is dispatched (``resync``, ``subscribe``, ``poll``,
``action``), which permission an action needs, how its result comes back, and how fast a
client may ask for scans. So the two transports cannot drift apart again, the way circus
writes each command once for its client and its server.

Threading contract: :meth:`Session.open` and :meth:`Session.receive` may block (they scan
the registry and build snapshots), so a transport calls them where blocking is allowed:
the kernel's comm handler, or the hub's read pool for the server. :meth:`Session.close`
never blocks. ``send`` may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..names import InvalidNameError, validate_name
from . import actions, protocol
from .hub import LiveHub
from .watcher import Subscription

log = logging.getLogger(__name__)
JSON = dict[str, Any]
Send = Callable[[JSON], None]

#: Most log lines per stream a view may ask to get in a snapshot.
MAX_LOG_LINES = 10_000
#: Permissions a transport can grant (jupyter_server's actions on the ``syft_pm`` resource).
READ, WRITE, EXECUTE = "read", "write", "execute"
ALL_PERMISSIONS = frozenset({READ, WRITE, EXECUTE})
#: What each action needs: ``start``/``restart`` run a stored command, so they need
#: ``execute``; ``stop``/``remove`` only change the registry.
ACTION_PERMISSIONS = {"stop": WRITE, "remove": WRITE, "start": EXECUTE, "restart": EXECUTE}
#: How long a finished action's result is kept for a view that only hears replies to its
#: own messages (a poll-driven widget whose kernel drops messages sent from threads).
RESULT_KEEP_SECONDS = 60.0


@dataclass(frozen=True)
class Scope:
    """What a view subscribes to: some names (or all), and how much log."""

    names: list[str] | None = None
    log_lines: int | None = None
    logs: bool = True

    @classmethod
    def parse(cls, data: object, *, where: str = "subscribe") -> Scope:
        """Validate open arguments (comm data, a ``subscribe`` message, a query string
        turned into a dict); raises :class:`protocol.ProtocolError` with the reason."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise protocol.ProtocolError(f"{where} arguments must be a JSON object")
        names = data.get("names")
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise protocol.ProtocolError(f"{where}.names must be a list of process names")
            try:
                names = [validate_name(n) for n in names]
            except InvalidNameError as e:
                raise protocol.ProtocolError(str(e)) from None
        lines = data.get("log_lines")
        if lines is not None and (
            not isinstance(lines, int) or isinstance(lines, bool) or not 0 <= lines <= MAX_LOG_LINES
        ):
            raise protocol.ProtocolError(
                f"{where}.log_lines must be an integer from 0 to {MAX_LOG_LINES}"
            )
        logs = data.get("logs", True)
        if not isinstance(logs, bool):
            raise protocol.ProtocolError(f"{where}.logs must be true or false")
        return cls(names=names, log_lines=lines, logs=logs)


class RateLimit:
    """A token bucket: ``rate`` requests a second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = float(burst)
        self._tokens = float(burst)
        self._clock = clock
        self._at = clock()

    def allow(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class Session:
    def __init__(
        self,
        hub: LiveHub,
        send: Send,
        *,
        permissions: frozenset[str] = ALL_PERMISSIONS,
        redeliver_on_poll: bool = False,
        scan_rate: float = 20.0,
        scan_burst: int = 40,
    ) -> None:
        self.hub = hub
        self._send = send
        self.permissions = permissions
        self._redeliver = redeliver_on_poll
        self._limit = RateLimit(scan_rate, scan_burst)
        self._lock = threading.Lock()  # one receive at a time; never taken on a loop
        self._results: deque[tuple[float, JSON]] = deque()
        self._results_lock = threading.Lock()
        self._limited_told = 0.0
        self.sub: Subscription | None = None
        self.closed = False

    # -- life -----------------------------------------------------------------------------

    def open(self, scope: Scope) -> None:
        """Subscribe; the view's first message is its snapshot. Blocking."""
        with self._lock:
            self._subscribe(scope)

    def resync(self) -> None:
        """A fresh snapshot, asked for by the transport itself (a dropped queue), so it is
        not rate-limited like a client's request. Blocking."""
        with self._lock:
            if self.sub is not None and not self.closed:
                self.hub.watcher.resync(self.sub)

    def close(self) -> None:
        """Never blocks: safe on an event loop."""
        self.closed = True
        sub, self.sub = self.sub, None
        if sub is not None:
            self.hub.unsubscribe(sub)

    # -- messages -------------------------------------------------------------------------

    def receive(self, data: object) -> None:
        """Handle one client message. Blocking (scans); errors go back as messages."""
        try:
            msg = protocol.parse_client_message(data)
        except protocol.ProtocolError as e:
            self.send(protocol.error(str(e)))
            return
        kind = msg["type"]
        if kind == "action":
            self._action(msg)
            return
        if not self._limit.allow():
            self._rate_limited(kind)
            if kind == "poll" and self.sub is not None:
                # Still answered, cheaply (no scan): a view keeps one poll in flight
                # and waits for its reply.
                self.hub.watcher.heartbeat(self.sub)
            return
        with self._lock:
            if self.closed or self.sub is None:
                return
            if kind == "resync":
                self.hub.watcher.resync(self.sub)
            elif kind == "subscribe":
                try:
                    scope = Scope.parse(msg)
                except protocol.ProtocolError as e:
                    self.send(protocol.error(str(e)))
                    return
                self._subscribe(scope)
            elif kind == "poll":
                self._poll(self.sub)

    def send(self, msg: JSON) -> None:
        if not self.closed:
            self._send(msg)

    def _subscribe(self, scope: Scope) -> None:
        old = self.sub
        if old is not None:
            self.hub.unsubscribe(old)
        self.sub = self.hub.subscribe(
            self.send, scope.names, log_lines=scope.log_lines, logs=scope.logs
        )

    def _poll(self, sub: Subscription) -> None:
        seq = sub.seq
        self.hub.watcher.scan()
        if sub.seq == seq:  # nothing new for this view: say so, so it can check for gaps
            self.hub.watcher.heartbeat(sub)
        if self._redeliver:
            for result in self._take_results():
                self.send(result)

    def _rate_limited(self, kind: str) -> None:
        now = time.monotonic()
        if now - self._limited_told >= 1.0:  # say it once a second, not per message
            self._limited_told = now
            self.send(protocol.error(f"too many {kind} requests; slow down", "rate_limited"))

    # -- actions --------------------------------------------------------------------------

    def _action(self, msg: JSON) -> None:
        action, request_id = msg["action"], msg.get("id")
        needed = ACTION_PERMISSIONS[action]
        if needed not in self.permissions:
            self.send(
                protocol.action_result(
                    request_id,
                    False,
                    error=f"forbidden: {action} needs the {needed!r} permission on syft_pm",
                )
            )
            return
        args = msg.get("args") or {}
        if not isinstance(args, dict):
            self.send(protocol.action_result(request_id, False, error="args must be an object"))
            return
        self.hub.submit_action(self._run_action, action, msg["name"], args, request_id)

    def _run_action(self, action: str, name: str, args: JSON, request_id: Any) -> None:
        try:
            result = actions.perform(self.hub.registry, action, name, args)
            reply = protocol.action_result(request_id, True, result=result)
        except Exception as e:  # noqa: BLE001 - the view shows it; the host keeps running
            reply = protocol.action_result(request_id, False, error=str(e))
        self.hub.wake()
        if self._redeliver:
            with self._results_lock:
                self._results.append((time.monotonic(), reply))
        try:
            self.send(reply)
        except Exception:
            log.debug("could not deliver an action result", exc_info=True)

    def _take_results(self) -> list[JSON]:
        cutoff = time.monotonic() - RESULT_KEEP_SECONDS
        with self._results_lock:
            out = [r for at, r in self._results if at >= cutoff]
            self._results.clear()
        return out
