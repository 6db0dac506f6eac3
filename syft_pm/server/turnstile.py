"""Admission by loop iteration: a burst of websocket handshakes goes through a few at a time.

After a server restart every open browser tab reconnects within the same second. Each
handshake costs the event loop most of a millisecond (authentication, the signed login
cookie, the upgrade, the session), and connections that arrive together are ready in
the same loop iteration; asyncio runs every callback that is ready before it looks at
its timers or its sockets again. Fifty at once blocked the loop for 30-50 ms, and every
kernel message and HTTP request of the server waited behind them.

A handler awaits :meth:`Turnstile.enter` before it authenticates. Nobody goes straight
through: each iteration's turn lets the first ``per_iteration`` waiters go, and they run
in the next iteration, so no iteration runs more than ``per_iteration`` handshakes, however
many clients came at once. An idle server pays two loop iterations (microseconds).
"""

from __future__ import annotations

import asyncio
from collections import deque


class Turnstile:
    def __init__(self, per_iteration: int) -> None:
        if per_iteration < 1:
            raise ValueError(f"per_iteration must be at least 1, not {per_iteration!r}")
        self.per_iteration = per_iteration
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._armed = False

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    async def enter(self) -> None:
        """Return in a later iteration than this one, with at most ``per_iteration``
        others, first come first served."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._waiting.append(fut)
        if not self._armed:
            self._armed = True
            loop.call_soon(self._turn)
        await fut

    def _turn(self) -> None:
        """Once per iteration while anyone waits. The tasks of the futures it resolves
        run in the next iteration, and no other handshake runs in that one."""
        let_through = 0
        while self._waiting and let_through < self.per_iteration:
            fut = self._waiting.popleft()
            if not fut.done():  # a cancelled waiter takes no one's place
                fut.set_result(None)
                let_through += 1
        if self._waiting:
            asyncio.get_running_loop().call_soon(self._turn)
        else:
            self._armed = False
