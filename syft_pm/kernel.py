"""The kernel side: comm target ``syft_pm``, one watcher per registry, one subscriber per comm.

A view (cell output, sidebar) opens a comm with data ``{"home"?, "names"?, "log_lines"?,
"logs"?}``; empty data subscribes to every process of the kernel's default registry. The
first message on the comm is a snapshot; deltas follow, pushed from the watcher's
background thread so cell execution is never blocked. A front end whose kernel cannot
send from a thread while idle can instead send ``{"type": "poll"}`` on a timer and gets
the next delta (or a heartbeat) in reply. Closing the comm frees its subscriber; the
watcher thread stops when the last one goes.

Actions sent over the comm run in a worker thread, because ``stop`` waits for the process
tree to exit and must not hold the shell channel meanwhile.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from . import protocol
from .registry import Registry, default_home
from .watcher import Subscription, Watcher, WatcherThread

log = logging.getLogger(__name__)

COMM_TARGET = "syft_pm"
JSON = dict[str, Any]


class _Hub:
    """A watcher and its thread for one registry, shared by every comm that views it."""

    def __init__(self, home: Path) -> None:
        self.registry = Registry(home).ensure()
        self.watcher = Watcher(self.registry)
        self.thread = WatcherThread(self.watcher, stop_when_idle=True)
        self.lock = threading.Lock()

    def attach(self, sub_factory: Any) -> Subscription:
        with self.lock:
            sub: Subscription = sub_factory(self.watcher)
            self.thread.start()
            return sub

    def detach(self, sub: Subscription) -> None:
        with self.lock:
            self.watcher.unsubscribe(sub)
            if self.watcher.subscriber_count == 0:
                self.thread.stop()


_hubs: dict[str, _Hub] = {}
_hubs_lock = threading.Lock()
_registered_on: set[int] = set()


def _hub(home: str | None) -> _Hub:
    path = Path(home).expanduser() if home else default_home()
    key = str(path.resolve())
    with _hubs_lock:
        hub = _hubs.get(key)
        if hub is None:
            hub = _hubs[key] = _Hub(path)
        return hub


def register_comm_target(ipython: Any | None = None) -> bool:
    """Register the ``syft_pm`` comm target in the running kernel; True if registered."""
    if ipython is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ipython = get_ipython()
    kernel = getattr(ipython, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        return False
    if id(manager) in _registered_on:
        return True
    manager.register_target(COMM_TARGET, _on_comm_open)
    _registered_on.add(id(manager))
    return True


def _on_comm_open(comm: Any, open_msg: JSON) -> None:
    data = (open_msg.get("content") or {}).get("data") or {}
    try:
        if not isinstance(data, dict):
            raise protocol.ProtocolError("comm open data must be a JSON object")
        names = data.get("names")
        if names is not None and (
            not isinstance(names, list) or not all(isinstance(n, str) for n in names)
        ):
            raise protocol.ProtocolError("names must be a list of process names")
        hub = _hub(data.get("home"))
    except Exception as e:  # noqa: BLE001 - reported to the view, not as a kernel traceback
        comm.send(protocol.error(f"cannot subscribe: {e}"))
        comm.close()
        return

    lines = data.get("log_lines")
    sub = hub.attach(
        lambda w: w.subscribe(
            comm.send,
            names,
            log_lines=lines if isinstance(lines, int) and lines >= 0 else None,
            logs=data.get("logs", True) is not False,
        )
    )

    def on_msg(msg: JSON) -> None:
        _handle_message(hub, sub, comm, (msg.get("content") or {}).get("data"))

    def on_close(_msg: JSON | None = None) -> None:
        hub.detach(sub)

    comm.on_msg(on_msg)
    comm.on_close(on_close)


def _handle_message(hub: _Hub, sub: Subscription, comm: Any, data: Any) -> None:
    try:
        msg = protocol.parse_client_message(data)
    except protocol.ProtocolError as e:
        comm.send(protocol.error(str(e)))
        return
    kind = msg["type"]
    if kind == "resync" or kind == "subscribe":
        hub.watcher.resync(sub)
    elif kind == "poll":
        seq = sub.seq
        hub.watcher.scan()
        if sub.seq == seq:  # nothing new for this view: say so, so it can check for gaps
            hub.watcher.heartbeat(sub)
    elif kind == "action":
        threading.Thread(
            target=_run_action,
            args=(hub, comm, msg),
            name=f"syft_pm-action-{msg['action']}",
            daemon=True,
        ).start()


def _run_action(hub: _Hub, comm: Any, msg: JSON) -> None:
    from .actions import perform

    try:
        result = perform(hub.registry, msg["action"], msg["name"], msg.get("args") or {})
        reply = protocol.action_result(msg.get("id"), True, result=result)
    except Exception as e:  # noqa: BLE001 - the view shows it; the kernel keeps running
        reply = protocol.action_result(msg.get("id"), False, error=str(e))
    hub.thread.wake()
    try:
        comm.send(reply)
    except Exception:
        log.debug("could not deliver an action result", exc_info=True)
