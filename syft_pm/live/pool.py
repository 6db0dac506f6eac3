"""A fixed set of worker threads that an event loop can hand work to without a lock.

``ThreadPoolExecutor.submit`` takes two locks a worker also takes (the shutdown lock and
the idle semaphore's), starts a thread on the caller's thread the first times (and waits
until it runs), and ``asyncio.wrap_future`` then takes the future's condition lock,
which the worker holds while it sets the result. A worker that holds one of those while
it is descheduled (ours run nice +10) made the Jupyter server's event loop wait: the
stall sampler of ``bench/bench_server.py`` caught the loop inside ``_chain_future``.

Here every thread starts with the pool, ``submit`` is one ``SimpleQueue.put`` (which
never blocks), and :meth:`Pool.call` delivers the result to an asyncio future through
``call_soon_threadsafe``, so the loop never touches an object a worker locks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from .gil import yield_cpu_to_the_loop

log = logging.getLogger(__name__)
T = TypeVar("T")
#: What to run, and what to do instead if the pool is shut down before it runs.
_Item = tuple[Callable[[], None], Callable[[], object]] | None


class Pool:
    def __init__(self, workers: int, name: str) -> None:
        self._queue: queue.SimpleQueue[_Item] = queue.SimpleQueue()
        self._closed = False
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._threads:
            t.start()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a worker; a concurrent future for callers off any loop."""
        fut: Future[T] = Future()

        def run() -> None:
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(fn(*args))
            except BaseException as e:  # noqa: BLE001 - handed to whoever waits
                fut.set_exception(e)

        self._put(run, fut.cancel)
        return fut

    def call(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """From an event loop: ``fn(*args)`` on a worker, its result on this loop's future.
        Nothing here waits on a lock a worker may hold."""
        loop = asyncio.get_running_loop()
        result: asyncio.Future[T] = loop.create_future()

        def deliver(ok: bool, value: Any) -> None:
            if result.cancelled():
                return
            if ok:
                result.set_result(value)
            else:
                result.set_exception(value)

        def run() -> None:
            try:
                value: Any = fn(*args)
                ok = True
            except BaseException as e:  # noqa: BLE001 - handed to the awaiting coroutine
                value, ok = e, False
            with contextlib.suppress(RuntimeError):  # the loop is closed: server shutdown
                loop.call_soon_threadsafe(deliver, ok, value)

        def drop() -> None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(result.cancel)

        self._put(run, drop)
        return result

    def _put(self, run: Callable[[], None], drop: Callable[[], object]) -> None:
        if self._closed:
            raise RuntimeError("the pool is shut down")
        self._queue.put((run, drop))

    def shutdown(self) -> None:
        """Never waits: queued work is cancelled, the threads end after what they run."""
        self._closed = True
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                item[1]()
        for _ in self._threads:
            self._queue.put(None)

    def _work(self) -> None:
        yield_cpu_to_the_loop()
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                item[0]()
            except Exception:  # submit() and call() catch their own; belt and braces
                log.exception("syft_pm worker failed")
