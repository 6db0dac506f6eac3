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
from traitlets import Bool, Float, Int, TraitError, Unicode, validate

from .._version import __version__
from ..live.hub import LiveHub
from ..registry import default_home
from .clients import ClientSet
from .routes import route_table


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
    handshakes_per_iteration = Int(
        4,
        help="Websocket handshakes the server's event loop runs per iteration: a burst of "
        "reconnecting clients (every tab, after a restart) is let in a few at a time, so "
        "it never blocks the loop for long.",
    ).tag(config=True)

    read_only = Bool(
        False,
        help="Serve the process list, state and logs, but refuse every action (stop, "
        "restart, start, remove) whatever the user's permissions.",
    ).tag(config=True)
    action_workers = Int(
        4, help="Threads that carry out actions (a stop can wait for its timeout)."
    ).tag(config=True)
    read_workers = Int(
        4, help="Threads that build snapshots and read logs for the routes and websockets."
    ).tag(config=True)
    resurrect = Bool(
        True,
        help="Bring back processes with restart policy 'always' or 'on-failure' whose "
        "supervisor was killed or whose host rebooted: once at start, then every "
        "resurrect_interval seconds (on a thread of its own, never the event loop).",
    ).tag(config=True)
    resurrect_interval = Float(
        5.0, help="Seconds between two looks for supervisors that vanished."
    ).tag(config=True)

    @validate("handshakes_per_iteration", "action_workers", "read_workers")
    def _at_least_one(self, proposal: Any) -> int:
        value = int(proposal["value"])
        if value < 1:
            name = proposal["trait"].name
            raise TraitError(f"SyftPmExtension.{name} must be at least 1, not {value}")
        return value

    def registry_home(self) -> str:
        return self.home or str(default_home())

    def initialize_settings(self) -> None:
        live = LiveHub(
            Path(self.registry_home()),
            snapshot_lines=self.snapshot_lines,
            heartbeat=self.heartbeat,
            tick=self.tick,
            idle_tick=self.idle_tick,
            action_workers=self.action_workers,
            read_workers=self.read_workers,
        )
        clients = ClientSet(
            live,
            max_queued=self.max_queued_messages,
            handshakes_per_iteration=self.handshakes_per_iteration,
        )
        if self.resurrect and not self.read_only:
            from ..resurrect import ResurrectThread

            self._resurrector = ResurrectThread(
                Path(self.registry_home()), interval=self.resurrect_interval
            )
            self._resurrector.start()
        self.settings.update(
            {
                "syft_pm_clients": clients,
                "syft_pm_home": self.registry_home(),
                "syft_pm_read_only": self.read_only,
            }
        )
        self.log.info("syft_pm %s: registry at %s", __version__, self.registry_home())

    def initialize_handlers(self) -> None:
        self.handlers.extend(route_table())

    _resurrector: Any = None

    async def stop_extension(self) -> None:
        if self._resurrector is not None:
            self._resurrector.stop(timeout=0)  # a daemon thread; ends at its next wake
        clients: Any = self.settings.get("syft_pm_clients")
        if clients is not None:
            await clients.close()
