"""REST routes and the events websocket of the server extension, against a real server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tornado import httpclient, websocket
from wsclient import WsClient, is_snapshot, status_delta

from syft_pm.manager import ProcessManager

PY = sys.executable
SLEEPER = [PY, "-c", "import time; time.sleep(300)"]


@pytest.fixture
def pm(syft_home: Path) -> Any:
    manager = ProcessManager(syft_home)
    yield manager
    for h in manager.list():
        try:
            h.stop(timeout=3)
        except Exception as e:
            print("teardown:", e)


async def get_json(jp_fetch, *parts: str, **params: Any) -> Any:
    resp = await jp_fetch(*parts, params=params or None)
    return json.loads(resp.body)


async def expect_error(jp_fetch, code: int, *parts: str, method: str = "GET", **kw: Any) -> str:
    with pytest.raises(httpclient.HTTPClientError) as exc:
        await jp_fetch(*parts, method=method, **kw)
    assert exc.value.code == code, (parts, exc.value.code, exc.value.response.body)
    body = json.loads(exc.value.response.body)
    assert body["message"], body
    return str(body["message"])


async def raw_get(jp_http_port: int, jp_base_url: str, path: str, token: str) -> int:
    """A request whose path is sent exactly as written (no client-side quoting)."""
    client = httpclient.AsyncHTTPClient()
    resp = await client.fetch(
        f"http://localhost:{jp_http_port}{jp_base_url}{path}",
        headers={"Authorization": f"token {token}"},
        raise_error=False,
    )
    return int(resp.code)


def start_from_plain_python(home: Path, name: str) -> None:
    """Start a process from a separate Python interpreter (no kernel, no server)."""
    code = f"import syft_pm; syft_pm.run({name!r}, {SLEEPER!r})"
    subprocess.run(
        [PY, "-c", code], env={"SYFT_PM_HOME": str(home), "PATH": "/usr/bin:/bin"}, check=True
    )


async def test_lists_a_process_started_by_a_plain_python_process(jp_fetch, syft_home, pm):
    start_from_plain_python(syft_home, "plain")
    data = await get_json(jp_fetch, "syft-pm", "api", "processes")
    (proc,) = [p for p in data["processes"] if p["name"] == "plain"]
    assert proc["status"] == "running" and proc["pid"] == pm.get("plain").pid
    assert data["registry_id"] == pm.registry.id


async def test_filters(jp_fetch, pm):
    pm.run("web", SLEEPER, labels={"team": "a"})
    pm.run("job", [PY, "-c", "pass"], labels={"team": "b"}).wait(timeout=10)
    by_status = await get_json(jp_fetch, "syft-pm", "api", "processes", status="running")
    assert [p["name"] for p in by_status["processes"]] == ["web"]
    by_label = await get_json(jp_fetch, "syft-pm", "api", "processes", label="team=b")
    assert [p["name"] for p in by_label["processes"]] == ["job"]
    assert "unknown status" in await expect_error(
        jp_fetch, 400, "syft-pm", "api", "processes", params={"status": "dancing"}
    )
    assert "key=value" in await expect_error(
        jp_fetch, 400, "syft-pm", "api", "processes", params={"label": "nokey"}
    )


async def test_detail_and_unknown_names(jp_fetch, pm):
    h = pm.run("detail", SLEEPER)
    info = await get_json(jp_fetch, "syft-pm", "api", "processes", "detail")
    assert info["name"] == "detail" and info["pid"] == h.pid and info["config"]["cmd"] == SLEEPER
    assert "no process named" in await expect_error(
        jp_fetch, 404, "syft-pm", "api", "processes", "missing"
    )
    assert "limit" in await expect_error(jp_fetch, 400, "syft-pm", "api", "processes", "x" * 300)


@pytest.mark.parametrize(
    "path",
    [
        "syft-pm/api/processes/..%2F..%2Fetc%2Fpasswd",
        "syft-pm/api/processes/%2e%2e",
        "syft-pm/api/processes/.hidden/logs",
        "syft-pm/api/processes/%2Fetc%2Fpasswd/logs",
        "syft-pm/api/processes/a%00b/logs",
        "syft-pm/api/processes/..%252F..%252Fetc/logs",
    ],
)
async def test_traversal_attempts_are_refused(
    jp_fetch, jp_http_port, jp_base_url, jp_serverapp, path
):
    # jp_fetch is requested so the server listens; the raw request keeps the encoding.
    token = jp_serverapp.identity_provider.token
    code = await raw_get(jp_http_port, jp_base_url, path, token)
    assert code in (400, 404), (path, code)


async def test_logs_tail_paging_follow_and_search(jp_fetch, pm):
    h = pm.run("talk", [PY, "-c", "for i in range(50): print('say', i)"])
    h.wait(timeout=10)
    last = await get_json(jp_fetch, "syft-pm", "api", "processes", "talk", "logs", lines="10")
    assert [t for _, t in last["lines"]] == [f"say {i}" for i in range(40, 50)]
    assert all(isinstance(ts, float) for ts, _ in last["lines"])
    older = await get_json(
        jp_fetch, "syft-pm", "api", "processes", "talk", "logs", lines="10", before=last["before"]
    )
    assert [t for _, t in older["lines"]] == [f"say {i}" for i in range(30, 40)]
    found = await get_json(jp_fetch, "syft-pm", "api", "processes", "talk", "logs", search="say 4")
    assert [t for _, t in found["lines"]][:2] == ["say 49", "say 48"]
    follow = await get_json(
        jp_fetch, "syft-pm", "api", "processes", "talk", "logs", after=last["cursor"]
    )
    assert follow["lines"] == []
    for params, msg in (
        ({"stream": "stdin"}, "stream"),
        ({"lines": "0"}, "between"),
        ({"lines": "many"}, "integer"),
        ({"before": "nonsense"}, "cursor"),
    ):
        assert msg in await expect_error(
            jp_fetch, 400, "syft-pm", "api", "processes", "talk", "logs", params=params
        )


async def test_actions(jp_fetch, pm):
    pm.run("ctl", SLEEPER)
    await expect_error(jp_fetch, 409, "syft-pm", "api", "processes", "ctl", method="DELETE")
    r = await jp_fetch("syft-pm", "api", "processes", "ctl", "stop", method="POST", body="{}")
    assert json.loads(r.body)["status"] == "stopped"
    assert pm.get("ctl").status == "stopped"
    r = await jp_fetch("syft-pm", "api", "processes", "ctl", "start", method="POST", body="")
    assert json.loads(r.body)["status"] == "running"
    r = await jp_fetch("syft-pm", "api", "processes", "ctl", "restart", method="POST", body="{}")
    assert json.loads(r.body)["status"] == "running"
    assert "unknown action" in await expect_error(
        jp_fetch, 404, "syft-pm", "api", "processes", "ctl", "explode", method="POST", body="{}"
    )
    assert "JSON" in await expect_error(
        jp_fetch, 400, "syft-pm", "api", "processes", "ctl", "stop", method="POST", body="{nope"
    )
    assert "timeout" in await expect_error(
        jp_fetch,
        400,
        "syft-pm",
        "api",
        "processes",
        "ctl",
        "stop",
        method="POST",
        body=json.dumps({"timeout": -1}),
    )
    r = await jp_fetch("syft-pm", "api", "processes", "ctl", method="DELETE", params={"force": "1"})
    assert json.loads(r.body)["status"] == "removed"
    assert not pm.registry.exists("ctl")


async def test_websocket_snapshot_deltas_two_clients_and_reconnect(
    jp_ws_fetch, jp_fetch, syft_home, pm
):
    a = WsClient(await jp_ws_fetch("syft-pm", "api", "events"))
    b = WsClient(await jp_ws_fetch("syft-pm", "api", "events"))
    await a.until(is_snapshot)
    await b.until(is_snapshot)
    start_from_plain_python(syft_home, "ws-proc")
    await a.until(status_delta("ws-proc", "running"))
    await b.until(status_delta("ws-proc", "running"))
    await jp_fetch("syft-pm", "api", "processes", "ws-proc", "stop", method="POST", body="{}")
    da = await a.until(status_delta("ws-proc", "stopped"))
    db = await b.until(status_delta("ws-proc", "stopped"))
    assert da["changed"] == db["changed"]
    a.ws.close()
    again = WsClient(await jp_ws_fetch("syft-pm", "api", "events"))
    snap = await again.until(is_snapshot)
    assert snap["processes"]["ws-proc"]["status"] == "stopped"
    b.ws.close()
    again.ws.close()


async def test_websocket_scope_actions_and_bad_messages(jp_ws_fetch, pm):
    pm.run("one", SLEEPER)
    pm.run("two", SLEEPER)
    c = WsClient(await jp_ws_fetch("syft-pm", "api", "events", params={"name": "one"}))
    snap = await c.until(is_snapshot)
    assert list(snap["processes"]) == ["one"]
    await c.ws.write_message(
        json.dumps({"type": "action", "id": 7, "action": "stop", "name": "one"})
    )
    res = await c.until(lambda m: m["type"] == "action_result")
    assert res["ok"] and res["id"] == 7
    await c.until(status_delta("one", "stopped"))
    await c.ws.write_message("not json")
    await c.until(lambda m: m["type"] == "error")
    await c.ws.write_message(json.dumps({"type": "subscribe", "names": ["two"]}))
    snap2 = await c.until(lambda m: is_snapshot(m) and m["scope"] == ["two"])
    assert list(snap2["processes"]) == ["two"]
    c.ws.close()


async def test_websocket_refuses_a_foreign_origin(
    jp_http_port, jp_base_url, jp_serverapp, jp_fetch
):
    """Origin is what protects a browser's cookie session from cross-site websockets
    (token-authenticated clients are exempt by jupyter_server's design)."""
    from tornado.httpclient import HTTPRequest

    token = jp_serverapp.identity_provider.token
    client = httpclient.AsyncHTTPClient()
    login = await client.fetch(
        f"http://localhost:{jp_http_port}{jp_base_url}api/me?token={token}", raise_error=False
    )
    cookies = [c.split(";", 1)[0] for c in login.headers.get_list("Set-Cookie")]
    assert cookies, "logging in with the token should set a session cookie"
    cookie = "; ".join(cookies)
    url = f"ws://localhost:{jp_http_port}{jp_base_url}syft-pm/api/events"
    foreign = HTTPRequest(url, headers={"Cookie": cookie, "Origin": "http://evil.example"})
    with pytest.raises(httpclient.HTTPClientError) as exc:
        await websocket.websocket_connect(foreign)
    assert exc.value.code == 403
    same = HTTPRequest(
        url, headers={"Cookie": cookie, "Origin": f"http://localhost:{jp_http_port}"}
    )
    ws = await websocket.websocket_connect(same)
    assert json.loads(await ws.read_message())["type"] == "snapshot"
    ws.close()


async def test_symlinks_planted_in_the_registry_are_never_followed(
    jp_fetch, syft_home, pm, tmp_path
):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = outside / "stdout.log"
    secret.write_text("2026-01-01T00:00:00.000Z SECRET\n")
    (outside / "config.json").write_text('{"schema": 1, "name": "evil", "cmd": ["true"]}')
    (outside / "state.json").write_text('{"schema": 1, "status": "exited"}')
    pm.registry.ensure()
    # A whole entry that is a symlink to a directory outside the registry...
    (syft_home / "processes" / "evil").symlink_to(outside, target_is_directory=True)
    for parts in (("evil",), ("evil", "logs")):
        await expect_error(jp_fetch, 404, "syft-pm", "api", "processes", *parts)
    listed = await get_json(jp_fetch, "syft-pm", "api", "processes")
    assert "evil" not in [p["name"] for p in listed["processes"]]
    # ...and a real entry whose log file is a symlink to a file outside it.
    h = pm.run("real", [PY, "-c", "print('mine')"])
    h.wait(timeout=10)
    log = h.directory / "stdout.log"
    log.unlink()
    log.symlink_to(secret)
    for params in ({}, {"search": "SECRET"}, {"after": "0:0"}):
        data = await get_json(jp_fetch, "syft-pm", "api", "processes", "real", "logs", **params)
        assert all("SECRET" not in text for _, text in data["lines"]), (params, data)


@pytest.mark.parametrize("fragment", [None, 1000], ids=["one-frame", "fragments"])
async def test_websocket_frames_of_every_length_class_arrive_whole(
    jp_ws_fetch, pm, monkeypatch, fragment
):
    """Frames are written by the extension (header, then the encoded pieces): payloads
    under 126 bytes, up to 64 KiB and beyond each use their own length encoding; a
    message bigger than a fragment goes as a text frame and continuations."""
    if fragment is not None:
        from syft_pm.server import websocket as ws_module

        monkeypatch.setattr(ws_module, "FRAGMENT", fragment)
    code = "for i in range(300): print(i, 'x' * 400)"
    assert pm.run("wide", [PY, "-c", code]).wait(timeout=30) == 0
    big = WsClient(await jp_ws_fetch("syft-pm", "api", "events"))
    snap = await big.until(is_snapshot)
    lines = snap["logs"]["wide"]["stdout"]["lines"]
    assert len(lines) == 200 and lines[-1][1] == "299 " + "x" * 400  # > 64 KiB in all
    small = WsClient(await jp_ws_fetch("syft-pm", "api", "events", params={"logs": "0"}))
    snap = await small.until(is_snapshot)  # 126 bytes to 64 KiB
    assert snap["logs"] == {} and snap["processes"]["wide"]["status"] == "exited"
    await small.ws.write_message("not json")  # the error reply is under 126 bytes
    err = await small.until(lambda m: m["type"] == "error")
    assert "not JSON" in err["message"]
    big.ws.close()
    small.ws.close()


async def test_replies_are_encoded_off_the_event_loop(
    jp_fetch: Any, pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A thousand processes or ten thousand log lines take the encoder milliseconds; the
    server's loop (this test's own thread) must not spend them."""
    import threading
    import types

    from syft_pm.server import base

    loop_thread = threading.get_ident()
    encoded_on: list[int] = []

    def dumps(data: Any, **kw: Any) -> str:
        encoded_on.append(threading.get_ident())
        return json.dumps(data, **kw)

    monkeypatch.setattr(base, "json", types.SimpleNamespace(dumps=dumps))
    h = pm.run("sleeper", SLEEPER)
    assert (await get_json(jp_fetch, "syft-pm", "api", "processes"))["processes"]
    assert (await get_json(jp_fetch, "syft-pm", "api", "processes", "sleeper"))["name"] == "sleeper"
    await get_json(jp_fetch, "syft-pm", "api", "processes", "sleeper", "logs")
    await get_json(jp_fetch, "syft-pm", "api", "status")
    h.stop()
    assert len(encoded_on) == 4 and loop_thread not in encoded_on, encoded_on
