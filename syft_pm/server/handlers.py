"""Thin handlers: authenticate, authorize, validate, call the core off the loop, shape JSON.

Every handler checks the ``syft_pm`` auth resource through jupyter_server, so an
operator can grant or refuse process management on its own. Names are validated before
any file is touched (``validate_name`` rejects separators, ``..`` and leading dots after
tornado has percent-decoded the path), so no route can reach outside the registry.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized, ws_authenticated
from jupyter_server.base.handlers import APIHandler, JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web, websocket

from .. import actions, protocol
from .._version import __version__
from ..names import InvalidNameError, validate_name
from .hub import Client, Hub

#: The authorization resource every syft_pm route checks.
AUTH_RESOURCE = "syft_pm"
API_PREFIX = "/syft-pm/api"
_NAME = r"(?P<name>[^/]+)"
_MAX_LINES = 10_000


class _SyftPmMixin(ExtensionHandlerMixin):
    """What every syft_pm handler shares: its extension name, auth resource and hub."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str = "syft_pm", *args: Any, **kwargs: Any) -> None:
        super().initialize(name, *args, **kwargs)

    @property
    def hub(self) -> Hub:
        hub: Hub = self.settings["syft_pm_hub"]
        return hub


class SyftPmHandler(_SyftPmMixin, APIHandler):
    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # JSON errors with the message a user can act on (APIHandler does most of this;
        # we keep the body small and stable for the frontend's error display).
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "status": status_code}))

    def process_name(self, raw: str) -> str:
        try:
            return validate_name(raw)
        except InvalidNameError as e:
            raise web.HTTPError(400, str(e)) from None

    def int_arg(self, key: str, default: int, lo: int, hi: int) -> int:
        raw = self.get_query_argument(key, None)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise web.HTTPError(400, f"{key} must be an integer, not {raw!r}") from None
        if not lo <= value <= hi:
            raise web.HTTPError(400, f"{key} must be between {lo} and {hi}")
        return value

    async def call(self, fn: Any, *args: Any) -> Any:
        """Run core work off the event loop and map core errors to HTTP codes."""
        try:
            return await self.hub.run_sync(fn, *args)
        except actions.ActionError as e:
            raise web.HTTPError(e.http_status, str(e)) from None


class StatusHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(
            {
                "version": __version__,
                "protocol": protocol.PROTOCOL_VERSION,
                "home": str(self.hub.registry.home),
                "registry_id": self.hub.registry.id,
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
            if status not in (*protocol_statuses(), "error"):
                raise web.HTTPError(400, f"unknown status {status!r}")
        processes = await self.call(actions.list_states, self.hub.watcher, filters)
        self.write_json({"registry_id": self.hub.registry.id, "processes": processes})


def protocol_statuses() -> tuple[str, ...]:
    from ..registry import STATUSES

    return STATUSES


class ProcessHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        name = self.process_name(name)
        self.write_json(await self.call(actions.info, self.hub.registry, name))

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        name = self.process_name(name)
        force = self.get_query_argument("force", "0") in ("1", "true", "yes")
        result = await self.call(
            actions.perform, self.hub.registry, "remove", name, {"force": force}
        )
        self.hub.wake()
        self.write_json(result)


class ActionHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str, action: str) -> None:
        name = self.process_name(name)
        if action not in ("stop", "restart", "start"):
            raise web.HTTPError(404, f"unknown action {action!r}; use stop, restart or start")
        args: dict[str, Any] = {}
        if self.request.body:
            try:
                args = json.loads(self.request.body)
            except json.JSONDecodeError:
                raise web.HTTPError(400, "request body must be JSON") from None
            if not isinstance(args, dict):
                raise web.HTTPError(400, "request body must be a JSON object")
        result = await self.call(actions.perform, self.hub.registry, action, name, args)
        self.hub.wake()
        self.write_json(result)


class LogsHandler(SyftPmHandler):
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
        }
        if query["before"] is not None and query["after"] is not None:
            raise web.HTTPError(400, "give before or after, not both")
        self.write_json(await self.call(actions.read_logs, self.hub.registry, name, query))


class EventsHandler(_SyftPmMixin, WebSocketMixin, JupyterHandler, websocket.WebSocketHandler):
    """``/syft-pm/api/events``: protocol v1 over a websocket, one subscriber per socket."""

    client: Client | None = None

    async def pre_get(self) -> None:
        user = self.current_user
        ok = await ensure_async(self.authorizer.is_authorized(self, user, "read", AUTH_RESOURCE))
        if not ok:
            raise web.HTTPError(403)

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self.pre_get()
        res = super().get(*args, **kwargs)
        if res is not None:
            await res

    async def open(self, *args: Any, **kwargs: Any) -> None:
        names = self.get_query_arguments("name") or None
        if names:
            try:
                names = [validate_name(n) for n in names]
            except InvalidNameError as e:
                self.close(4400, str(e)[:120])
                return
        logs = self.get_query_argument("logs", "1") not in ("0", "false", "no")
        self.client = await self.hub.attach(self._write, names, log_lines=None, logs=logs)
        self.client.on_close = self._close_from_server

    async def _write(self, data: str) -> None:
        await self.write_message(data)

    def _close_from_server(self) -> None:
        if self.ws_connection is not None:
            self.close(1001, "server shutting down")

    async def on_message(self, message: str | bytes) -> None:
        client = self.client
        if client is None or client.sub is None:
            return
        try:
            msg = protocol.parse_client_message(json.loads(message))
        except (json.JSONDecodeError, protocol.ProtocolError) as e:
            client.push(protocol.error(str(e)))
            return
        kind = msg["type"]
        if kind == "resync":
            await self.hub.run_sync(self.hub.watcher.resync, client.sub)
        elif kind == "subscribe":
            names = msg.get("names")
            try:
                names = [validate_name(n) for n in names] if names is not None else None
            except InvalidNameError as e:
                client.push(protocol.error(str(e)))
                return
            await self.hub.resubscribe(
                client, names, log_lines=msg.get("log_lines"), logs=msg.get("logs", True)
            )
        elif kind == "poll":
            seq = client.sub.seq
            await self.hub.run_sync(self.hub.watcher.scan)
            if client.sub.seq == seq:
                await self.hub.run_sync(self.hub.watcher.heartbeat, client.sub)
        elif kind == "action":
            # Actions need the same permission as the REST routes that perform them.
            ok = await ensure_async(
                self.authorizer.is_authorized(self, self.current_user, "write", AUTH_RESOURCE)
            )
            if not ok:
                client.push(protocol.action_result(msg.get("id"), False, error="forbidden"))
                return
            try:
                result = await self.hub.run_sync(
                    actions.perform,
                    self.hub.registry,
                    msg["action"],
                    msg["name"],
                    msg.get("args") or {},
                )
                client.push(protocol.action_result(msg.get("id"), True, result=result))
            except Exception as e:  # noqa: BLE001 - the result carries the message
                client.push(protocol.action_result(msg.get("id"), False, error=str(e)))
            self.hub.wake()

    def on_close(self) -> None:
        if self.client is not None:
            self.client.on_close = None
            self.client.close()
            self.client = None


def route_table() -> list[tuple[str, type[web.RequestHandler]]]:
    """Every route of the extension; the auth test walks the live router, so new routes
    added here are covered without editing it."""
    return [
        (rf"{API_PREFIX}/status", StatusHandler),
        (rf"{API_PREFIX}/processes", ProcessesHandler),
        (rf"{API_PREFIX}/processes/{_NAME}", ProcessHandler),
        (rf"{API_PREFIX}/processes/{_NAME}/logs", LogsHandler),
        (rf"{API_PREFIX}/processes/{_NAME}/(?P<action>[a-z]+)", ActionHandler),
        (rf"{API_PREFIX}/events", EventsHandler),
    ]
