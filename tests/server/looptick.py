"""Counting the iterations of the running event loop, for tests about what runs in one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


def iteration_counter() -> tuple[Callable[[], int], Callable[[], None]]:
    """The loop's iteration number (a callback that reschedules itself runs once per
    iteration), and a function that stops counting."""
    loop = asyncio.get_running_loop()
    state = {"n": 0, "on": True}

    def tick() -> None:
        state["n"] += 1
        if state["on"]:
            loop.call_soon(tick)

    loop.call_soon(tick)
    return (lambda: state["n"]), (lambda: state.update(on=False))
