"""Every route syft_pm registers refuses a request that carries no credentials.

The routes are discovered from the running server's router, not listed here, so a route
added later is covered without editing this test.
"""

from __future__ import annotations

import json
import re

import pytest
from tornado import httpclient, web, websocket

_GROUP = re.compile(r"\(\?P<\w+>[^)]*\)|\([^)]*\)")
_METHODS = ("get", "post", "put", "patch", "delete")


def _rules(router) -> list:
    """Every rule, descending into nested routers (tornado nests one per host pattern)."""
    out = []
    for rule in getattr(router, "rules", []):
        if hasattr(rule.target, "rules"):
            out.extend(_rules(rule.target))
        else:
            out.append(rule)
    return out


def _syft_routes(serverapp) -> list[tuple[str, type]]:
    found = []
    for rule in _rules(serverapp.web_app.default_router):
        target = rule.target
        if not (isinstance(target, type) and target.__module__.startswith("syft_pm.")):
            continue
        pattern = rule.matcher.regex.pattern
        path = _GROUP.sub("demo", pattern).rstrip("$").replace("\\", "")
        found.append((path, target))
    return found


def _implemented(handler: type) -> list[str]:
    return [
        m.upper() for m in _METHODS if getattr(handler, m) is not getattr(web.RequestHandler, m)
    ]


async def test_every_route_requires_authentication(jp_serverapp, jp_fetch, jp_http_port):
    # jp_fetch is requested so that the HTTP server really listens on jp_http_port.
    routes = _syft_routes(jp_serverapp)
    assert any(p.endswith("/syft-pm/api/status") for p, _ in routes), routes
    client = httpclient.AsyncHTTPClient()
    checked = 0
    for path, handler in routes:
        url = f"http://localhost:{jp_http_port}{path}"
        if issubclass(handler, websocket.WebSocketHandler):
            with pytest.raises(httpclient.HTTPClientError) as exc:
                await websocket.websocket_connect(url.replace("http", "ws", 1))
            assert exc.value.code == 403, (path, exc.value)
            checked += 1
            continue
        for method in _implemented(handler):
            body = json.dumps({}) if method in ("POST", "PUT", "PATCH") else None
            resp = await client.fetch(
                url, method=method, body=body, raise_error=False, follow_redirects=False
            )
            assert resp.code == 403, f"{method} {path} answered {resp.code} without a token"
            checked += 1
    assert checked >= len(routes)


async def test_status_route_with_token_reports_version(jp_fetch):
    import syft_pm

    resp = await jp_fetch("syft-pm", "api", "status")
    assert resp.code == 200
    data = json.loads(resp.body)
    assert data["version"] == syft_pm.__version__
