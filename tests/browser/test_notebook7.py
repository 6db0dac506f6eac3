"""syft_pm in Notebook 7 (``jupyter notebook``), in a real server and chromium.

Notebook 7 loads the same labextension as JupyterLab, but its shell differs: one
document per page, side panels left and right, a ``down`` panel, and a main area that
ignores a second widget. These tests run a ticking process from a notebook page and
check the cell output follows it, the Processes sidebar lists it, *Show Logs* opens a
detail view that shows its lines (in the ``down`` area, where Notebook 7 can show it),
and Stop there stops it; the /tree page's Running tab has the Processes section, whose
stop button works. Every wait is on a condition.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import syft_pm

ROOT = Path(__file__).resolve().parents[2]
SIDEBAR = "#syft-pm-sidebar"
TICKER = (
    "import sys, syft_pm\n"
    "h = syft_pm.run({name!r}, [sys.executable, '-u', '-c', "
    "'import time,itertools\\nfor i in itertools.count(): "
    'print("tick", i, flush=True); time.sleep(0.2)\'])\n'
    "h"
)


def _output(name: str) -> str:
    return f".syft-pm-process[data-process-name={json.dumps(name)}]"


def _detail(name: str) -> str:
    return f".syft-pm-detail[data-process-name={json.dumps(name)}]"


def _row(name: str) -> str:
    return f"{SIDEBAR} .syft-pm-row[data-process-name={json.dumps(name)}]"


def _area_of(page: Any, widget_id: str) -> str | None:
    """The shell area holding the widget ``widget_id`` (None if in none)."""
    result = page.evaluate(
        """(id) => { const shell = window.jupyterapp.shell;
            for (const area of ['main', 'left', 'right', 'down', 'top', 'menu']) {
              for (const w of shell.widgets(area)) { if (w.id === id) return area; }
            }
            return null; }""",
        widget_id,
    )
    return None if result is None else str(result)


def _ticks(page: Any, lines_selector: str) -> list[int]:
    """The numbers of the ``tick N`` lines matched by ``lines_selector``."""
    return [
        int(n)
        for n in page.evaluate(
            """(sel) => Array.from(document.querySelectorAll(sel))
                .map(e => /tick (\\d+)/.exec(e.textContent || ''))
                .filter(m => m).map(m => m[1])""",
            lines_selector,
        )
    ]


def _wait_tick_above(page: Any, lines_selector: str, above: int, timeout: float = 30) -> int:
    """Wait until a ``tick N`` line with N > ``above`` shows; returns the newest N."""
    page.wait_for_function(
        """([sel, n]) => Array.from(document.querySelectorAll(sel)).some(e => {
              const m = /tick (\\d+)/.exec(e.textContent || '');
              return !!m && Number(m[1]) > n; })""",
        arg=[lines_selector, above],
        timeout=timeout * 1000,
    )
    return max(_ticks(page, lines_selector))


OUTPUT_LINES = '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line'
DETAIL_LINES = ".syft-pm-logview[data-stream='stdout'] .syft-pm-lv-lines .syft-pm-lv-text"


@pytest.fixture
def processes(notebook7: Any) -> Iterator[list[str]]:
    """Names a test starts; stopped and removed at its end (they outlive kernels)."""
    names: list[str] = []
    yield names
    manager = syft_pm.ProcessManager(notebook7.home)
    for name in names:
        with contextlib.suppress(Exception):
            manager.get(name).stop(timeout=5)
        with contextlib.suppress(Exception):
            manager.remove(name, force=True)
    with contextlib.suppress(Exception):
        for session in notebook7.api("api/sessions"):
            notebook7.api(f"api/sessions/{session['id']}", "DELETE")


def _start_ticker_in_notebook(nb7: Any, name: str) -> str:
    """Open a notebook page, run the cell that starts ``name``; returns the notebook."""
    nb = f"{name}.ipynb"
    nb7.server.write_notebook(nb, [TICKER.format(name=name)])
    nb7.open(f"notebooks/{nb}")
    nb7.wait_kernel_idle(nb)
    nb7.run_cell(nb, 0)
    nb7.page.wait_for_selector(_output(name))
    return nb


def _open_sidebar(nb7: Any) -> str:
    """Open the Processes sidebar through its command; returns the area it is in."""
    nb7.command("syft-pm:open-sidebar")
    nb7.page.wait_for_selector(SIDEBAR, state="visible")
    nb7.page.wait_for_selector(f"{SIDEBAR}[data-connection='connected'][data-live='true']")
    area = _area_of(nb7.page, "syft-pm-sidebar")
    assert area is not None
    return area


def _show_logs(page: Any, name: str) -> None:
    """Select the process's row, then click its details-and-logs button (shown on
    the selected row)."""
    page.click(f"{_row(name)} .syft-pm-row-name")
    page.wait_for_selector(f"{_row(name)}.syft-pm-mod-selected")
    page.click(f"{_row(name)} .syft-pm-row-open")


def test_notebook7_output_sidebar_and_detail_view(nb7, processes):
    page = nb7.page
    name = f"nb7-{uuid.uuid4().hex[:6]}"
    processes.append(name)
    _start_ticker_in_notebook(nb7, name)

    # The cell output is live: its lines keep rising.
    out = _output(name)
    page.wait_for_selector(f"{out}[data-live='true'][data-status='running']")
    first = _wait_tick_above(page, f"{out} {OUTPUT_LINES}", -1)
    _wait_tick_above(page, f"{out} {OUTPUT_LINES}", first + 3)

    # The sidebar is a side panel of the notebook page and lists the process.
    assert _open_sidebar(nb7) in ("left", "right")
    page.wait_for_selector(f"{_row(name)}[data-status='running']")

    # Show Logs (the row's details button) opens the detail view where Notebook 7
    # can show it: not the main area, which holds the notebook.
    _show_logs(page, name)
    detail = _detail(name)
    page.wait_for_selector(detail, state="visible")
    detail_id = page.evaluate("(sel) => document.querySelector(sel).id", detail)
    assert _area_of(page, detail_id) == "down"
    main = page.evaluate(
        "() => Array.from(window.jupyterapp.shell.widgets('main'))"
        ".map(w => w.context && w.context.path)"
    )
    assert main == [f"{name}.ipynb"], main
    assert page.inner_text(f"{detail} .syft-pm-status") == "running"
    # Notebook 7 opens its down area a few lines tall: the view makes room for a log.
    height = page.evaluate("(sel) => document.querySelector(sel).offsetHeight", detail)
    assert height >= 0.3 * 900, height
    # Its log view shows the process's lines, and new ones arrive.
    seen = _wait_tick_above(page, f"{detail} {DETAIL_LINES}", -1)
    _wait_tick_above(page, f"{detail} {DETAIL_LINES}", seen + 2)

    # Stop from the detail view stops the process: the view, the sidebar row, the
    # cell output and the server agree.
    page.click(f"{detail} .syft-pm-detail-stop")
    page.wait_for_selector(f"{detail}[data-status='stopped']", timeout=20_000)
    page.wait_for_selector(f"{_row(name)}[data-status='stopped']", timeout=20_000)
    page.wait_for_selector(f"{out}[data-status='stopped']", timeout=20_000)
    assert nb7.server.api(f"syft-pm/api/processes/{name}")["status"] == "stopped"


@pytest.mark.skipif(
    not os.environ.get("SYFT_PM_SCREENSHOTS"),
    reason="writes docs/images; run with SYFT_PM_SCREENSHOTS=1",
)
def test_notebook7_screenshots(nb7, processes):
    page = nb7.page
    name = "web-demo"
    processes.append(name)
    with contextlib.suppress(Exception):
        syft_pm.ProcessManager(nb7.server.home).remove(name, force=True)
    nb = _start_ticker_in_notebook(nb7, name)
    out = _output(name)
    page.wait_for_selector(f"{out}[data-live='true']")
    _wait_tick_above(page, f"{out} {OUTPUT_LINES}", 12)
    images = ROOT / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    nb7.cell(nb, 0).screenshot(path=str(images / "notebook7-output.png"))

    _open_sidebar(nb7)
    _show_logs(page, name)
    detail = _detail(name)
    page.wait_for_selector(detail, state="visible")
    _wait_tick_above(page, f"{detail} {DETAIL_LINES}", 20)
    page.screenshot(path=str(images / "notebook7-sidebar-detail.png"))


def test_notebook7_tree_running_tab_lists_and_stops_a_process(nb7, processes):
    """The /tree page's Running tab is JupyterLab's Running panel: the Processes section
    is there too, a click opens the detail view, and its stop button stops the process."""
    page = nb7.page
    name = f"nb7-tree-{uuid.uuid4().hex[:6]}"
    processes.append(name)
    subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, syft_pm; syft_pm.run({name!r}, "
            "[sys.executable, '-c', 'import time; time.sleep(600)'])",
        ],
        env={**os.environ, "SYFT_PM_HOME": str(nb7.server.home)},
        check=True,
        timeout=60,
    )
    nb7.open("tree")
    page.click(".lm-TabBar-tab:has-text('Running')")
    item = f".jp-RunningSessions-item.syft-pm-running-item[data-context={json.dumps(name)}]"
    page.wait_for_selector(f"{item}.syft-pm-running-running", timeout=20_000)
    # A click on its name opens the detail view, below the file browser.
    page.click(f"{item} .jp-RunningSessions-itemLabel")
    detail = _detail(name)
    page.wait_for_selector(detail, state="visible")
    detail_id = page.evaluate("(sel) => document.querySelector(sel).id", detail)
    assert _area_of(page, detail_id) == "down"
    page.hover(item)
    page.click(f"{item} .jp-RunningSessions-itemShutdown")
    page.wait_for_selector(f"{item}.syft-pm-running-stopped", timeout=20_000)
    assert nb7.server.api(f"syft-pm/api/processes/{name}")["status"] == "stopped"
