"""What every syft_pm handler shares: its extension, its auth resource, its permissions.

Every route is authenticated and authorized through jupyter_server against the
``syft_pm`` resource, so an operator can grant or refuse process management on its own:
``read`` to look, ``write`` to stop and remove, ``execute`` to start or restart (which
runs a stored command). The ``read_only`` setting takes ``write`` and ``execute`` away
from everyone.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from ..live.actions import ActionError
from ..live.session import EXECUTE, READ, WRITE
from ..names import InvalidNameError, validate_name
from .clients import ClientSet

#: The authorization resource every syft_pm route checks.
AUTH_RESOURCE = "syft_pm"
API_PREFIX = "/syft-pm/api"


class SyftPmMixin(ExtensionHandlerMixin):
    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str = "syft_pm", *args: Any, **kwargs: Any) -> None:
        super().initialize(name, *args, **kwargs)

    @property
    def clients(self) -> ClientSet:
        clients: ClientSet = self.settings["syft_pm_clients"]
        return clients

    @property
    def read_only(self) -> bool:
        return bool(self.settings.get("syft_pm_read_only", False))

    async def permissions(self) -> frozenset[str]:
        """The actions on ``syft_pm`` the current user may take (``read`` is checked by
        every route before this is asked)."""
        granted = {READ}
        if not self.read_only:
            for action in (WRITE, EXECUTE):
                if await self.may(action):
                    granted.add(action)
        return frozenset(granted)

    async def may(self, action: str) -> bool:
        handler: Any = self
        ok = await ensure_async(
            handler.authorizer.is_authorized(handler, handler.current_user, action, AUTH_RESOURCE)
        )
        return bool(ok)


class SyftPmHandler(SyftPmMixin, APIHandler):
    async def reply(self, data: Any, status: int = 200) -> None:
        """Finish with ``data`` as JSON, encoded on the read pool: a thousand processes
        or ten thousand log lines take the encoder ten milliseconds, which the event
        loop would otherwise spend while every other request and kernel waits."""
        body = await self.clients.run_sync(json.dumps, data)
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        # JSON errors with the message a user can act on, small and stable for the
        # frontend's error display.
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "status": status_code}))

    def process_name(self, raw: str) -> str:
        """Validated before any file is touched: after tornado's percent-decoding, a name
        with a separator, ``..`` or a leading dot cannot reach outside the registry."""
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

    async def require(self, action: str) -> None:
        """A second permission beyond what the method's ``@authorized`` checked."""
        if self.read_only and action != READ:
            raise web.HTTPError(403, "the syft_pm extension is read-only on this server")
        if not await self.may(action):
            raise web.HTTPError(403, f"this needs the {action!r} permission on syft_pm")

    async def read(self, fn: Any, *args: Any) -> Any:
        """Core reads off the event loop, with core errors mapped to HTTP codes."""
        try:
            return await self.clients.run_sync(fn, *args)
        except ActionError as e:
            raise web.HTTPError(e.http_status, str(e)) from None

    async def act(self, fn: Any, *args: Any) -> Any:
        """Core actions on their own pool, so slow stops never starve the reads."""
        try:
            return await self.clients.run_action(fn, *args)
        except ActionError as e:
            raise web.HTTPError(e.http_status, str(e)) from None
        finally:
            self.clients.wake()
