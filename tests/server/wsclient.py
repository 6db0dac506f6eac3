"""A websocket client for the events route that keeps what it read and waits on conditions."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any


class WsClient:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []

    async def until(self, pred: Any, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            for m in self.messages:
                if pred(m):
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; got {self.messages!r}")
            try:
                raw = await asyncio.wait_for(self.ws.read_message(), left)
            except asyncio.TimeoutError:
                continue
            if raw is None:
                raise AssertionError("websocket closed")
            self.messages.append(json.loads(raw))


def is_snapshot(m: dict[str, Any]) -> bool:
    return m["type"] == "snapshot"


def status_delta(name: str, status: str) -> Any:
    return lambda m: (
        m["type"] == "delta"
        and (
            m["changed"].get(name, {}).get("status") == status
            or m["added"].get(name, {}).get("status") == status
        )
    )
