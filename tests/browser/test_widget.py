"""The process widget (anywidget) in a real browser: where it must stay out of the way,
and where it is the only live view.

* (a) JupyterLab with syft_pm: a handle's bundle carries both the syft_pm reference and
  the widget; the syft_pm renderer (rank -20) draws the output, not the widget manager
  (-10), and nothing in the cell reports a widget error.
* (b) A widget-only front end, standing in for VS Code: the same JupyterLab with the
  syft-pm labextension disabled (``labconfig/page_config.json``) and the server extension
  off. The widget's log lines keep rising, and its Stop button stops the process.
* (c) The same with the Colab switch on (``SYFT_PM_WIDGET_DROP_THREAD_SENDS=1`` in the
  server's environment, which its kernels inherit): every message a kernel thread sends is
  dropped, so the view stays current only by polling. It must notice the lost pushes,
  switch to pull mode, keep the lines rising and stop the process.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import syft_pm

# The harness lives in conftest.py, which is not importable by name here (no package):
# its classes are reached through its fixtures (type(lab), type(jlab)).
LabServer = Any
Lab = Any
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
#: SYFT_PM_SCREENSHOTS=1 writes the README's pictures of the widget (docs/images).
IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
PROCESS_MIME = "application/vnd.syft-pm.process+json"
#: What a broken widget shows instead of its view (ipywidgets, anywidget, our fallback).
WIDGET_ERRORS = (
    "Error displaying widget",
    "Error rendering",
    "model not found",
    "Failed to load",
    "is missing from this installation",
)


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def ticker(name: str) -> str:
    return (
        "import sys, syft_pm\n"
        f"h = syft_pm.run({name!r}, [sys.executable, '-u', '-c', "
        "'import time,itertools\\nfor i in itertools.count(): "
        'print("tick", i, flush=True); time.sleep(0.2)\'])\n'
        "h"
    )


def widget_sel(name: str) -> str:
    return f".syft-pm-widget .syft-pm-process[data-process-name={json.dumps(name)}]"


def last_tick(page: Any, name: str) -> int:
    """The number of the newest ``tick N`` line the widget shows (-1 if none)."""
    return int(
        page.evaluate(
            """(sel) => { const o = document.querySelector(sel);
                const rows = o ? o.querySelectorAll(
                  '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line') : [];
                const last = rows.length ? rows[rows.length - 1].textContent : '';
                const m = /tick (\\d+)/.exec(last || '');
                return m ? Number(m[1]) : -1; }""",
            widget_sel(name),
        )
    )


def wait_ticks_after(page: Any, name: str, after: int, timeout: float = 30) -> int:
    page.wait_for_function(
        """([sel, n]) => { const o = document.querySelector(sel);
            const rows = o ? o.querySelectorAll(
              '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line') : [];
            const last = rows.length ? rows[rows.length - 1].textContent : '';
            const m = /tick (\\d+)/.exec(last || '');
            return !!m && Number(m[1]) > n; }""",
        arg=[widget_sel(name), after],
        timeout=timeout * 1000,
    )
    return last_tick(page, name)


def output_mime_types(jlab: Lab, nb: str, index: int = 0) -> list[str]:
    """The MIME types of the first output of cell ``index``, as the kernel sent them."""
    return list(
        jlab.page.evaluate(
            f"""(i) => {{ const p = {jlab._panel_expr(nb)};
                const out = p.content.widgets[i].model.outputs.get(0);
                return out ? Object.keys(out.data) : []; }}""",
            index,
        )
    )


def assert_no_widget_error(cell: Any) -> None:
    text = cell.inner_text()
    for error in WIDGET_ERRORS:
        assert error not in text, f"the cell shows {error!r}:\n{text}"


# -- (a) JupyterLab with syft_pm: the syft_pm renderer wins ------------------------------


def test_jupyterlab_renders_with_syft_pm_not_the_widget(jlab: Lab, lab: LabServer) -> None:
    nb = lab.write_notebook("widget_a.ipynb", [ticker("wa")])
    jlab.open()
    jlab.open_notebook(nb)
    cell = jlab.run_cell(nb, 0)
    out = cell.wait_for_selector(".syft-pm-process[data-process-name='wa'][data-live='true']")
    # Both were offered: the widget lost to the syft_pm renderer.
    assert {PROCESS_MIME, WIDGET_MIME} <= set(output_mime_types(jlab, nb))
    # The renderer's own node (it sets data-transport: kernel/server), not a widget view.
    assert out.get_attribute("data-transport") in ("kernel", "server")
    assert cell.query_selector(".syft-pm-widget") is None
    assert cell.query_selector(".jupyter-widgets") is None
    assert_no_widget_error(cell)


# -- (b), (c) a widget-only front end ----------------------------------------------------


@pytest.fixture(scope="module", params=["vscode", "colab"])
def widget_only(
    request: pytest.FixtureRequest, lab: LabServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LabServer]:
    """JupyterLab without syft_pm's labextension and server extension: only the widget
    can show a process live. ``colab``: its kernels also drop what their threads send."""
    colab = request.param == "colab"

    class WidgetOnly(type(lab)):  # type: ignore[misc]
        def env(self) -> dict[str, str]:
            env: dict[str, str] = super().env()
            env["JUPYTER_CONFIG_DIR"] = str(self.base / "jupyter_config")
            if colab:
                env["SYFT_PM_WIDGET_DROP_THREAD_SENDS"] = "1"
            return env

    server = WidgetOnly(tmp_path_factory.mktemp(f"widget-{request.param}"))
    server.colab = colab
    config = server.base / "jupyter_config"
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"syft-pm": True}})
    )
    # The server extension off (the environment's own config enables it).
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"syft_pm": False}}})
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        for h in syft_pm.ProcessManager(server.home).list():
            with contextlib.suppress(Exception):
                h.stop(timeout=5)


@pytest.fixture
def wlab(
    page: Any, jlab: Lab, widget_only: LabServer, request: pytest.FixtureRequest
) -> Iterator[Lab]:
    yield type(jlab)(page, widget_only)
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed and widget_only.log_path.exists():
        out = ARTIFACTS / request.node.name
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(widget_only.log_path, out / "widget_server.log")


def test_widget_only_frontend_stays_live_and_stops(wlab: Lab, widget_only: LabServer) -> None:
    colab = widget_only.colab
    name = "wc" if colab else "wv"
    # The front end really is widget-only: no syft_pm routes on this server.
    with pytest.raises(Exception, match="404"):
        widget_only.api("syft-pm/api/status")

    nb = widget_only.write_notebook(f"widget_{name}.ipynb", [ticker(name)])
    wlab.open()
    # ... and no syft_pm labextension in the page: nothing but the widget can draw it.
    assert wlab.page.evaluate("() => window.jupyterapp.hasPlugin('syft-pm:plugin')") is False
    wlab.open_notebook(nb)
    cell = wlab.run_cell(nb, 0)
    cell.wait_for_selector(widget_sel(name) + "[data-live='true']", timeout=60_000)
    assert cell.query_selector(".syft-pm-process:not(.syft-pm-widget .syft-pm-process)") is None
    assert_no_widget_error(cell)

    # The log lines keep rising (through polls alone in the Colab case).
    seen = wait_ticks_after(wlab.page, name, last_tick(wlab.page, name) + 3)
    seen = wait_ticks_after(wlab.page, name, seen + 5)
    wait_ticks_after(wlab.page, name, seen + 5)
    if os.environ.get("SYFT_PM_SCREENSHOTS"):
        cell.screenshot(path=str(IMAGES / f"widget-{'colab' if colab else 'vscode'}.png"))
    push = cell.query_selector(".syft-pm-widget").get_attribute("data-push")
    if colab:
        # Pushes from the kernel thread never arrived: the view noticed the gap and
        # asked the kernel to hold its messages for the replies to polls.
        assert push == "false"

    wlab.page.locator(f"{widget_sel(name)} button.syft-pm-action[data-action='stop']").click()
    pm = syft_pm.ProcessManager(widget_only.home)
    wait_for(lambda: pm.get(name).status == "stopped", 30, f"{name} stopped in the registry")
    wlab.page.wait_for_selector(widget_sel(name) + "[data-status='stopped']", timeout=30_000)
    assert wlab.page.locator(widget_sel(name) + " .syft-pm-error:not([hidden])").count() == 0
    assert_no_widget_error(cell)
