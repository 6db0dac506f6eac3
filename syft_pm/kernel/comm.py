"""The comm target ``syft_pm``: a transport for :class:`~syft_pm.live.session.Session`.

A view (cell output, sidebar) opens a comm with data ``{"home"?, "registry_id"?,
"names"?, "log_lines"?, "logs"?}``; empty data subscribes to every process of the
kernel's default registry. Its first message is a snapshot; deltas follow, pushed from
the watcher thread so cell execution is never blocked. A front end whose kernel drops
messages sent from a thread while idle (Colab) sends ``{"type": "poll"}`` and gets the
next delta (or a heartbeat), and any finished action's result, in the reply.

Who is allowed: a saved cell output is data from whoever wrote the notebook, so a comm
cannot make the kernel create or watch a registry: only registries this kernel already
uses (the default one, or one the user opened in Python) are served, and actions are
offered only when the view names the same ``registry_id`` it is looking at.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from ..live import protocol
from ..live.hub import LiveHub
from ..live.session import ALL_PERMISSIONS, READ, Scope, Session
from ..registry import default_home, homes_in_use

log = logging.getLogger(__name__)

COMM_TARGET = "syft_pm"
JSON = dict[str, Any]

_hubs: dict[str, LiveHub] = {}
_hubs_lock = threading.Lock()
_registered_on: set[int] = set()


def _served_home(home: object) -> Path:
    """The registry a comm may watch: the default one, or one this kernel opened."""
    if home is None or home == "":
        return default_home()
    if not isinstance(home, str):
        raise protocol.ProtocolError("home must be a path")
    path = Path(home).expanduser()
    allowed = {str(default_home().resolve()), *homes_in_use()}
    if str(path.resolve()) not in allowed:
        raise protocol.ProtocolError(
            f"this kernel does not serve the registry {home}: open it in Python first "
            "(syft_pm.ProcessManager(home)) to watch it here"
        )
    return path


def _hub(path: Path) -> LiveHub:
    key = str(path.resolve())
    with _hubs_lock:
        hub = _hubs.get(key)
        if hub is None or hub.closed:
            hub = _hubs[key] = LiveHub(path, stop_when_idle=True)
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
        scope = Scope.parse(data, where="comm open")
        hub = _hub(_served_home(data.get("home")))
        wanted_id = data.get("registry_id")
        permissions = (
            ALL_PERMISSIONS
            if wanted_id is None or wanted_id == hub.registry.id
            else frozenset({READ})
        )
    except Exception as e:  # noqa: BLE001 - reported to the view, not as a kernel traceback
        comm.send(protocol.error(f"cannot subscribe: {e}"))
        comm.close()
        return
    session = Session(hub, comm.send, permissions=permissions, redeliver_on_poll=True)
    session.open(scope)

    def on_msg(msg: JSON) -> None:
        # Answered here, inside the comm handler (a poll's reply must not come only from
        # a thread); anything slow (an action) goes to the hub's action pool.
        session.receive((msg.get("content") or {}).get("data"))

    def on_close(_msg: JSON | None = None) -> None:
        session.close()

    comm.on_msg(on_msg)
    comm.on_close(on_close)
