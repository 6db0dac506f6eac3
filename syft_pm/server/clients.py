"""The websocket side of a session: a bounded queue per client, one writer coroutine.

The session runs on the hub's pools and hands every message, already serialised (as the
pieces of :func:`protocol.encode_pieces`), to :meth:`Client.push` through
``call_soon_threadsafe``, so the event loop neither builds snapshots nor encodes JSON.
When a slow client's queue overflows, the queue is dropped and the client gets a fresh
snapshot instead: a stalled browser costs a bounded amount of memory and still ends up
correct.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..live import protocol
from ..live.hub import LiveHub
from ..live.session import ALL_PERMISSIONS, Scope, Session
from .turnstile import Turnstile

log = logging.getLogger(__name__)
JSON = dict[str, Any]
T = TypeVar("T")
#: A message as the transport writes it: pieces that concatenate to UTF-8 JSON.
Pieces = list[bytes]
Write = Callable[[Pieces], Awaitable[None]]
#: A message this large (a snapshot of a big fleet) is written one at a time.
BIG_MESSAGE = 1 << 20


class Client:
    """A websocket's subscriber: bounded queue, single writer, resync on overflow."""

    def __init__(
        self,
        clients: ClientSet,
        write: Write,
        max_queued: int,
        permissions: frozenset[str],
    ) -> None:
        self.clients = clients
        self._loop = asyncio.get_running_loop()
        self._write = write
        self._max = max_queued
        self._queue: deque[Pieces] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._resyncing = False
        self.session = Session(clients.live, self._send, permissions=permissions)
        #: Called once when the client is closed from our side (server shutdown), so the
        #: transport can close the websocket too.
        self.on_close: Callable[[], None] | None = None
        self.dropped = 0
        self._task = self._loop.create_task(self._writer())

    def _send(self, msg: JSON) -> None:
        """Any thread: encode here (off the loop, piece by piece), deliver on the loop."""
        data = protocol.encode_pieces(msg)
        with contextlib.suppress(RuntimeError):  # the loop is gone: server shutdown
            self._loop.call_soon_threadsafe(self.push, msg.get("type"), data)

    def push(self, kind: Any, data: Pieces) -> None:
        """Event-loop side of ``send``; never blocks, never grows without bound."""
        if self._closed:
            return
        if kind == "snapshot":
            # A snapshot supersedes everything queued before it.
            self._queue.clear()
            self._resyncing = False
        elif self._resyncing:
            return
        elif len(self._queue) >= self._max:
            self._queue.clear()
            self.dropped += 1
            self._resyncing = True
            self.clients.live.submit_read(self.session.resync)
            return
        self._queue.append(data)
        self._wakeup.set()

    async def _writer(self) -> None:
        while not self._closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue and not self._closed:
                data = self._queue.popleft()
                try:
                    if sum(map(len, data)) >= BIG_MESSAGE:
                        # Framing and sending megabytes takes the loop a few ms; fifty
                        # clients' snapshots at once would do it back to back in one
                        # loop iteration. One big write at a time, a yield after each.
                        async with self.clients.big_writes:
                            await self._write(data)
                            await asyncio.sleep(0)
                    else:
                        await self._write(data)
                except Exception:  # noqa: BLE001 - a dead socket ends this client only
                    self.close()
                    return

    async def receive(self, data: object) -> None:
        """Hand a client message to the session on the read pool; the loop only waits."""
        await self.clients.run_sync(self.session.receive, data)

    def close(self) -> None:
        """Never blocks (the session's close is lock-free)."""
        if self._closed:
            return
        self._closed = True
        self._queue.clear()
        self._wakeup.set()
        self.session.close()
        self.clients.forget(self)
        if self.on_close is not None:
            cb, self.on_close = self.on_close, None
            with contextlib.suppress(Exception):
                cb()


class ClientSet:
    """Every websocket client of one server, over the server's one live hub."""

    def __init__(
        self, live: LiveHub, *, max_queued: int = 200, handshakes_per_iteration: int = 4
    ) -> None:
        self.live = live
        self.max_queued = max_queued
        self.clients: set[Client] = set()
        self.big_writes = asyncio.Lock()
        #: What every websocket handshake passes before it authenticates.
        self.turnstile = Turnstile(handshakes_per_iteration)

    async def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking core work (file reads, psutil, scans) on the read pool."""
        return await self.live.call_read(fn, *args)

    async def run_action(self, fn: Callable[..., T], *args: Any) -> T:
        """Run slow work (a stop waits for a process tree) on the action pool."""
        return await self.live.call_action(fn, *args)

    async def attach(
        self,
        write: Write,
        scope: Scope,
        *,
        permissions: frozenset[str] = ALL_PERMISSIONS,
    ) -> Client:
        client = Client(self, write, self.max_queued, permissions)
        self.clients.add(client)
        await self.run_sync(client.session.open, scope)
        return client

    def forget(self, client: Client) -> None:
        self.clients.discard(client)

    def wake(self) -> None:
        self.live.wake()

    async def close(self) -> None:
        for client in list(self.clients):
            client.close()
        self.clients.clear()
        # Joining the watcher thread blocks: do it in a plain thread, not on the loop
        # and not on the pools being shut down.
        await asyncio.get_running_loop().run_in_executor(None, self.live.close)
