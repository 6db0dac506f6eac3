"""``syft_pm`` as a jupyter_server ``ExtensionApp``.

The extension is a thin transport over the core: it owns no process state. Everything it
serves is read from the registry, so processes started from any kernel, script or the CLI
are visible, and the server can be killed and restarted without losing anything.
Shutting the server down stops our watcher and closes our websockets; it never stops a
managed process, which outlives the server by design.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Float, Int, Unicode

from .._version import __version__
from ..registry import default_home
from .handlers import route_table
from .hub import Hub


class SyftPmExtension(ExtensionApp):
    name = "syft_pm"
    description = "Manage long-running processes from Jupyter"
    load_other_extensions = True

    home = Unicode(
        "",
        help="Registry directory. Empty means $SYFT_PM_HOME, else ~/.syft_pm.",
    ).tag(config=True)
    tick = Float(
        0.1, help="Seconds between registry scans while something changes (without inotify)."
    ).tag(config=True)
    idle_tick = Float(
        2.0, help="Longest pause between registry scans once nothing has changed for a while."
    ).tag(config=True)
    snapshot_lines = Int(200, help="Log lines per stream sent in a snapshot.").tag(config=True)
    heartbeat = Float(15.0, help="Seconds between heartbeats on an idle websocket.").tag(
        config=True
    )
    max_queued_messages = Int(
        200,
        help="Messages a slow websocket client may have queued before it is dropped to a "
        "fresh snapshot instead (bounds the server's memory per client).",
    ).tag(config=True)

    def registry_home(self) -> str:
        return self.home or str(default_home())

    def initialize_settings(self) -> None:
        hub = Hub(
            Path(self.registry_home()),
            snapshot_lines=self.snapshot_lines,
            heartbeat=self.heartbeat,
            tick=self.tick,
            idle_tick=self.idle_tick,
            max_queued=self.max_queued_messages,
        )
        self.settings.update({"syft_pm_hub": hub, "syft_pm_home": self.registry_home()})
        self.log.info("syft_pm %s: registry at %s", __version__, self.registry_home())

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    async def stop_extension(self) -> None:
        hub: Any = self.settings.get("syft_pm_hub")
        if hub is not None:
            await hub.close()
