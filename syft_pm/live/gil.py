"""Courtesy to the Jupyter server's event loop, which shares the GIL with our threads.

A thread that builds or encodes a large snapshot holds the GIL for as long as Python
lets it, and the event loop waits meanwhile: up to the 5 ms switch interval for every
time it needs the GIL back (after each socket write, each poll), so a loop iteration
with a few system calls can wait tens of milliseconds. Long loops over processes call
:meth:`Courtesy.pause` between items: every :data:`SLICE` of work it sleeps for
:data:`PAUSE`, long enough for a waiting loop thread to wake up and take the GIL.

A loop of quick system calls (a scan's thousands of ``stat()``) needs the pauses too:
each call releases the GIL and retakes it within microseconds, which is just what
``time.sleep(0)`` does, below.

``time.sleep(0)`` is not enough, and worse than nothing: it releases the GIL and takes
it back before a waiting thread has even woken up, and each release restarts that
thread's 5 ms wait for a forced switch, so a worker pausing every 2 ms can keep the loop
out for as long as it keeps winning that race. ``bench/bench_gil.py`` measures the three
ways (no pause, ``sleep(0)``, this) side by side.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time

#: Seconds of work between two pauses. Short, because the loop gives the GIL up at
#: every system call (each socket write, each wake-up from ``select``) and a worker
#: takes it at once: the loop then waits for the worker's next pause, once per system
#: call, and an iteration that writes to ten clients waits ten times. With 2 ms slices
#: the snapshot storm of ``bench/bench_server.py`` blocked the loop for 14 ms (median of
#: 14 runs), with 1 ms for 11 ms (8 runs), with 0.5 ms for 7.2 ms (22 runs); every
#: snapshot took a quarter to a third longer to deliver.
SLICE = 0.0005
#: Seconds each pause sleeps: a thread woken by the GIL's release needs tens of
#: microseconds to run; this leaves it ample time.
PAUSE = 0.0002


class Courtesy:
    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = time.perf_counter()

    def pause(self) -> None:
        now = time.perf_counter()
        if now - self._last >= SLICE:
            time.sleep(PAUSE)
            self._last = time.perf_counter()


#: How much nicer than the rest of the process our worker threads are.
NICE = 10


def yield_cpu_to_the_loop() -> None:
    """Make the calling thread a background thread for the OS scheduler (nice +10).

    On two cores, fifty clients' snapshots keep the event loop, our workers and the
    clients busy at once, and the loop waited for a CPU more than for the GIL (its
    run-queue delay in ``/proc/<pid>/task/<tid>/schedstat``). A nicer worker still gets
    every idle cycle; it just loses to the loop when both are runnable. Linux lets a
    thread lower its own priority without privileges; elsewhere this does nothing.
    """
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))
