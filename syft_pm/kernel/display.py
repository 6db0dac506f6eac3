"""What a ProcessHandle shows in a notebook cell.

The bundle carries three things on purpose:

* ``application/vnd.syft-pm.process+json`` is a *reference* (registry id, home, name),
  not state: the JupyterLab renderer subscribes to live state with it, so a saved
  notebook never replays stale numbers as if they were live;
* ``text/html`` is a static snapshot for front ends without the extension (classic
  tools, nbviewer, GitHub), built from plain semantic HTML because GitHub strips styles;
* ``text/plain`` for terminals and logs.
"""

from __future__ import annotations

import html
import shlex
import time
from typing import TYPE_CHECKING, Any

from ..logs import LogStream
from ..status import ACTIVE_STATUSES, FINAL_STATUSES, format_duration, uptime

if TYPE_CHECKING:
    from ..registry import ProcessRecord, Registry

MIME_TYPE = "application/vnd.syft-pm.process+json"
REFERENCE_VERSION = 1
HTML_TAIL_LINES = 10


def reference(rec: ProcessRecord, registry: Registry) -> dict[str, Any]:
    return {
        "version": REFERENCE_VERSION,
        "registry_id": registry.id,
        "home": str(registry.home),
        "name": rec.name,
    }


def _outcome(rec: ProcessRecord) -> str:
    st = rec.state
    if rec.status not in FINAL_STATUSES:
        return ""
    if st.get("signal"):
        return f"killed by {st['signal']}"
    if st.get("exit_code") is not None:
        return f"exit code {st['exit_code']}"
    return ""


def render_text(rec: ProcessRecord) -> str:
    parts = [f"<syft_pm process {rec.name!r}: {rec.status}"]
    pid = rec.state.get("pid")
    if pid and rec.status in ACTIVE_STATUSES:
        parts.append(f"pid {pid}, up {format_duration(uptime(rec.status, rec.state))}")
    if _outcome(rec):
        parts.append(_outcome(rec))
    if rec.error:
        parts.append(rec.error)
    return ", ".join(parts) + ">"


def render_html(rec: ProcessRecord, logs: dict[str, list[str]]) -> str:
    esc = html.escape
    outcome = _outcome(rec)
    cmd = rec.config.get("cmd")
    command = shlex.join(cmd) if isinstance(cmd, list) else str(cmd or "")
    rows = [
        ("status", rec.status + (f" ({outcome})" if outcome else "")),
        ("pid", str(rec.state.get("pid") or "-") if rec.status in ACTIVE_STATUSES else "-"),
        ("uptime", format_duration(uptime(rec.status, rec.state))),
        ("restarts", str(rec.state.get("restarts") or 0)),
        ("command", command),
    ]
    reason = rec.error or rec.state.get("reason")
    if reason:
        rows.append(("reason", str(reason)))
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    blocks = "".join(
        f"<details><summary>{stream} (last {len(lines)} lines)</summary>"
        f"<pre>{esc(chr(10).join(lines))}</pre></details>"
        for stream, lines in logs.items()
        if lines
    )
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return (
        f'<div class="syft-pm-static" data-process-name="{esc(rec.name)}">'
        f"<strong>{esc(rec.name)}</strong> <em>(syft_pm snapshot at {stamp}; "
        "live in JupyterLab with the syft_pm extension)</em>"
        f"<table>{body}</table>{blocks}</div>"
    )


def mimebundle(rec: ProcessRecord, registry: Registry) -> dict[str, Any]:
    """The display bundle of one process: needs only its record and its registry, so the
    kernel layer depends on the core's data, not on handles or the manager."""
    logs = {
        stream: LogStream(rec.directory, stream).tail(HTML_TAIL_LINES)
        for stream in ("stdout", "stderr")
    }
    return {
        MIME_TYPE: reference(rec, registry),
        "text/html": render_html(rec, logs),
        "text/plain": render_text(rec),
    }
