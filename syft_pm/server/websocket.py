"""``/syft-pm/api/events``: the protocol over a websocket, one session per socket.

Only a transport: it authenticates and authorizes (``read`` to connect; ``write`` and
``execute`` decide which actions the session accepts), moves text frames, and hands
every client message to the session on the hub's read pool. The event loop never scans,
encodes a snapshot or waits on a lock.
"""

from __future__ import annotations

import asyncio
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

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        # A burst of reconnecting clients is let in a few per loop iteration (see
        # turnstile.py), before authentication: everything after costs the loop.
        await self.clients.turnstile.enter()
        await super().prepare(*args, **kwargs)

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
        """One message of already encoded UTF-8 JSON (encoded off the loop).

        Fifty clients' snapshots of a big fleet share one 10 MB body: joining it to each
        client's header, and tornado's framing copy after that, would copy it twice per
        client, each time in one C call that holds the GIL. So the frames are written as
        headers and slices of the pieces, which the stream sends without copying; small
        parts are joined first, since each ``stream.write()`` is a ``send()`` that wakes
        the reader (six per message for a small one, before). And a
        big message goes as fragments of :data:`FRAGMENT` bytes, each awaited: one
        ``send()`` of megabytes to a fast reader keeps the loop in the kernel for
        milliseconds, and tornado's writer would send all of it in one callback. (Pings
        may come between fragments; RFC 6455 allows control frames there.) Only where
        tornado would transform the payload (compression, masking) does the message go
        through ``write_message``.
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
        fragments = split_fragments(pieces, FRAGMENT)
        last = len(fragments) - 1
        loop = asyncio.get_running_loop()
        turn_ends = loop.time() + WRITE_SLICE
        try:
            for i, fragment in enumerate(fragments):
                header = frame_header(
                    sum(map(len, fragment)), opcode=0x1 if i == 0 else 0x0, fin=i == last
                )
                for buf in coalesce([header, *fragment], COPY_BELOW):
                    done = stream.write(buf)
                await done
                # A reader as fast as the kernel takes each fragment inside write(), and
                # awaiting a future that is already done does not yield: ten megabytes
                # went out in one step of this task. Yield once the turn is used up.
                if i != last and loop.time() >= turn_ends:
                    await asyncio.sleep(0)
                    turn_ends = loop.time() + WRITE_SLICE
        except iostream.StreamClosedError:
            raise websocket.WebSocketClosedError() from None

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


#: The largest fragment of a message written in one go (see ``EventsHandler._write``).
FRAGMENT = 256 * 1024
#: Seconds a message's writer may keep the loop before it yields (between fragments).
WRITE_SLICE = 0.001
#: Parts of a frame shorter than this are joined into one write: copying them costs less
#: than the ``send()`` each write would be, and the wake-up of the reader it brings.
COPY_BELOW = 64 * 1024


def coalesce(parts: list[bytes | memoryview], below: int) -> list[bytes | memoryview]:
    """``parts`` with each run of consecutive parts shorter than ``below`` joined into
    one; longer parts are kept as they are (no copy)."""
    out: list[bytes | memoryview] = []
    run: list[bytes | memoryview] = []
    for part in parts:
        if len(part) < below:
            run.append(part)
            continue
        if run:
            out.append(b"".join(run))
            run = []
        out.append(part)
    if run:
        out.append(b"".join(run))
    return out


def split_fragments(pieces: list[bytes], size: int) -> list[list[memoryview]]:
    """``pieces`` cut into consecutive runs of at most ``size`` bytes (views, no copies);
    one empty fragment for an empty message."""
    out: list[list[memoryview]] = [[]]
    room = size
    for piece in pieces:
        view = memoryview(piece)
        while view:
            if not room:
                out.append([])
                room = size
            part, view = view[:room], view[room:]
            out[-1].append(part)
            room -= len(part)
    return out


def frame_header(length: int, *, opcode: int = 0x1, fin: bool = True) -> bytes:
    """The header of an unmasked frame (RFC 6455, 5.2) of ``length`` payload bytes, as
    a server sends it: a text frame by default, ``opcode=0`` for a continuation."""
    first = (0x80 if fin else 0) | opcode
    if length < 126:
        return struct.pack("!BB", first, length)
    if length <= 0xFFFF:
        return struct.pack("!BBH", first, 126, length)
    return struct.pack("!BBQ", first, 127, length)
