"""Courtesy to the Jupyter server's event loop, which shares the GIL with our threads.

A thread that builds or encodes a large snapshot holds the GIL for as long as Python
lets it (the 5 ms switch interval, longer inside one C call), and the event loop waits
meanwhile. Long loops over processes call :meth:`Courtesy.pause` between items: every
couple of milliseconds of work it releases the GIL for a moment (``time.sleep(0)``), so
a loop thread that is waiting gets it at once instead of at the next forced switch.
"""

from __future__ import annotations

import time

#: Seconds of work between two releases of the GIL.
SLICE = 0.002


class Courtesy:
    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def pause(self) -> None:
        now = time.perf_counter()
        if now - self._last >= SLICE:
            time.sleep(0)
            self._last = time.perf_counter()
