"""Thin REST handlers: authenticate, authorize, validate, call the core, shape JSON."""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.extension.handler import ExtensionHandlerMixin
from tornado import web

from .._version import __version__

#: The authorization resource every syft_pm route checks, so an admin can grant or deny
#: process management independently of e.g. contents or kernels.
AUTH_RESOURCE = "syft_pm"
API_PREFIX = "/syft-pm/api"


class SyftPmHandler(ExtensionHandlerMixin, APIHandler):  # type: ignore[misc]
    auth_resource = AUTH_RESOURCE

    def initialize(self, name: str = "syft_pm", *args: Any, **kwargs: Any) -> None:
        super().initialize(name, *args, **kwargs)

    def write_json(self, data: Any, status: int = 200) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(data))


class StatusHandler(SyftPmHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(
            {
                "version": __version__,
                "home": self.settings.get("syft_pm_home"),
            }
        )


def route_table() -> list[tuple[str, type[web.RequestHandler]]]:
    """Every route of the extension; the auth test walks this, so new routes are covered."""
    return [
        (rf"{API_PREFIX}/status", StatusHandler),
    ]
