"""The live inline cell output, in a real JupyterLab and chromium.

A cell starts a process that prints a line every 200 ms and shows its handle; the
output must follow the lines, stop it with its button, come back live after a page
reload, and keep working (over the server websocket) after a kernel restart.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

import syft_pm

ROOT = Path(__file__).resolve().parents[2]

TICKER = (
    "import sys, syft_pm\n"
    "h = syft_pm.run({name!r}, [sys.executable, '-u', '-c', "
    "'import time,itertools\\nfor i in itertools.count(): "
    'print("tick", i, flush=True); time.sleep(0.2)\'])\n'
    "h"
)


def _sel(name: str) -> str:
    return f".syft-pm-process[data-process-name={json.dumps(name)}]"


def _js_out(name: str) -> str:
    """A JS expression for every output of ``name`` on the page."""
    return f"Array.from(document.querySelectorAll({json.dumps(_sel(name))}))"


def _line_count(jlab: Any, name: str, index: int = 0) -> int:
    return int(
        jlab.page.evaluate(
            f"""(i) => {{ const o = {_js_out(name)}[i];
                return o ? o.querySelectorAll(
                  '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line').length : -1; }}""",
            index,
        )
    )


def _last_tick(jlab: Any, name: str, index: int = 0) -> int:
    """The number of the newest ``tick N`` line shown (-1 if none)."""
    return int(
        jlab.page.evaluate(
            f"""(i) => {{ const o = {_js_out(name)}[i];
                const rows = o ? o.querySelectorAll(
                  '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line') : [];
                const last = rows.length ? rows[rows.length - 1].textContent : '';
                const m = /tick (\\d+)/.exec(last || '');
                return m ? Number(m[1]) : -1; }}""",
            index,
        )
    )


def _wait_attr(
    jlab: Any, name: str, attr: str, value: str, index: int = 0, timeout: float = 30
) -> None:
    jlab.page.wait_for_function(
        f"""([i, a, v]) => {{ const o = {_js_out(name)}[i];
            return !!o && o.getAttribute(a) === v; }}""",
        arg=[index, attr, value],
        timeout=timeout * 1000,
    )


def _wait_ticks_after(jlab: Any, name: str, after: int, index: int = 0, timeout: float = 30) -> int:
    """Wait until output ``index`` shows a ``tick N`` line with N > ``after``."""
    jlab.page.wait_for_function(
        f"""([i, n]) => {{ const o = {_js_out(name)}[i];
            const rows = o ? o.querySelectorAll(
              '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line') : [];
            const last = rows.length ? rows[rows.length - 1].textContent : '';
            const m = /tick (\\d+)/.exec(last || '');
            return !!m && Number(m[1]) > n; }}""",
        arg=[index, after],
        timeout=timeout * 1000,
    )
    return _last_tick(jlab, name, index)


def _wait_lines_grow(
    jlab: Any, name: str, more: int = 3, index: int = 0, timeout: float = 30
) -> None:
    start = _line_count(jlab, name, index)
    jlab.page.wait_for_function(
        f"""([i, n]) => {{ const o = {_js_out(name)}[i];
            return !!o && o.querySelectorAll(
              '.syft-pm-log[data-stream="stdout"] .syft-pm-log-line').length >= n; }}""",
        arg=[index, start + more],
        timeout=timeout * 1000,
    )


def _click(jlab: Any, name: str, action: str, index: int = 0) -> None:
    jlab.page.locator(_sel(name)).nth(index).locator(
        f"button.syft-pm-action[data-action={json.dumps(action)}]"
    ).click()


def _visible_errors(jlab: Any, name: str) -> list[str]:
    return list(
        jlab.page.evaluate(
            f"""() => {_js_out(name)}.flatMap(o =>
                Array.from(o.querySelectorAll('.syft-pm-error'))
                  .filter(e => !e.hidden).map(e => e.textContent))"""
        )
    )


@pytest.fixture
def processes(lab: Any) -> Iterator[list[str]]:
    """Names a test starts; stopped at its end (they outlive kernels by design)."""
    names: list[str] = []
    yield names
    manager = syft_pm.ProcessManager(lab.home)
    for name in names:
        with contextlib.suppress(Exception):
            manager.get(name).stop(timeout=5)


@pytest.fixture
def notebook_sessions(lab: Any) -> Iterator[list[str]]:
    """Notebook paths whose kernels are shut down at the end of the test."""
    paths: list[str] = []
    yield paths
    with contextlib.suppress(Exception):
        for session in lab.api("api/sessions"):
            if session.get("path") in paths:
                lab.api(f"api/sessions/{session['id']}", "DELETE")


def _start_ticker(
    jlab: Any, lab: Any, nb: str, name: str, extra_cells: list[str] | None = None
) -> None:
    lab.write_notebook(nb, [TICKER.format(name=name), *(extra_cells or [])])
    jlab.open()
    jlab.open_notebook(nb)
    jlab.run_cell(nb, 0)
    jlab.page.wait_for_selector(_sel(name))


def test_output_follows_lines_and_stop_button_stops(jlab, lab, processes, notebook_sessions):
    name = "inline-ticker"
    nb = "inline_ticker.ipynb"
    processes.append(name)
    notebook_sessions.append(nb)
    # A second cell shows the same process again: every output is its own subscriber.
    _start_ticker(jlab, lab, nb, name, ["syft_pm.get('inline-ticker')"])
    _wait_attr(jlab, name, "data-live", "true")
    _wait_attr(jlab, name, "data-status", "running")

    # Lines arrive as the process prints them: the count grows, tick numbers go up.
    _wait_lines_grow(jlab, name, more=1)
    first = _last_tick(jlab, name)
    _wait_lines_grow(jlab, name, more=5)
    assert _wait_ticks_after(jlab, name, first + 4) > first
    out = jlab.page.locator(_sel(name)).first
    assert out.locator(".syft-pm-status").inner_text() == "running"
    assert out.locator('[data-fact="pid"] .syft-pm-fact-value').inner_text().isdigit()
    assert out.locator(".syft-pm-not-live").is_hidden()

    jlab.run_cell(nb, 1)
    _wait_attr(jlab, name, "data-live", "true", index=1)
    _wait_ticks_after(jlab, name, _last_tick(jlab, name), index=1)

    _click(jlab, name, "stop")
    _wait_attr(jlab, name, "data-status", "stopped")
    _wait_attr(jlab, name, "data-status", "stopped", index=1)
    assert lab.api(f"syft-pm/api/processes/{name}")["status"] == "stopped"
    assert _visible_errors(jlab, name) == []
    # Stopped: Stop is disabled, the other button offers to start it again (once the
    # stop request has returned: buttons stay disabled while an action runs).
    expect(out.locator('button[data-action="start"]')).to_be_enabled()
    expect(out.locator('button[data-action="stop"]')).to_be_disabled()


def test_output_is_live_again_after_reload(jlab, lab, processes, notebook_sessions):
    name = "inline-reload"
    nb = "inline_reload.ipynb"
    processes.append(name)
    notebook_sessions.append(nb)
    _start_ticker(jlab, lab, nb, name)
    _wait_attr(jlab, name, "data-live", "true")
    before = _wait_ticks_after(jlab, name, 1)
    jlab.command("docmanager:save")

    jlab.reload()
    # Activates the notebook if the workspace restored it, opens it otherwise.
    jlab.open_notebook(nb)
    jlab.page.wait_for_selector(_sel(name))
    _wait_attr(jlab, name, "data-live", "true")
    _wait_attr(jlab, name, "data-status", "running")
    # The fresh subscription sends the tail, then new lines keep coming.
    seen = _wait_ticks_after(jlab, name, before)
    _wait_lines_grow(jlab, name, more=3)
    _wait_ticks_after(jlab, name, seen + 2)
    assert _visible_errors(jlab, name) == []


def test_output_survives_kernel_restart(jlab, lab, processes, notebook_sessions):
    name = "inline-restart"
    nb = "inline_restart.ipynb"
    processes.append(name)
    notebook_sessions.append(nb)
    _start_ticker(jlab, lab, nb, name)
    _wait_attr(jlab, name, "data-live", "true")
    _wait_attr(jlab, name, "data-transport", "kernel")
    before = _wait_ticks_after(jlab, name, 1)

    jlab.page.evaluate(
        f"""() => {{ const p = {jlab._panel_expr(nb)};
            return p.sessionContext.session.kernel.restart(); }}"""
    )
    # The comm died with the kernel; the server extension's websocket takes over.
    _wait_attr(jlab, name, "data-transport", "server")
    _wait_attr(jlab, name, "data-live", "true")
    after = _wait_ticks_after(jlab, name, before)
    _wait_lines_grow(jlab, name, more=3)
    _wait_ticks_after(jlab, name, after + 2)
    assert jlab.page.locator(_sel(name)).locator(".syft-pm-not-live").is_hidden()

    # The buttons still work (through the server extension's REST routes).
    _click(jlab, name, "stop")
    _wait_attr(jlab, name, "data-status", "stopped")
    assert _visible_errors(jlab, name) == []


def test_output_survives_kernel_shutdown(jlab, lab, processes, notebook_sessions):
    name = "inline-shutdown"
    nb = "inline_shutdown.ipynb"
    processes.append(name)
    notebook_sessions.append(nb)
    _start_ticker(jlab, lab, nb, name)
    _wait_attr(jlab, name, "data-transport", "kernel")
    _wait_attr(jlab, name, "data-live", "true")
    before = _wait_ticks_after(jlab, name, 1)

    jlab.page.evaluate(
        f"""() => {{ const p = {jlab._panel_expr(nb)};
            return p.sessionContext.shutdown(); }}"""
    )
    _wait_attr(jlab, name, "data-transport", "server")
    _wait_attr(jlab, name, "data-live", "true")
    _wait_ticks_after(jlab, name, before + 3)
    # No kernel at all: the buttons still act, through the server extension.
    pid = (
        jlab.page.locator(_sel(name)).locator('[data-fact="pid"] .syft-pm-fact-value').inner_text()
    )
    _click(jlab, name, "restart")
    jlab.page.wait_for_function(
        f"""(pid) => {{ const o = {_js_out(name)}[0];
            const p = o && o.querySelector('[data-fact="pid"] .syft-pm-fact-value');
            return !!p && p.textContent !== pid && o.dataset.status === 'running'; }}""",
        arg=pid,
        timeout=30_000,
    )
    _wait_ticks_after(jlab, name, -1)
    assert _visible_errors(jlab, name) == []


def test_buttons_work_while_the_kernel_is_busy(jlab, lab, processes, notebook_sessions):
    name = "inline-busy"
    nb = "inline_busy.ipynb"
    processes.append(name)
    notebook_sessions.append(nb)
    _start_ticker(jlab, lab, nb, name, ["import time\ntime.sleep(120)"])
    _wait_attr(jlab, name, "data-live", "true")
    _wait_attr(jlab, name, "data-status", "running")
    # Run the sleeping cell without waiting for it, then wait until the kernel is busy.
    jlab.page.evaluate(
        f"""() => {{ const p = {jlab._panel_expr(nb)};
            p.content.activeCellIndex = 1; p.content.deselectAll();
            void window.jupyterapp.commands.execute('notebook:run-cell'); }}"""
    )
    jlab.page.wait_for_function(
        f"""() => {jlab._panel_expr(nb)}.sessionContext.session.kernel.status === 'busy'"""
    )
    # Live state keeps coming and the stop button acts while the kernel is busy.
    _wait_ticks_after(jlab, name, _last_tick(jlab, name) + 2)
    _click(jlab, name, "stop")
    _wait_attr(jlab, name, "data-status", "stopped")
    assert (
        jlab.page.evaluate(f"""() => {jlab._panel_expr(nb)}.sessionContext.session.kernel.status""")
        == "busy"
    )
    assert _visible_errors(jlab, name) == []
    jlab.page.evaluate(
        f"""() => {jlab._panel_expr(nb)}.sessionContext.session.kernel.interrupt()"""
    )


def test_saved_output_is_live_in_a_fresh_kernel(jlab, lab, processes, notebook_sessions):
    """Reopening a saved notebook: its kernel is new and has not imported syft_pm, so
    the comm is refused; the output goes live through the server extension."""
    import sys
    import uuid

    from syft_pm.kernel import display

    name = "inline-saved"
    nb = "inline_saved.ipynb"
    processes.append(name)
    notebook_sessions.append(nb)
    code = (
        "import time,itertools\n"
        "for i in itertools.count(): print('tick', i, flush=True); time.sleep(0.2)"
    )
    handle = syft_pm.ProcessManager(lab.home).run(name, [sys.executable, "-u", "-c", code])
    cell = {
        "cell_type": "code",
        "execution_count": 1,
        "id": uuid.uuid4().hex[:8],
        "metadata": {},
        "source": f"syft_pm.get({name!r})",
        "outputs": [
            {
                "output_type": "execute_result",
                "execution_count": 1,
                "metadata": {},
                "data": {
                    display.MIME_TYPE: display.reference(handle.record, handle.registry),
                    "text/plain": name,
                },
            }
        ],
    }
    doc = {
        "cells": [cell],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (lab.root / nb).write_text(json.dumps(doc))
    jlab.open()
    jlab.open_notebook(nb)
    _wait_attr(jlab, name, "data-transport", "server")
    _wait_attr(jlab, name, "data-live", "true")
    _wait_attr(jlab, name, "data-status", "running")
    _wait_ticks_after(jlab, name, _last_tick(jlab, name) + 2)
    assert _visible_errors(jlab, name) == []


@pytest.mark.skipif(
    not os.environ.get("SYFT_PM_SCREENSHOTS"),
    reason="writes docs/images; run with SYFT_PM_SCREENSHOTS=1",
)
def test_inline_output_screenshots(jlab, lab, processes, notebook_sessions):
    name = "web-demo"
    nb = "inline_screenshots.ipynb"
    processes.append(name)
    notebook_sessions.append(nb)
    _start_ticker(jlab, lab, nb, name)
    _wait_attr(jlab, name, "data-live", "true")
    _wait_lines_grow(jlab, name, more=12)
    out = jlab.page.locator(_sel(name))
    images = ROOT / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    cell = jlab.cell(nb, 0)
    cell.screenshot(path=str(images / "inline-output-light.png"))
    jlab.command("apputils:change-theme", {"theme": "JupyterLab Dark"})
    jlab.page.wait_for_function(
        "() => document.body.dataset.jpThemeLight === 'false'", timeout=30_000
    )
    _wait_lines_grow(jlab, name, more=2)
    out.wait_for()
    cell.screenshot(path=str(images / "inline-output-dark.png"))
    jlab.command("apputils:change-theme", {"theme": "JupyterLab Light"})
