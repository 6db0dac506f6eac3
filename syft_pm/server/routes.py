"""Every route of the extension, in one table.

The auth test walks the live router, so a route added here is covered without editing it.
"""

from __future__ import annotations

from tornado import web

from .api_handlers import (
    ActionHandler,
    LogsHandler,
    ProcessesHandler,
    ProcessHandler,
    StatusHandler,
)
from .base import API_PREFIX
from .websocket import EventsHandler

_NAME = r"(?P<name>[^/]+)"


def route_table() -> list[tuple[str, type[web.RequestHandler]]]:
    return [
        (rf"{API_PREFIX}/status", StatusHandler),
        (rf"{API_PREFIX}/processes", ProcessesHandler),
        (rf"{API_PREFIX}/processes/{_NAME}", ProcessHandler),
        (rf"{API_PREFIX}/processes/{_NAME}/logs", LogsHandler),
        (rf"{API_PREFIX}/processes/{_NAME}/(?P<action>[a-z]+)", ActionHandler),
        (rf"{API_PREFIX}/events", EventsHandler),
    ]
