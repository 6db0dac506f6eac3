"""What a ProcessHandle shows in a notebook cell, in every front end.

The bundle carries, by display mode (``SYFT_PM_DISPLAY`` or :func:`set_display`):

* ``application/vnd.syft-pm.process+json`` (modes ``auto``, ``lab``): a *reference*
  (registry id, home, name), not state; the JupyterLab / Notebook 7 renderer subscribes
  to live state with it, so a saved notebook never replays stale numbers as if live;
* ``application/vnd.jupyter.widget-view+json`` (modes ``auto``, ``widget``, in a kernel):
  the same live view as a widget for VS Code and Colab, with anywidget's display
  metadata kept (Colab enables its custom widget manager through it). In JupyterLab the
  syft_pm renderer ranks ahead of the widget renderer, so it wins there;
* ``text/html``: the static card (see :mod:`card`), and ``text/plain``.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Any

from ..logs import LogStream
from .card import render_html, render_text

if TYPE_CHECKING:
    from ..registry import ProcessRecord, Registry

log = logging.getLogger(__name__)

MIME_TYPE = "application/vnd.syft-pm.process+json"
WIDGET_MIME_TYPE = "application/vnd.jupyter.widget-view+json"
REFERENCE_VERSION = 1
HTML_TAIL_LINES = 10
MODES = ("auto", "lab", "widget", "static")

_settings: dict[str, Any] = {"mode": None, "html_logs": None}


def set_display(mode: str | None = None, *, html_logs: bool | None = None) -> None:
    """Choose what a handle shows in a cell, for this kernel.

    ``mode``: ``auto`` (the default: the JupyterLab renderer where the extension runs,
    else the widget), ``lab`` (renderer only), ``widget`` (widget only) or ``static``
    (the card only). ``html_logs=True`` puts the last log lines into the static card,
    which is saved with the notebook: off by default, logs can hold secrets.
    ``None`` leaves a setting as it is; the environment (``SYFT_PM_DISPLAY``,
    ``SYFT_PM_HTML_LOGS``) applies where nothing was set here.
    """
    if mode is not None:
        if mode not in MODES:
            raise ValueError(f"display mode must be one of {', '.join(MODES)}, not {mode!r}")
        _settings["mode"] = mode
    if html_logs is not None:
        _settings["html_logs"] = bool(html_logs)


def display_mode() -> str:
    if _settings["mode"] is not None:
        return str(_settings["mode"])
    env = os.environ.get("SYFT_PM_DISPLAY", "").strip().lower() or "auto"
    if env not in MODES:
        log.warning("SYFT_PM_DISPLAY=%r is not one of %s; using auto", env, ", ".join(MODES))
        return "auto"
    return env


def html_logs() -> bool:
    if _settings["html_logs"] is not None:
        return bool(_settings["html_logs"])
    return os.environ.get("SYFT_PM_HTML_LOGS", "") not in ("", "0", "false", "no")


def reference(rec: ProcessRecord, registry: Registry) -> dict[str, Any]:
    return {
        "version": REFERENCE_VERSION,
        "registry_id": registry.id,
        "home": str(registry.home),
        "name": rec.name,
    }


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return getattr(get_ipython(), "kernel", None) is not None


def _widget_bundle(rec: ProcessRecord, registry: Registry) -> tuple[dict[str, Any], dict[str, Any]]:
    from .widget import ProcessWidget

    widget = ProcessWidget(rec.name, registry.home, registry.id)
    bundle = widget._repr_mimebundle_()
    if bundle is None:  # anywidget gives none for a widget without a view
        raise RuntimeError("the process widget has no view")
    data, metadata = bundle
    return {WIDGET_MIME_TYPE: data[WIDGET_MIME_TYPE]}, metadata


def mimebundle(rec: ProcessRecord, registry: Registry) -> tuple[dict[str, Any], dict[str, Any]]:
    """The display bundle and its metadata. Needs only a record and its registry, so the
    kernel layer depends on the core's data, not on handles or the manager."""
    mode = display_mode()
    logs = None
    if html_logs():
        logs = {
            stream: LogStream(rec.directory, stream).tail(HTML_TAIL_LINES)
            for stream in ("stdout", "stderr")
        }
    data: dict[str, Any] = {"text/html": render_html(rec, logs), "text/plain": render_text(rec)}
    metadata: dict[str, Any] = {}
    if mode in ("auto", "lab"):
        data[MIME_TYPE] = reference(rec, registry)
    if mode in ("auto", "widget") and _in_kernel():
        try:
            widget_data, widget_meta = _widget_bundle(rec, registry)
        except Exception:
            log.warning("syft_pm: could not create the process widget", exc_info=True)
        else:
            data.update(widget_data)
            metadata.update(widget_meta)
    return data, metadata
