"""One watcher for the whole server, fanned out to every websocket client.

The watcher scans in its own thread (file reads and psutil never touch the event loop)
and hands each message to :meth:`Client.push` through ``call_soon_threadsafe``. A client
owns a bounded queue drained by one writer coroutine that awaits each write; when a
slow client's queue overflows, the queue is dropped and the client gets a fresh
snapshot instead, so a stalled browser costs a bounded amount of memory and still ends
up correct.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ..registry import Registry
from ..watcher import Subscription, Watcher, WatcherThread

log = logging.getLogger(__name__)
JSON = dict[str, Any]


class Client:
    """A websocket's subscriber: bounded queue, single writer, resync on overflow."""

    def __init__(
        self,
        hub: Hub,
        write: Callable[[str], Awaitable[None]],
        max_queued: int,
    ) -> None:
        self.hub = hub
        self._write = write
        self._max = max_queued
        self._queue: deque[str] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._resyncing = False
        self.sub: Subscription | None = None
        #: Called once when the client is closed from our side (server shutdown), so the
        #: transport can close the websocket too.
        self.on_close: Callable[[], None] | None = None
        self.dropped = 0
        self._task = asyncio.get_running_loop().create_task(self._writer())

    def push(self, msg: JSON) -> None:
        """Event-loop side of ``send``; never blocks, never grows without bound."""
        if self._closed:
            return
        if msg.get("type") == "snapshot":
            # A snapshot supersedes everything queued before it.
            self._queue.clear()
            self._resyncing = False
        elif self._resyncing:
            return
        elif len(self._queue) >= self._max:
            self._queue.clear()
            self.dropped += 1
            self._resyncing = True
            self.hub.request_resync(self)
            return
        self._queue.append(json.dumps(msg, separators=(",", ":")))
        self._wakeup.set()

    async def _writer(self) -> None:
        while not self._closed:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._queue and not self._closed:
                data = self._queue.popleft()
                try:
                    await self._write(data)
                except Exception:  # noqa: BLE001 - a dead socket ends this client only
                    self.close()
                    return

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.clear()
        self._wakeup.set()
        if self.sub is not None:
            self.hub.detach(self)
        if self.on_close is not None:
            cb, self.on_close = self.on_close, None
            with contextlib.suppress(Exception):
                cb()


class Hub:
    def __init__(
        self,
        home: Path,
        *,
        snapshot_lines: int = 200,
        heartbeat: float = 15.0,
        tick: float = 0.1,
        idle_tick: float = 2.0,
        max_queued: int = 200,
    ) -> None:
        self.registry = Registry(home).ensure()
        self.watcher = Watcher(
            self.registry, snapshot_lines=snapshot_lines, heartbeat_interval=heartbeat
        )
        self.thread = WatcherThread(self.watcher, tick=tick, idle_tick=idle_tick)
        self.max_queued = max_queued
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clients: set[Client] = set()

    def _bind(self) -> asyncio.AbstractEventLoop:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        return self.loop

    async def run_sync(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run blocking core work (file reads, psutil, waiting for a stop) off the loop."""
        return await self._bind().run_in_executor(None, fn, *args)

    async def attach(
        self,
        write: Callable[[str], Awaitable[None]],
        names: list[str] | None,
        *,
        log_lines: int | None,
        logs: bool,
    ) -> Client:
        loop = self._bind()
        client = Client(self, write, self.max_queued)
        self.clients.add(client)

        def send(msg: JSON) -> None:
            loop.call_soon_threadsafe(client.push, msg)

        client.sub = await self.run_sync(
            lambda: self.watcher.subscribe(send, names, log_lines=log_lines, logs=logs)
        )
        self.thread.start()
        return client

    def detach(self, client: Client) -> None:
        self.clients.discard(client)
        if client.sub is not None:
            self.watcher.unsubscribe(client.sub)

    def request_resync(self, client: Client) -> None:
        if client.sub is not None and self.loop is not None:
            sub = client.sub
            self.loop.run_in_executor(None, self.watcher.resync, sub)

    async def resubscribe(
        self, client: Client, names: list[str] | None, *, log_lines: int | None, logs: bool
    ) -> None:
        """Change a client's scope: new subscription, then a snapshot for it."""
        old = client.sub
        if old is not None:
            self.watcher.unsubscribe(old)
        loop = self._bind()

        def send(msg: JSON) -> None:
            loop.call_soon_threadsafe(client.push, msg)

        client.sub = await self.run_sync(
            lambda: self.watcher.subscribe(send, names, log_lines=log_lines, logs=logs)
        )

    def wake(self) -> None:
        self.thread.wake()

    async def close(self) -> None:
        for client in list(self.clients):
            client.close()
        self.clients.clear()
        with contextlib.suppress(Exception):
            await self.run_sync(self.thread.close)
