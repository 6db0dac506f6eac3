"""The REST routes: authenticate, authorize, validate, call the core off the loop, shape JSON."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from .._version import __version__
from ..live import actions, protocol
from ..live.session import ACTION_PERMISSIONS, WRITE
from .base import SyftPmHandler

_MAX_LINES = 10_000
#: Actions with a route of their own (``remove`` is ``DELETE processes/<name>``).
ROUTE_ACTIONS = tuple(a for a in protocol.ACTIONS if a != "remove")


class StatusHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        registry = self.clients.live.registry
        await self.reply(
            {
                "version": __version__,
                "protocol": protocol.PROTOCOL_VERSION,
                "home": str(registry.home),
                "registry_id": await self.read(actions.registry_id, registry),
                "permissions": sorted(await self.permissions()),
            }
        )


class ProcessesHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        statuses = self.get_query_arguments("status")
        labels = self.get_query_arguments("label")
        filters = {
            "status": statuses,
            "label": labels,
            "kernel": self.get_query_argument("kernel", None),
            "notebook": self.get_query_argument("notebook", None),
        }
        for label in labels:
            if "=" not in label:
                raise web.HTTPError(400, f"label filter must look like key=value, not {label!r}")
        for status in statuses:
            if status not in (*protocol.STATUSES, protocol.ERROR_STATUS):
                raise web.HTTPError(400, f"unknown status {status!r}")
        live = self.clients.live
        processes = await self.read(actions.list_states, live.watcher, filters)
        registry_id = await self.read(actions.registry_id, live.registry)
        await self.reply({"registry_id": registry_id, "processes": processes})


class ProcessHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name = self.process_name(name)
        await self.reply(await self.read(actions.info, self.clients.live.registry, name))

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        name = self.process_name(name)
        await self.require(WRITE)
        force = self.get_query_argument("force", "0") in ("1", "true", "yes")
        registry = self.clients.live.registry
        await self.reply(
            await self.act(actions.perform, registry, "remove", name, {"force": force})
        )


class ActionHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str, action: str) -> None:
        name = self.process_name(name)
        if action not in ROUTE_ACTIONS:
            raise web.HTTPError(404, f"unknown action {action!r}; use {', '.join(ROUTE_ACTIONS)}")
        await self.require(ACTION_PERMISSIONS[action])
        args: dict[str, Any] = {}
        if self.request.body:
            try:
                args = json.loads(self.request.body)
            except json.JSONDecodeError:
                raise web.HTTPError(400, "request body must be JSON") from None
            if not isinstance(args, dict):
                raise web.HTTPError(400, "request body must be a JSON object")
        registry = self.clients.live.registry
        await self.reply(await self.act(actions.perform, registry, action, name, args))


class LogsHandler(SyftPmHandler):
    #: Set when the client goes away mid-request; a search reads it and stops.
    gone = False

    def on_connection_close(self) -> None:
        self.gone = True
        super().on_connection_close()

    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name = self.process_name(name)
        stream = self.get_query_argument("stream", "stdout")
        if stream not in protocol.LOG_STREAMS:
            raise web.HTTPError(400, "stream must be stdout or stderr")
        lines = self.int_arg("lines", 200, 1, _MAX_LINES)
        query = {
            "stream": stream,
            "lines": lines,
            "before": self.get_query_argument("before", None),
            "after": self.get_query_argument("after", None),
            "search": self.get_query_argument("search", None),
            "cancelled": lambda: self.gone,
        }
        if query["before"] is not None and query["after"] is not None:
            raise web.HTTPError(400, "give before or after, not both")
        registry = self.clients.live.registry
        await self.reply(await self.read(actions.read_logs, registry, name, query))
