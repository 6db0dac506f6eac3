"""The static card: what a saved notebook shows where nothing is live (GitHub, nbviewer,
``nbconvert --to html``), and the text a terminal shows.

A saved output is read by whoever the notebook is shared with, so the card carries what
identifies the process and how it ended, never environment values, and log lines only
when the user asked for them (logs can hold tokens). GitHub strips ``style`` attributes
and ``<style>`` blocks, so the card is plain semantic HTML first (a heading line, a short
definition list); where styles survive (nbviewer, nbconvert, JupyterLab) it uses
JupyterLab's theme variables with neutral fallbacks, and ``prefers-color-scheme`` for
pages outside JupyterLab, so it reads well in light and dark.
"""

from __future__ import annotations

import html
import shlex
import time
from typing import TYPE_CHECKING

from ..status import ACTIVE_STATUSES, FINAL_STATUSES, format_duration, uptime

if TYPE_CHECKING:
    from ..registry import ProcessRecord

#: Longest command shown; the rest is elided (a card, not a config dump).
MAX_COMMAND = 200
#: Longest log line shown when logs are included.
MAX_LINE = 500

_STYLE = """<style>
.syft-pm-card{display:inline-block;max-width:100%;box-sizing:border-box;margin:2px 0;
padding:6px 10px;border:1px solid var(--jp-border-color2,#d0d0d0);border-radius:6px;
background:var(--jp-layout-color1,#fff);color:var(--jp-ui-font-color1,#1f1f1f);
font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:13px;line-height:1.4}
.syft-pm-card dl{display:grid;grid-template-columns:auto 1fr;gap:1px 12px;margin:4px 0 0}
.syft-pm-card dt{color:var(--jp-ui-font-color2,#616161)}.syft-pm-card dd{margin:0}
.syft-pm-card code,.syft-pm-card pre{font-family:var(--jp-code-font-family,monospace);
font-size:12px}.syft-pm-card pre{margin:2px 0;white-space:pre-wrap;max-height:14em;overflow:auto}
.syft-pm-card .syft-pm-note{color:var(--jp-ui-font-color2,#616161);font-size:11px}
@media (prefers-color-scheme:dark){body:not([data-jp-theme-name]) .syft-pm-card{
background:#1e1e1e;color:#e0e0e0;border-color:#444}
body:not([data-jp-theme-name]) .syft-pm-card dt,body:not([data-jp-theme-name])
.syft-pm-card .syft-pm-note{color:#a0a0a0}}
</style>"""

_DOTS = {"running": "\U0001f7e2", "unhealthy": "\U0001f7e0", "failed": "\U0001f534"}


def outcome(rec: ProcessRecord) -> str:
    st = rec.state
    if rec.status not in FINAL_STATUSES:
        return ""
    if st.get("signal"):
        return f"killed by {st['signal']}"
    if st.get("exit_code") is not None:
        return f"exit code {st['exit_code']}"
    return ""


def command_line(rec: ProcessRecord) -> str:
    cmd = rec.config.get("cmd")
    text = shlex.join(str(c) for c in cmd) if isinstance(cmd, list) else str(cmd or "")
    return text if len(text) <= MAX_COMMAND else text[: MAX_COMMAND - 1] + "\u2026"


def render_text(rec: ProcessRecord) -> str:
    parts = [f"<syft_pm process {rec.name!r}: {rec.status}"]
    pid = rec.state.get("pid")
    if pid and rec.status in ACTIVE_STATUSES:
        parts.append(f"pid {pid}, up {format_duration(uptime(rec.status, rec.state))}")
    if outcome(rec):
        parts.append(outcome(rec))
    if rec.error:
        parts.append(rec.error)
    return ", ".join(parts) + ">"


def render_html(rec: ProcessRecord, logs: dict[str, list[str]] | None = None) -> str:
    """The card. ``logs`` (stream -> last lines) only when the user opted in."""
    esc = html.escape
    status = rec.status + (f" ({outcome(rec)})" if outcome(rec) else "")
    facts: list[tuple[str, str]] = []
    if rec.status in ACTIVE_STATUSES and rec.state.get("pid"):
        facts.append(("pid", str(rec.state["pid"])))
        facts.append(("uptime", format_duration(uptime(rec.status, rec.state))))
    if rec.state.get("restarts"):
        facts.append(("restarts", str(rec.state["restarts"])))
    reason = rec.error or rec.state.get("reason")
    if reason:
        facts.append(("reason", str(reason)))
    rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in facts)
    rows += f"<dt>command</dt><dd><code>{esc(command_line(rec))}</code></dd>"
    blocks = "".join(
        f"<details><summary>{esc(stream)}: last {len(lines)} lines</summary>"
        f"<pre>{esc(chr(10).join(line[:MAX_LINE] for line in lines))}</pre></details>"
        for stream, lines in (logs or {}).items()
        if lines
    )
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    dot = _DOTS.get(rec.status, "\u26aa")
    return (
        f'{_STYLE}<div class="syft-pm-card" data-process-name="{esc(rec.name)}">'
        f"<div>{dot} <strong>{esc(rec.name)}</strong> &middot; {esc(status)}</div>"
        f"<dl>{rows}</dl>{blocks}"
        f'<div class="syft-pm-note">syft_pm, as of {stamp}; live where the syft_pm '
        "extension or Jupyter widgets run</div></div>"
    )
