"""How long an asyncio loop waits for the GIL while a worker thread computes.

The Jupyter server's event loop shares the GIL with the threads that build snapshots.
A ticker on an asyncio loop (every 5 ms, ten pipe round trips per tick, each of which
releases and retakes the GIL, as socket writes do) measures its lateness while a worker
thread runs pure-Python work for a few seconds, pausing in one of three ways:

* ``none``: never (the interpreter forces a switch after its 5 ms interval);
* ``sleep0``: ``time.sleep(0)`` every 2 ms of work (what ``live/gil.py`` used to do);
* ``courtesy``: ``syft_pm.live.gil.Courtesy`` (a real pause every ``SLICE`` of work).

Prints the worst and the 99th percentile lateness for each, over several rounds run
interleaved. Takes about 40 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from syft_pm.live.gil import SLICE, Courtesy

ROUNDS = 4
SECONDS = 3.0
TICK = 0.005


def pauser(mode: str) -> Callable[[], None]:
    if mode == "courtesy":
        return Courtesy().pause
    if mode == "none":
        return lambda: None
    last = [time.perf_counter()]

    def sleep0() -> None:
        now = time.perf_counter()
        if now - last[0] >= SLICE:
            time.sleep(0)
            last[0] = time.perf_counter()

    return sleep0


def work(stop: threading.Event, pause: Callable[[], None]) -> None:
    x = 0
    while not stop.is_set():
        for i in range(200):
            x += i * i
        pause()


async def measure(mode: str) -> list[float]:
    r, w = os.pipe()
    stop = threading.Event()
    worker = threading.Thread(target=work, args=(stop, pauser(mode)))
    worker.start()
    lags: list[float] = []
    last = time.monotonic()
    end = last + SECONDS
    try:
        while time.monotonic() < end:
            await asyncio.sleep(TICK)
            for _ in range(10):
                os.write(w, b"x")
                os.read(r, 1)
            now = time.monotonic()
            lags.append((now - last - TICK) * 1000)
            last = now
    finally:
        stop.set()
        worker.join()
        os.close(r)
        os.close(w)
    return lags


def main() -> None:
    modes = ("none", "sleep0", "courtesy")
    found: dict[str, list[float]] = {m: [] for m in modes}
    for rnd in range(ROUNDS):
        for mode in modes if rnd % 2 == 0 else tuple(reversed(modes)):
            found[mode].extend(asyncio.run(measure(mode)))
    for mode in modes:
        lags = sorted(found[mode])
        for stat, value in (("max", lags[-1]), ("p99", lags[int(0.99 * len(lags))])):
            row = {
                "bench": f"gil.loop_lateness_{mode}_{stat}",
                "figure": round(value, 2),
                "unit": "ms",
                "baseline": None,
                "ratio": None,
                "goal": "informative",
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
