"""``/syft-pm/api/events``: the protocol over a websocket, one session per socket.

Only a transport: it authenticates and authorizes (``read`` to connect; ``write`` and
``execute`` decide which actions the session accepts), moves text frames, and hands
every client message to the session on the hub's read pool. The event loop never scans,
encodes a snapshot or waits on a lock.
"""

from __future__ import annotations

import json
import struct
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import iostream, web, websocket

from ..live import protocol
from ..live.session import READ, Scope
from .base import AUTH_RESOURCE, SyftPmMixin
from .clients import Client


class EventsHandler(SyftPmMixin, WebSocketMixin, JupyterHandler, websocket.WebSocketHandler):
    client: Client | None = None

    async def pre_get(self) -> None:
        user = self.current_user
        ok = await ensure_async(self.authorizer.is_authorized(self, user, READ, AUTH_RESOURCE))
        if not ok:
            raise web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self.pre_get()
        res = super().get(*args, **kwargs)
        if res is not None:
            await res

    async def open(self, *args: Any, **kwargs: Any) -> None:
        # The base class starts the ping/pong keep-alive that closes dead connections.
        super().open(*args, **kwargs)
        query = {
            "names": self.get_query_arguments("name") or None,
            "logs": self.get_query_argument("logs", "1") not in ("0", "false", "no"),
        }
        try:
            scope = Scope.parse(query, where="events query")
        except protocol.ProtocolError as e:
            self.close(4400, str(e)[:120])
            return
        permissions = await self.permissions()
        self.client = await self.clients.attach(self._write, scope, permissions=permissions)
        self.client.on_close = self._close_from_server

    async def _write(self, pieces: list[bytes]) -> None:
        """One text frame of already encoded UTF-8 JSON (encoded off the loop).

        Fifty clients' snapshots of a big fleet share one 10 MB body: joining it to each
        client's header, and tornado's framing copy after that, would copy it twice per
        client, each time in one C call that holds the GIL (the loop's, or a thread's
        the loop then waits for). The frame is written as its header and the pieces, which
        the stream sends from without copying. Only where tornado would transform the
        payload (compression, masking) does the message go through ``write_message``.
        """
        conn = self.ws_connection
        stream = getattr(conn, "stream", None)
        if (
            conn is None
            or stream is None
            or getattr(conn, "_compressor", True) is not None
            or getattr(conn, "mask_outgoing", True)
        ):
            await self.write_message(b"".join(pieces))
            return
        try:
            stream.write(text_frame_header(sum(map(len, pieces))))
            done = None
            for piece in pieces:
                done = stream.write(piece)
        except iostream.StreamClosedError:
            raise websocket.WebSocketClosedError() from None
        if done is not None:
            await done

    def _close_from_server(self) -> None:
        if self.ws_connection is not None:
            self.close(1001, "server shutting down")

    async def on_message(self, message: str | bytes) -> None:
        # Tornado awaits this before reading the next frame, so a client's messages are
        # handled in order.
        client = self.client
        if client is None:
            return
        try:
            data = json.loads(message)
        except ValueError as e:
            client.session.send(protocol.error(f"message is not JSON: {e}"))
            return
        await client.receive(data)

    def on_close(self) -> None:
        super().on_close()
        if self.client is not None:
            self.client.on_close = None
            self.client.close()
            self.client = None


def text_frame_header(length: int) -> bytes:
    """The header of an unmasked, unfragmented text frame (RFC 6455, 5.2) of ``length``
    payload bytes, as a server sends it."""
    if length < 126:
        return struct.pack("!BB", 0x81, length)
    if length <= 0xFFFF:
        return struct.pack("!BBH", 0x81, 126, length)
    return struct.pack("!BBQ", 0x81, 127, length)
