"""The cell view as a Jupyter widget, for front ends that load no JupyterLab extension.

VS Code and Colab render ipywidgets (anywidget's ``AnyModel``/``AnyView``) but never our
labextension or server routes, so a handle's bundle also carries this widget. Its view
is the same TypeScript process view as the JupyterLab renderer, built as a plain ES
module (``static/widget.js``), and its transport is the widget's own comm: custom
messages that carry protocol v1 both ways, handled by the same
:class:`~syft_pm.live.session.Session` as the ``syft_pm`` comm target and the websocket.

Why the view polls: in Colab, a kernel message sent from a background thread while the
kernel is idle never arrives. The kernel pushes deltas from the watcher thread (that
works in VS Code and JupyterLab), and the view sends ``poll`` whenever nothing arrived
for about a second; a poll is answered inside the message handler. When a poll's reply
shows the view missed messages (its ``seq`` jumped), the view subscribes again with
``"push": false``: from then on what the watcher thread produces waits in a bounded
outbox here and travels in the reply to the next poll, in order (an overflowing outbox
becomes one fresh snapshot). Action results come back in a poll's reply too. A view
that sends nothing for ``EXPIRE_SECONDS`` (closed tab, cleared output) has its
subscription dropped; its next message opens a fresh one.

``SYFT_PM_WIDGET_DROP_THREAD_SENDS=1`` (or :data:`DROP_THREAD_SENDS`) makes this widget
drop every message sent outside its message handler: a switch that stands in for Colab
in tests, so the view is proven to stay current by polling alone.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

import anywidget
import traitlets

from ..live import protocol
from ..live.session import ALL_PERMISSIONS, Scope, Session
from .comm import _hub

log = logging.getLogger(__name__)
JSON = dict[str, Any]

STATIC = Path(__file__).resolve().parent / "static"
#: A subscription whose view sent nothing for this long is dropped (views poll every
#: second or so while nothing arrives, so only a view that is gone stays this quiet).
EXPIRE_SECONDS = 30.0
#: Messages a pull-mode view may have waiting before they become one snapshot instead.
OUTBOX_MAX = 200
#: Test switch: drop messages sent outside the message handler, as Colab does.
DROP_THREAD_SENDS = os.environ.get("SYFT_PM_WIDGET_DROP_THREAD_SENDS", "") not in ("", "0")

_MISSING_BUNDLE = """
export default { render({ el }) {
  el.textContent = "syft_pm: the widget's JavaScript is missing from this installation " +
    "(build the frontend: `make build`, or reinstall syft_pm from a wheel).";
} };
"""


def _asset(name: str) -> str | Path:
    path = STATIC / name
    return path if path.is_file() else (_MISSING_BUNDLE if name.endswith(".js") else "")


_kernel: dict[str, float | bool] = {"busy": False, "idle_since": 0.0, "tracked": False}


def _track_kernel_activity() -> None:
    """A cell that runs holds the shell channel, so a view's polls wait unheard: quiet
    time must not count while the kernel is busy, or a long cell would expire every view
    that still listens (pushes keep flowing meanwhile)."""
    if _kernel["tracked"]:
        return
    _kernel["tracked"] = True
    try:
        from IPython import get_ipython
    except ImportError:
        return
    ip = get_ipython()
    if ip is None:
        return

    def pre(*_: Any) -> None:
        _kernel["busy"] = True

    def post(*_: Any) -> None:
        _kernel["busy"] = False
        _kernel["idle_since"] = time.monotonic()

    ip.events.register("pre_execute", pre)
    ip.events.register("post_execute", post)


def _quiet_since(last_heard: float) -> float:
    """Seconds a view has been quiet while the kernel could have heard it."""
    if _kernel["busy"]:
        return 0.0
    return time.monotonic() - max(last_heard, float(_kernel["idle_since"]))


class ProcessWidget(anywidget.AnyWidget):
    """One process, live: status, uptime, metrics, ports, log tail, stop and restart."""

    _esm = _asset("widget.js")
    _css = _asset("widget.css")

    name = traitlets.Unicode().tag(sync=True)
    registry_id = traitlets.Unicode().tag(sync=True)
    home = traitlets.Unicode().tag(sync=True)

    def __init__(self, name: str, home: Path, registry_id: str, **kwargs: Any) -> None:
        super().__init__(name=name, home=str(home), registry_id=registry_id, **kwargs)
        self._home = home
        self._session: Session | None = None
        self._session_lock = threading.Lock()
        self._handling = threading.local()
        self._last_heard = time.monotonic()
        self._push = True
        self._outbox: deque[JSON] = deque()
        self._outbox_lock = threading.Lock()
        self._outbox_overflowed = False
        _track_kernel_activity()
        self.on_msg(self._on_custom)

    # -- transport ------------------------------------------------------------------------

    def _on_custom(self, _widget: Any, content: Any, _buffers: Any) -> None:
        self._handling.active = True
        try:
            self._last_heard = time.monotonic()
            kind = content.get("type") if isinstance(content, dict) else None
            if kind == "subscribe":
                self._push = content.get("push", True) is not False
                self._open(content)
                return
            session = self._session
            if session is None or session.closed:
                # Expired (or never opened): any message brings a fresh snapshot.
                data = content if isinstance(content, dict) else {}
                self._open({"log_lines": data.get("log_lines")})
                if data.get("type") != "action":
                    return
                session = self._session
            if session is not None:
                session.receive(content)
        finally:
            if not self._push:
                self._flush_outbox()
            self._handling.active = False

    def _open(self, data: JSON) -> None:
        """(Re)subscribe this widget's one process; answered by a snapshot, here."""
        try:
            scope = Scope.parse(
                {"names": [self.name], "log_lines": data.get("log_lines"), "logs": True},
                where="widget subscribe",
            )
        except protocol.ProtocolError as e:
            self._deliver(protocol.error(str(e)))
            return
        with self._session_lock:
            old, self._session = self._session, None
            if old is not None:
                old.close()
            # In pull mode the outbox carries action results; in push mode a result
            # sent from the action thread may be lost (Colab), so polls repeat it.
            session = Session(
                _hub(self._home),
                self._deliver,
                permissions=ALL_PERMISSIONS,
                redeliver_on_poll=self._push,
            )
            self._session = session
        session.open(scope)

    def _deliver(self, msg: JSON) -> None:
        in_handler = getattr(self._handling, "active", False)
        if not in_handler:
            if _quiet_since(self._last_heard) > EXPIRE_SECONDS:
                self._expire()
                return
            if DROP_THREAD_SENDS and self._push:
                return
        if not self._push:
            # Pull mode: everything, from a thread or from the handler, goes through the
            # outbox, which the handler flushes as it returns: one queue keeps the order.
            self._hold(msg)
            return
        with contextlib.suppress(Exception):  # a closed widget: nothing to deliver to
            self.send(msg)

    def _hold(self, msg: JSON) -> None:
        """Pull mode: keep what a thread produced for the next poll's reply, bounded."""
        with self._outbox_lock:
            if msg.get("type") == "snapshot":
                self._outbox.clear()
                self._outbox_overflowed = False
            elif self._outbox_overflowed:
                return
            elif len(self._outbox) >= OUTBOX_MAX:
                self._outbox.clear()
                self._outbox_overflowed = True
                return
            self._outbox.append(msg)

    def _flush_outbox(self) -> None:
        """Send what waits, in order (inside the handler: the reply Colab delivers)."""
        with self._outbox_lock:
            overflowed, self._outbox_overflowed = self._outbox_overflowed, False
        session = self._session
        if overflowed and session is not None:
            session.resync()  # one snapshot (it empties the outbox) instead of what was lost
        with self._outbox_lock:
            held = list(self._outbox)
            self._outbox.clear()
        for msg in held:
            with contextlib.suppress(Exception):
                self.send(msg)

    def _expire(self) -> None:
        if not hasattr(self, "_session_lock"):  # closed before __init__ finished
            return
        with self._session_lock:
            session, self._session = self._session, None
        if session is not None:
            log.debug("syft_pm widget %s: quiet for %ss, unsubscribed", self.name, EXPIRE_SECONDS)
            session.close()

    def close(self) -> None:
        self._expire()
        super().close()
