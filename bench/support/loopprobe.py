"""A bench-only Jupyter server extension: a 10 ms ticker on the server's event loop.

The largest gap between ticks is how long the loop was blocked. ``GET /loopprobe``
(authenticated) returns it, with the longest garbage collection meanwhile (a collection
stops every thread, the loop too); ``POST /loopprobe`` starts a new measuring window.

Diagnostics, each switched on by an environment variable of the server (they cost the
loop; never measure with them): ``SYFT_PM_BENCH_ITERATIONS`` (busy iterations, split into
CPU, waiting for a CPU and for the GIL), ``SYFT_PM_BENCH_STALLS`` (every thread's stack
while the loop is stalled), ``SYFT_PM_BENCH_PROFILE`` (cProfile of the loop's thread, with
``..._CALLEES`` and ``..._CALLERS`` regexes), ``SYFT_PM_BENCH_SLOW_CALLBACK_MS`` (asyncio's
debug mode). ``SYFT_PM_BENCH_SWITCH_INTERVAL`` sets the interpreter's GIL switch interval,
for experiments.
"""

from __future__ import annotations

import gc
import json
import os
import time
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import PeriodicCallback

TICK_MS = 10
_state = {"last": 0.0, "max_lag": 0.0, "ticks": 0, "gc_max": 0.0, "gc_full": 0, "gc_t0": 0.0}


def _gc(phase: str, info: dict[str, Any]) -> None:
    if phase == "start":
        _state["gc_t0"] = time.perf_counter()
        return
    _state["gc_max"] = max(_state["gc_max"], (time.perf_counter() - _state["gc_t0"]) * 1000)
    if info.get("generation") == 2:
        _state["gc_full"] += 1


def _tick() -> None:
    now = time.monotonic()
    if _state["last"]:
        _state["max_lag"] = max(_state["max_lag"], (now - _state["last"]) * 1000 - TICK_MS)
    _state["last"] = now
    _state["ticks"] += 1


class ProbeHandler(APIHandler):
    auth_resource = "syft_pm"

    @web.authenticated
    def get(self) -> None:
        _profile_report()
        if os.environ.get("SYFT_PM_BENCH_ITERATIONS"):
            import sys

            print("ITER ---- the window ends", file=sys.stderr, flush=True)
        self.finish(
            json.dumps(
                {
                    "max_lag_ms": _state["max_lag"],
                    "ticks": _state["ticks"],
                    "gc_max_ms": _state["gc_max"],
                    "gc_full_collections": _state["gc_full"],
                }
            )
        )

    @web.authenticated
    def post(self) -> None:
        _state.update(max_lag=0.0, ticks=0, last=0.0, gc_max=0.0, gc_full=0)
        _profile_start()
        if os.environ.get("SYFT_PM_BENCH_ITERATIONS"):
            import sys

            print("ITER ---- the window starts", file=sys.stderr, flush=True)
        self.finish("{}")


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "loopprobe"}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    serverapp.web_app.add_handlers(".*$", [(r"/loopprobe", ProbeHandler)])
    PeriodicCallback(_tick, TICK_MS).start()
    if os.environ.get("SYFT_PM_BENCH_SWITCH_INTERVAL"):  # an experiment, not a default
        import sys

        sys.setswitchinterval(float(os.environ["SYFT_PM_BENCH_SWITCH_INTERVAL"]))
    gc.callbacks.append(_gc)
    if os.environ.get("SYFT_PM_BENCH_STALLS"):
        _start_stall_sampler()
    if os.environ.get("SYFT_PM_BENCH_ITERATIONS"):
        _time_iterations()
    threshold = os.environ.get("SYFT_PM_BENCH_SLOW_CALLBACK_MS")
    if threshold:  # name the callbacks that block the loop (asyncio's debug mode)
        import asyncio

        loop = asyncio.get_event_loop()
        loop.set_debug(True)
        loop.slow_callback_duration = float(threshold) / 1000


def _start_stall_sampler() -> None:
    """Bench diagnostics: while the loop has not ticked for 12 ms, log what every thread
    is doing (every 3 ms), so a block can be attributed. Not for measuring: it takes the
    GIL itself."""
    import sys
    import threading
    import traceback

    main = threading.main_thread().ident

    def run() -> None:
        while True:
            time.sleep(0.003)
            last = _state["last"]
            if not last or time.monotonic() - last < 0.012:
                continue
            stalled = (time.monotonic() - last) * 1000
            frames = sys._current_frames()
            lines = [f"STALL {stalled:.1f} ms"]
            for ident, frame in frames.items():
                who = "LOOP" if ident == main else str(ident)
                stack = traceback.extract_stack(frame)[-4:]
                lines.append(
                    f"  {who}: "
                    + " <- ".join(
                        f"{f.name}({f.filename.rsplit('/', 1)[-1]}:{f.lineno})"
                        for f in reversed(stack)
                    )
                )
            print("\n".join(lines), file=sys.stderr, flush=True)

    threading.Thread(target=run, name="stall-sampler", daemon=True).start()


_profiler: Any = None


def _profile_start() -> None:
    """Bench diagnostics (``SYFT_PM_BENCH_PROFILE=1``): profile the loop's own thread over
    the window, so what the loop spends per connection can be named (cProfile sees only
    the thread that enabled it)."""
    global _profiler
    if not os.environ.get("SYFT_PM_BENCH_PROFILE"):
        return
    import cProfile

    _profiler = cProfile.Profile()
    _profiler.enable()


def _profile_report() -> None:
    global _profiler
    if _profiler is None:
        return
    import io
    import pstats
    import sys

    _profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(_profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(40)
    stats.print_callees(os.environ.get("SYFT_PM_BENCH_PROFILE_CALLEES", "^$"))
    stats.print_callers(os.environ.get("SYFT_PM_BENCH_PROFILE_CALLERS", "^$"))
    print("PROFILE\n" + out.getvalue(), file=sys.stderr, flush=True)
    _profiler = None


def _time_iterations() -> None:
    """Bench diagnostics (``SYFT_PM_BENCH_ITERATIONS=1``): log every loop iteration busy
    for more than 6 ms outside ``select()``, split into the loop thread's CPU, its wait
    for a CPU (``schedstat``) and the rest (the GIL, or blocking I/O), with its callbacks
    by name; and every ``select()`` that returned more than 3 ms after its timeout (the
    loop woke, then waited for the GIL). Not for measuring: the timing costs the loop."""
    import asyncio
    import sys
    import threading

    loop: Any = asyncio.get_event_loop()
    run_once = loop._run_once
    handles: list[tuple[float, str]] = []
    handle_run = asyncio.Handle._run

    def timed_handle(self: Any) -> None:
        c0 = time.thread_time()
        handle_run(self)
        cpu = (time.thread_time() - c0) * 1000
        task = getattr(self._callback, "__self__", None)
        coro = getattr(task, "get_coro", lambda: None)()
        where = getattr(coro, "__qualname__", None) or getattr(
            self._callback, "__qualname__", repr(self._callback)[:80]
        )
        handles.append((cpu, where))

    asyncio.Handle._run = timed_handle  # type: ignore[method-assign]

    schedstat = f"/proc/self/task/{threading.get_native_id()}/schedstat"

    def queued_ms() -> float:
        """Time this thread spent runnable but waiting for a CPU, so far."""
        with open(schedstat) as f:
            return int(f.read().split()[1]) / 1e6

    selector = loop._selector
    select = selector.select
    in_select = [0.0]

    def timed_select(timeout: float | None = None) -> Any:
        t0 = time.perf_counter()
        events = []
        try:
            events = select(timeout)
            return events
        finally:
            took = time.perf_counter() - t0
            in_select[0] += took
            late = (took - timeout) * 1000 if timeout is not None and not events else 0.0
            if late > 3:
                # Woken by its timeout, the thread needed the GIL (or a CPU) back before
                # select() could return: a wait that "busy" above does not count.
                print(
                    f"ITER select overslept its {timeout * 1000:.1f} ms timeout by {late:.1f} ms",
                    file=sys.stderr,
                    flush=True,
                )

    selector.select = timed_select

    def timed() -> None:
        ready = len(loop._ready)
        in_select[0] = 0.0
        w0, c0, q0 = time.perf_counter(), time.thread_time(), queued_ms()
        run_once()
        wall = (time.perf_counter() - w0 - in_select[0]) * 1000
        cpu = (time.thread_time() - c0) * 1000
        queued = queued_ms() - q0
        if wall > 6:
            print(
                f"ITER busy {wall:.1f} ms (outside select), cpu {cpu:.1f} ms, waited for a"
                f" CPU {queued:.1f} ms, for the GIL or I/O {wall - cpu - queued:.1f} ms,"
                f" {ready} ready"
                + "".join(f"\n  ITER {n} x {what}: {ms:.1f} ms" for what, (n, ms) in top(handles)),
                file=sys.stderr,
                flush=True,
            )
        handles.clear()

    def top(done: list[tuple[float, str]]) -> list[tuple[str, tuple[int, float]]]:
        by: dict[str, tuple[int, float]] = {}
        for ms, what in done:
            n, total = by.get(what, (0, 0.0))
            by[what] = (n + 1, total + ms)
        return sorted(by.items(), key=lambda kv: -kv[1][1])[:6]

    loop._run_once = timed
