"""The turnstile: a burst of websocket handshakes never runs in one loop iteration."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from looptick import iteration_counter
from wsclient import WsClient, is_snapshot

from syft_pm.server.turnstile import Turnstile
from syft_pm.server.websocket import EventsHandler


def clients_through(
    gate: Turnstile, now: Callable[[], int]
) -> tuple[Callable[[int], Awaitable[None]], list[tuple[int, int]]]:
    """A client that passes ``gate``, and the list of (client, iteration) it passed in."""
    passed: list[tuple[int, int]] = []

    async def client(i: int) -> None:
        await gate.enter()
        passed.append((i, now()))

    return client, passed


async def test_no_iteration_lets_more_than_its_quota_through() -> None:
    gate = Turnstile(3)
    now, stop = iteration_counter()
    client, passed = clients_through(gate, now)
    await asyncio.gather(*(client(i) for i in range(20)))
    stop()
    assert [i for i, _ in passed] == list(range(20)), "first come, first served"
    per_iteration = Counter(n for _, n in passed)
    assert max(per_iteration.values()) == 3, per_iteration
    assert len(per_iteration) == 7, per_iteration
    assert gate.waiting == 0


async def test_a_waiter_that_left_takes_no_place() -> None:
    gate = Turnstile(2)
    now, stop = iteration_counter()
    client, passed = clients_through(gate, now)
    tasks = [asyncio.create_task(client(i)) for i in range(6)]
    await asyncio.sleep(0)  # every client waits at the gate
    tasks[0].cancel()
    tasks[1].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    stop()
    assert [i for i, _ in passed] == [2, 3, 4, 5]
    first = passed[0][1]
    assert [n for _, n in passed] == [first, first, first + 1, first + 1]


async def test_a_lone_client_goes_through_at_once() -> None:
    gate = Turnstile(1)
    now, stop = iteration_counter()
    start = now()
    await gate.enter()
    assert now() - start == 2, "the turn, then the waiter's wake-up"
    stop()


def test_a_quota_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Turnstile(0)


@pytest.fixture
def jp_server_config(jp_server_config: dict[str, Any]) -> dict[str, Any]:
    jp_server_config["SyftPmExtension"]["handshakes_per_iteration"] = 2
    return jp_server_config


async def test_a_burst_of_handshakes_is_spread_over_iterations(
    jp_ws_fetch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the server (this test's own loop): twelve clients at once are opened two per
    iteration, and each gets its snapshot."""
    now, stop = iteration_counter()
    opened: list[int] = []
    real_open = EventsHandler.open

    async def counted_open(self: EventsHandler, *args: Any, **kwargs: Any) -> None:
        opened.append(now())
        await real_open(self, *args, **kwargs)

    monkeypatch.setattr(EventsHandler, "open", counted_open)
    sockets = await asyncio.gather(*(jp_ws_fetch("syft-pm", "api", "events") for _ in range(12)))
    try:
        for ws in sockets:
            await WsClient(ws).until(is_snapshot)
    finally:
        stop()
        for ws in sockets:
            ws.close()
    assert len(opened) == 12
    assert max(Counter(opened).values()) <= 2, Counter(opened)


async def test_clients_that_leave_at_the_turnstile_leave_nothing_behind(
    jp_ws_fetch: Any, jp_http_port: int, jp_base_url: str, jp_serverapp: Any, caplog: Any
) -> None:
    """Ten upgrades sent and abandoned at once (tabs closed mid-reconnect) wait at the
    turnstile, then find their connection gone: no error, no session left attached,
    and the clients that stay are served."""
    import base64
    import os
    import socket

    token = jp_serverapp.identity_provider.token
    request = (
        f"GET {jp_base_url}syft-pm/api/events HTTP/1.1\r\nHost: 127.0.0.1:{jp_http_port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        f"Authorization: token {token}\r\nSec-WebSocket-Key: "
    )
    abandoned = []
    for _ in range(10):
        s = socket.create_connection(("127.0.0.1", jp_http_port))
        s.sendall(f"{request}{base64.b64encode(os.urandom(16)).decode()}\r\n\r\n".encode())
        abandoned.append(s)
    for s in abandoned:
        s.close()
    sockets = await asyncio.gather(*(jp_ws_fetch("syft-pm", "api", "events") for _ in range(3)))
    for ws in sockets:
        await WsClient(ws).until(is_snapshot)
    clients = jp_serverapp.web_app.settings["syft_pm_clients"]
    deadline = asyncio.get_running_loop().time() + 10
    while len(clients.clients) != 3 and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)
    assert len(clients.clients) == 3, clients.clients
    assert clients.turnstile.waiting == 0
    assert not [r for r in caplog.records if r.levelname == "ERROR"], caplog.text[-2000:]
    for ws in sockets:
        ws.close()


@pytest.mark.parametrize("trait", ["handshakes_per_iteration", "read_workers", "action_workers"])
def test_a_setting_below_one_is_a_clear_configuration_error(trait: str) -> None:
    from traitlets import TraitError

    from syft_pm.server.app import SyftPmExtension

    with pytest.raises(TraitError, match=f"SyftPmExtension.{trait} must be at least 1, not 0"):
        SyftPmExtension(**{trait: 0})
