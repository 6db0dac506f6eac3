"""Who may do what: ``read`` to look, ``write`` to stop and remove, ``execute`` to start
or restart (which runs a stored command), and a ``read_only`` setting for everyone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jupyter_server.auth.authorizer import Authorizer
from tornado import httpclient
from wsclient import WsClient, is_snapshot

from syft_pm.manager import ProcessManager

SLEEPER = ["sleep", "300"]


class NoExecuteAuthorizer(Authorizer):
    """Everything but ``execute`` on syft_pm: may look, stop and remove; never run."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (resource == "syft_pm" and action == "execute")


@pytest.fixture
def pm(syft_home: Path) -> Any:
    manager = ProcessManager(syft_home)
    yield manager
    for h in manager.list():
        h.stop(timeout=3)


async def post_status(jp_fetch: Any, *parts: str) -> int:
    try:
        resp = await jp_fetch(*parts, method="POST", body="{}")
    except httpclient.HTTPClientError as e:
        return int(e.code)
    return int(resp.code)


class TestWithoutExecute:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        jp_server_config["ServerApp"]["authorizer_class"] = NoExecuteAuthorizer
        return jp_server_config

    async def test_restart_and_start_need_execute(self, jp_fetch: Any, pm: ProcessManager):
        pm.run("p", SLEEPER)
        api = ("syft-pm", "api", "processes", "p")
        assert await post_status(jp_fetch, *api, "restart") == 403
        assert pm.get("p").restarts == 0
        assert await post_status(jp_fetch, *api, "stop") == 200
        assert await post_status(jp_fetch, *api, "start") == 403
        assert pm.get("p").status == "stopped"
        status = json.loads((await jp_fetch("syft-pm", "api", "status")).body)
        assert status["permissions"] == ["read", "write"]

    async def test_the_websocket_refuses_restart_too(self, jp_ws_fetch: Any, pm: ProcessManager):
        pm.run("p", SLEEPER)
        c = WsClient(await jp_ws_fetch("syft-pm", "api", "events"))
        await c.until(is_snapshot)
        msg = {"type": "action", "id": 1, "action": "restart", "name": "p"}
        await c.ws.write_message(json.dumps(msg))
        res = await c.until(lambda m: m["type"] == "action_result")
        assert not res["ok"] and "execute" in res["error"]
        assert pm.get("p").restarts == 0
        c.ws.close()


class TestReadOnly:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        jp_server_config["SyftPmExtension"]["read_only"] = True
        return jp_server_config

    async def test_reads_work_and_every_action_is_refused(
        self, jp_fetch: Any, jp_ws_fetch: Any, pm: ProcessManager
    ):
        pm.run("p", SLEEPER)
        listing = json.loads((await jp_fetch("syft-pm", "api", "processes")).body)
        assert [p["name"] for p in listing["processes"]] == ["p"]
        api = ("syft-pm", "api", "processes", "p")
        for action in ("stop", "restart", "start"):
            assert await post_status(jp_fetch, *api, action) == 403, action
        with pytest.raises(httpclient.HTTPClientError) as exc:
            await jp_fetch(*api, method="DELETE")
        assert exc.value.code == 403
        c = WsClient(await jp_ws_fetch("syft-pm", "api", "events"))
        await c.until(is_snapshot)
        await c.ws.write_message(
            json.dumps({"type": "action", "id": 2, "action": "stop", "name": "p"})
        )
        res = await c.until(lambda m: m["type"] == "action_result")
        assert not res["ok"] and "forbidden" in res["error"]
        assert pm.get("p").status == "running"
        c.ws.close()


async def test_a_corrupt_registry_json_breaks_neither_status_nor_events(
    jp_fetch: Any, jp_ws_fetch: Any, syft_home: Path, pm: ProcessManager
):
    pm.run("p", SLEEPER)
    (syft_home / "registry.json").write_text('{"id": "trunc')
    status = await jp_fetch("syft-pm", "api", "status")
    assert status.code == 200
    c = WsClient(await jp_ws_fetch("syft-pm", "api", "events"))
    snap = await c.until(is_snapshot)
    assert "p" in snap["processes"]
    c.ws.close()


async def test_six_slow_stops_do_not_stall_the_reads(
    jp_fetch: Any, pm: ProcessManager, tmp_path: Path
):
    """Stops that wait out their timeout run on the action pool; the routes a sidebar
    reads from keep answering meanwhile (they used to share one small default pool)."""
    import asyncio

    stubborn = ["bash", "-c", "trap '' TERM; while true; do sleep 0.1; done"]
    for i in range(6):
        pm.run(f"slow{i}", stubborn)
    stops = [
        asyncio.ensure_future(
            jp_fetch(
                "syft-pm",
                "api",
                "processes",
                f"slow{i}",
                "stop",
                method="POST",
                body=json.dumps({"timeout": 3}),
            )
        )
        for i in range(6)
    ]
    await asyncio.sleep(0.2)  # let the six stops reach the pool (not a wait for a result)
    for _ in range(3):
        await jp_fetch("syft-pm", "api", "processes")
        await jp_fetch("syft-pm", "api", "processes", "slow0", "logs")
    assert not any(s.done() for s in stops), "a read waited for the stops"
    await asyncio.gather(*stops)
    assert all(pm.get(f"slow{i}").status == "stopped" for i in range(6))


class TestKeepAlive:
    @pytest.fixture
    def jp_server_config(self, jp_server_config: dict[str, Any]) -> dict[str, Any]:
        jp_server_config["ServerApp"]["tornado_settings"] = {"ws_ping_interval": 50}
        return jp_server_config

    async def test_the_events_socket_pings_so_dead_peers_are_dropped(
        self, jp_ws_fetch: Any
    ) -> None:
        """The handler runs jupyter_server's keep-alive (the base class's open()): a peer
        that vanished without a close is found by its missing pongs."""
        import asyncio

        ws = await jp_ws_fetch("syft-pm", "api", "events")
        pings: list[bytes] = []
        ws.on_ping = pings.append  # the client's hook for a ping from the server
        c = WsClient(ws)
        await c.until(is_snapshot)
        for _ in range(100):
            if pings:
                break
            await asyncio.sleep(0.05)
        assert pings, "the server never pinged"
        ws.close()
