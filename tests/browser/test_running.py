"""The "Processes" section of JupyterLab's Running panel, in a real JupyterLab and chromium.

Processes started from a plain Python script (no kernel) show in the section with their
status; the stop button of an item stops its process, a click on its name opens the
detail view, and "Stop All" stops every active process after a confirm. The section
follows the sidebar's live connection, so the statuses change without a refresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

import syft_pm

SECTION = ".jp-RunningSessions-section:has(.syft-pm-running-item)"
SLEEPER = (
    "import sys, syft_pm\n"
    "syft_pm.run({name!r}, [sys.executable, '-c', 'import time; time.sleep(600)'])\n"
)
QUICK = "import sys, syft_pm\nsyft_pm.run({name!r}, [sys.executable, '-c', 'pass'])\n"


def _item(name: str, status: str | None = None) -> str:
    sel = f".jp-RunningSessions-item.syft-pm-running-item[data-context={json.dumps(name)}]"
    return f"{sel}.syft-pm-running-{status}" if status else sel


@pytest.fixture
def processes(lab: Any) -> Iterator[list[str]]:
    """Names a test starts; stopped and removed at its end."""
    names: list[str] = []
    yield names
    manager = syft_pm.ProcessManager(lab.home)
    for name in names:
        with contextlib.suppress(Exception):
            manager.get(name).stop(timeout=5)
        with contextlib.suppress(Exception):
            manager.remove(name, force=True)


def _start(lab: Any, code: str) -> None:
    """Run ``code`` in a plain Python process against the server's registry."""
    subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "SYFT_PM_HOME": str(lab.home)},
        check=True,
        timeout=60,
    )


def _open_running_panel(jlab: Any) -> None:
    jlab.open()
    jlab.page.evaluate("() => window.jupyterapp.shell.activateById('jp-running-sessions')")
    jlab.page.wait_for_selector("#jp-running-sessions", state="visible")


def test_running_panel_lists_processes_and_stops_one(jlab, lab, processes):
    page = jlab.page
    tag = uuid.uuid4().hex[:6]
    web, done = f"run-web-{tag}", f"run-done-{tag}"
    processes.extend([web, done])
    _start(lab, SLEEPER.format(name=web) + QUICK.format(name=done))
    syft_pm.ProcessManager(lab.home).get(done).wait(timeout=30)

    _open_running_panel(jlab)
    # A "Processes" section lists both, with their status.
    section = page.locator(SECTION)
    section.wait_for()
    titles = page.evaluate(
        """() => Array.from(document.querySelectorAll(
              '#jp-running-sessions .lm-AccordionPanel-title')).map(t => t.textContent.trim())"""
    )
    # Each title holds the section's name, then its toolbar ("Stop All" for ours).
    assert "ProcessesStop All" in titles, titles
    page.wait_for_selector(_item(web, "running"), timeout=20_000)
    page.wait_for_selector(_item(done, "exited"), timeout=20_000)
    item = page.locator(_item(web))
    assert item.locator(".jp-RunningSessions-itemLabel").inner_text() == web
    assert item.locator(".jp-RunningSessions-itemDetail").inner_text() == "running"
    # Only an active process has a stop button.
    assert page.locator(f"{_item(done)} .jp-RunningSessions-itemShutdown").count() == 0

    # A click on the name opens the detail view.
    item.locator(".jp-RunningSessions-itemLabel").click()
    page.wait_for_selector(f".syft-pm-detail[data-process-name={json.dumps(web)}]", state="visible")

    # Its stop button stops it; the item follows live.
    item.hover()
    item.locator(".jp-RunningSessions-itemShutdown").click()
    page.wait_for_selector(_item(web, "stopped"), timeout=20_000)
    assert page.locator(_item(web)).locator(".jp-RunningSessions-itemDetail").inner_text() == (
        "stopped"
    )
    assert lab.api(f"syft-pm/api/processes/{web}")["status"] == "stopped"
    assert page.locator(f"{_item(web)} .jp-RunningSessions-itemShutdown").count() == 0


def test_running_panel_stop_all_asks_then_stops_the_active_ones(jlab, lab, processes):
    page = jlab.page
    tag = uuid.uuid4().hex[:6]
    a, b = f"run-a-{tag}", f"run-b-{tag}"
    processes.extend([a, b])
    _start(lab, SLEEPER.format(name=a) + SLEEPER.format(name=b))

    _open_running_panel(jlab)
    for name in (a, b):
        page.wait_for_selector(_item(name, "running"), timeout=20_000)
    # "Stop All" sits in the section's title bar.
    page.locator(
        "#jp-running-sessions .lm-AccordionPanel-title:has-text('Processes')"
        " .jp-RunningSessions-shutdownAll"
    ).click()
    dialog = page.wait_for_selector(".jp-Dialog")
    assert "Stop" in dialog.inner_text() and "active process" in dialog.inner_text()
    page.click(".jp-Dialog .jp-mod-warn")
    for name in (a, b):
        page.wait_for_selector(_item(name, "stopped"), timeout=20_000)
        assert lab.api(f"syft-pm/api/processes/{name}")["status"] == "stopped"
