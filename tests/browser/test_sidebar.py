"""The Processes sidebar, in a real JupyterLab and chromium.

Processes started from two notebooks (two kernels) and from a plain Python process show
up within a second; stopping one from the sidebar reaches the inline output of its
notebook; two pages stay in step; after a Jupyter server restart the panel reconnects
by itself; the log view follows and searches. Every wait is on a condition.
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

# The harness lives in conftest.py, which is not importable by name here (no
# package): its classes are reached through its fixtures (type(lab), type(jlab)).
LabServer = Any
Lab = Any
SIDEBAR = "#syft-pm-sidebar"
# The label t0 is when run() was called: a row's latency is measured from it.
SLEEPER = (
    "import sys, time, syft_pm\n"
    "h = syft_pm.run({name!r}, [sys.executable, '-c', 'import time; time.sleep(600)'], "
    "labels={{'t0': repr(time.time())}})\n"
    "h"
)
TICKER = (
    "import sys, syft_pm\n"
    "h = syft_pm.run({name!r}, [sys.executable, '-u', '-c', "
    "'import time,itertools\\nfor i in itertools.count(): "
    'print("tick", i, "even" if i % 2 == 0 else "odd", flush=True); time.sleep(0.2)\'])\n'
    "h"
)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def row_sel(name: str, status: str | None = None) -> str:
    sel = f"{SIDEBAR} .syft-pm-row[data-process-name={json.dumps(name)}]"
    if status:
        sel += f"[data-status={json.dumps(status)}]"
    return sel


def output_sel(name: str, status: str | None = None) -> str:
    sel = f".syft-pm-process[data-process-name={json.dumps(name)}]"
    if status:
        sel += f"[data-status={json.dumps(status)}]"
    return sel


def cleanup(home: Path, names: list[str]) -> None:
    manager = syft_pm.ProcessManager(home)
    for name in names:
        with contextlib.suppress(Exception):
            manager.get(name).stop(timeout=5)
        with contextlib.suppress(Exception):
            manager.remove(name, force=True)


@pytest.fixture
def processes(lab: LabServer) -> Iterator[list[str]]:
    """Names a test starts; stopped and removed at its end."""
    names: list[str] = []
    yield names
    cleanup(lab.home, names)


@pytest.fixture
def notebook_sessions(lab: LabServer) -> Iterator[list[str]]:
    """Notebook paths whose kernels are shut down at the end of the test."""
    paths: list[str] = []
    yield paths
    with contextlib.suppress(Exception):
        for session in lab.api("api/sessions"):
            if session.get("path") in paths:
                lab.api(f"api/sessions/{session['id']}", "DELETE")


@pytest.fixture
def own_lab(lab: LabServer, tmp_path: Path) -> Iterator[LabServer]:
    """A Jupyter server of this test alone, which the test may stop and start again."""
    server = type(lab)(tmp_path / "own")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        cleanup(server.home, [h.name for h in syft_pm.ProcessManager(server.home).list()])


def start_in_script(lab: LabServer, name: str, code: str | None = None) -> None:
    """Start ``name`` from a plain Python process (no kernel, no server)."""
    code = code or SLEEPER.format(name=name)
    subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "SYFT_PM_HOME": str(lab.home)},
        check=True,
        timeout=60,
    )


def open_lab_with_sidebar(jlab: Lab, path: str = "lab") -> None:
    jlab.open(path)
    # The command (not a click on the tab, which toggles a panel the restored
    # layout may already show).
    jlab.command("syft-pm:open-sidebar")
    jlab.page.wait_for_selector(SIDEBAR, state="visible")
    jlab.page.wait_for_selector(f"{SIDEBAR}[data-connection='connected'][data-live='true']")
    # Record when each row first appears, by the browser's clock.
    jlab.page.evaluate(
        """() => {
          window.__syftSeen = window.__syftSeen || {};
          const list = document.querySelector('#syft-pm-sidebar .syft-pm-list');
          const note = () => {
            for (const el of list.querySelectorAll('.syft-pm-row')) {
              const n = el.dataset.processName;
              if (!(n in window.__syftSeen)) window.__syftSeen[n] = Date.now();
            }
          };
          note();
          new MutationObserver(note).observe(list, { childList: true });
        }"""
    )


def seen_latency(jlab: Lab, lab: LabServer, name: str) -> float:
    """Seconds from the ``run()`` call (label t0) to the process's row in the sidebar."""
    jlab.page.wait_for_selector(row_sel(name), timeout=5000)
    seen_ms = jlab.page.evaluate("(n) => window.__syftSeen[n]", name)
    assert seen_ms, f"no first-seen time for {name}"
    t0 = float(lab.api(f"syft-pm/api/processes/{name}")["labels"]["t0"])
    return seen_ms / 1000 - t0


def select_row(page: Any, name: str) -> None:
    page.click(f"{row_sel(name)} .syft-pm-row-name")
    page.wait_for_selector(f"{row_sel(name)}.syft-pm-mod-selected")


def test_processes_from_two_notebooks_and_a_script_appear_within_a_second(
    jlab, lab, processes, notebook_sessions
):
    a, b, s = unique("nb-a"), unique("nb-b"), unique("script")
    processes.extend([a, b, s])
    nb_a = lab.write_notebook(f"{a}.ipynb", [SLEEPER.format(name=a)])
    nb_b = lab.write_notebook(f"{b}.ipynb", [SLEEPER.format(name=b)])
    notebook_sessions.extend([nb_a, nb_b])
    open_lab_with_sidebar(jlab)

    latencies: dict[str, float] = {}
    for nb, name in ((nb_a, a), (nb_b, b)):
        jlab.open_notebook(nb)
        jlab.run_cell(nb, 0)
        latencies[name] = seen_latency(jlab, lab, name)
    start_in_script(lab, s)
    latencies[s] = seen_latency(jlab, lab, s)
    print("start-to-row latencies (s):", {k: round(v, 3) for k, v in latencies.items()})
    for name, seconds in latencies.items():
        assert seconds < 1.0, f"{name} took {seconds:.3f}s to appear in the sidebar"

    # Two kernels: each notebook's process records its own kernel and notebook.
    kernels = {lab.api(f"syft-pm/api/processes/{n}")["provenance"]["kernel_id"] for n in (a, b)}
    assert len(kernels) == 2 and None not in kernels
    assert lab.api(f"syft-pm/api/processes/{s}")["provenance"]["kernel_id"] is None

    # "This notebook" follows the active notebook (nb_b, opened last).
    jlab.page.select_option(f"{SIDEBAR} .syft-pm-filter-origin", "this")
    jlab.page.wait_for_selector(row_sel(a), state="detached")
    assert jlab.page.query_selector(row_sel(b)) is not None
    assert jlab.page.query_selector(row_sel(s)) is None
    jlab.page.select_option(f"{SIDEBAR} .syft-pm-filter-origin", "all")
    # Search by name.
    jlab.page.fill(f"{SIDEBAR} .syft-pm-search", s)
    jlab.page.wait_for_selector(row_sel(a), state="detached")
    assert jlab.page.query_selector(row_sel(s)) is not None
    jlab.page.fill(f"{SIDEBAR} .syft-pm-search", "")
    jlab.page.wait_for_selector(row_sel(a))

    # The detail view opens the notebook that started a process.
    jlab.command("syft-pm:show-logs", {"name": a})
    detail = f".syft-pm-detail[data-process-name={json.dumps(a)}]"
    jlab.page.click(f"{detail} .syft-pm-detail-open-notebook")
    jlab.page.wait_for_function(
        """(p) => { const w = window.jupyterapp.shell.currentWidget;
                   return !!w && !!w.context && w.context.path === p; }""",
        arg=nb_a,
    )


def test_stop_from_sidebar_reaches_the_inline_output(jlab, lab, processes, notebook_sessions):
    name = unique("inline-stop")
    processes.append(name)
    nb = lab.write_notebook(f"{name}.ipynb", [SLEEPER.format(name=name)])
    notebook_sessions.append(nb)
    open_lab_with_sidebar(jlab)
    jlab.open_notebook(nb)
    jlab.run_cell(nb, 0)
    jlab.page.wait_for_selector(output_sel(name, "running"), timeout=15_000)
    jlab.page.wait_for_selector(row_sel(name, "running"), timeout=5000)

    select_row(jlab.page, name)
    jlab.page.click(f"{row_sel(name)} .syft-pm-row-stop")
    jlab.page.wait_for_selector(row_sel(name, "stopped"), timeout=15_000)
    jlab.page.wait_for_selector(output_sel(name, "stopped"), timeout=15_000)
    assert syft_pm.ProcessManager(lab.home).get(name).status == "stopped"


def test_two_pages_reflect_an_action_taken_in_one(jlab, lab, page, processes):
    name = unique("two-pages")
    processes.append(name)
    start_in_script(lab, name)
    open_lab_with_sidebar(jlab)
    other = type(jlab)(page.context.new_page(), lab)
    other.page.set_default_timeout(30_000)
    # Its own workspace: two windows on one workspace make JupyterLab redirect one.
    open_lab_with_sidebar(other, f"lab/workspaces/{unique('second')}")
    for p in (jlab.page, other.page):
        p.wait_for_selector(row_sel(name, "running"), timeout=10_000)

    # Stop in the second page: both show it stopped.
    select_row(other.page, name)
    other.page.click(f"{row_sel(name)} .syft-pm-row-stop")
    for p in (other.page, jlab.page):
        p.wait_for_selector(row_sel(name, "stopped"), timeout=15_000)

    # Start it again from the first page's command (acts on no row: takes the name).
    jlab.command("syft-pm:restart", {"name": name})
    # Without a name and with no row selected, a command asks which process.
    jlab.page.evaluate("() => { window.jupyterapp.commands.execute('syft-pm:show-logs'); }")
    jlab.page.wait_for_selector(".jp-Dialog select")
    jlab.page.select_option(".jp-Dialog select", name)
    jlab.page.click(".jp-Dialog .jp-mod-accept")
    jlab.page.wait_for_selector(f".syft-pm-detail[data-process-name={json.dumps(name)}]")
    for p in (jlab.page, other.page):
        p.wait_for_selector(row_sel(name, "running"), timeout=15_000)

    # Remove it from the second page, through the confirm dialog.
    other.command("syft-pm:show-logs", {"name": name})
    other.page.click(".syft-pm-detail .syft-pm-detail-remove")
    dialog = other.page.wait_for_selector(".jp-Dialog")
    assert name in dialog.inner_text()
    other.page.click(".jp-Dialog .jp-mod-warn")
    for p in (other.page, jlab.page):
        p.wait_for_selector(row_sel(name), state="detached", timeout=15_000)
    other.page.close()


def test_panel_reconnects_after_server_restart(jlab, page, own_lab):
    names = [unique("survivor"), unique("survivor")]
    for name in names:
        start_in_script(own_lab, name)
    jlab = type(jlab)(page, own_lab)
    open_lab_with_sidebar(jlab)
    for name in names:
        page.wait_for_selector(row_sel(name, "running"), timeout=10_000)

    own_lab.stop()
    # The panel says so (never blank): the error with its retry, the rows kept.
    page.wait_for_selector(f"{SIDEBAR}[data-connection='failed']", timeout=20_000)
    error = page.wait_for_selector(f"{SIDEBAR} .syft-pm-error", state="visible")
    assert "connection" in error.inner_text().lower() or "reach" in error.inner_text().lower()
    page.wait_for_function(
        """() => /Retrying in \\d+ s|Reconnecting/.test(
             document.querySelector('#syft-pm-sidebar .syft-pm-retry-when').textContent)""",
        timeout=20_000,
    )
    for name in names:
        assert page.query_selector(row_sel(name)) is not None

    own_lab.start()
    # No click: the panel reconnects by itself and shows the same processes, live.
    page.wait_for_selector(
        f"{SIDEBAR}[data-connection='connected'][data-live='true']", timeout=45_000
    )
    for name in names:
        page.wait_for_selector(row_sel(name, "running"), timeout=10_000)
    assert page.query_selector(f"{SIDEBAR} .syft-pm-error").is_hidden()
    # And it is live again: a change after the restart arrives.
    syft_pm.ProcessManager(own_lab.home).get(names[0]).stop(timeout=5)
    page.wait_for_selector(row_sel(names[0], "stopped"), timeout=10_000)


def test_log_view_follows_and_searches(jlab, lab, processes):
    name = unique("ticker")
    processes.append(name)
    code = TICKER.format(name=name).rsplit("\nh", 1)[0]
    start_in_script(lab, name, code)
    open_lab_with_sidebar(jlab)
    page = jlab.page
    page.wait_for_selector(row_sel(name, "running"))
    # Open it from the row, like a user.
    select_row(page, name)
    page.click(f"{row_sel(name)} .syft-pm-row-open")
    view = (
        f".syft-pm-detail[data-process-name={json.dumps(name)}]"
        " .syft-pm-logview[data-stream='stdout']"
    )
    page.wait_for_selector(f"{view} .syft-pm-lv-line")

    last_tick = """(v) => {
        const lines = document.querySelectorAll(v + ' .syft-pm-lv-lines .syft-pm-lv-text');
        const last = lines.length ? lines[lines.length - 1].textContent : '';
        const m = /tick (\\d+)/.exec(last);
        return m ? Number(m[1]) : -1; }"""
    first = page.evaluate(last_tick, view)
    # Follows: newer lines arrive without doing anything, scrolled to the bottom.
    page.wait_for_function(f"(v) => ({last_tick})(v) >= {first + 5}", arg=view, timeout=15_000)
    at_bottom = page.evaluate(
        """(v) => { const s = document.querySelector(v + ' .syft-pm-lv-scroll');
                    return s.scrollHeight - s.scrollTop - s.clientHeight < 30; }""",
        view,
    )
    assert at_bottom
    # Line times are shown.
    assert page.inner_text(f"{view} .syft-pm-lv-time >> nth=0").count(":") == 2

    # Search (on the server): highlighted matches, every result matches.
    page.fill(f"{view} .syft-pm-lv-search", "ODD")
    page.press(f"{view} .syft-pm-lv-search", "Enter")
    page.wait_for_selector(f"{view}[data-mode='search'] .syft-pm-lv-results mark")
    results = page.eval_on_selector_all(
        f"{view} .syft-pm-lv-results .syft-pm-lv-text", "els => els.map(e => e.textContent)"
    )
    marks = page.eval_on_selector_all(
        f"{view} .syft-pm-lv-results mark", "els => els.map(e => e.textContent)"
    )
    assert results and all("odd" in r for r in results), results[:5]
    assert set(marks) == {"odd"}
    assert "match" in page.inner_text(f"{view} .syft-pm-lv-info")

    # Clearing the search returns to the followed log, still growing.
    page.fill(f"{view} .syft-pm-lv-search", "")
    page.press(f"{view} .syft-pm-lv-search", "Escape")
    page.wait_for_selector(f"{view}[data-mode='live']")
    now = page.evaluate(last_tick, view)
    page.wait_for_function(f"(v) => ({last_tick})(v) > {now + 2}", arg=view, timeout=15_000)


def test_failure_notification_opens_the_logs(jlab, lab, processes):
    name = unique("crasher")
    processes.append(name)
    open_lab_with_sidebar(jlab)
    code = (
        "import sys, syft_pm\n"
        f"syft_pm.run({name!r}, [sys.executable, '-c', "
        "'import sys, time; time.sleep(1); print(\"boom\", file=sys.stderr); sys.exit(3)'])\n"
    )
    start_in_script(lab, name, code)
    page = jlab.page
    page.wait_for_selector(row_sel(name, "failed"), timeout=15_000)
    toast = page.wait_for_selector(
        f".Toastify__toast:has-text({json.dumps(f'{name} exited with code 3')})", timeout=10_000
    )
    toast.query_selector("button:has-text('Show logs')").click()
    detail = f".syft-pm-detail[data-process-name={json.dumps(name)}]"
    page.wait_for_selector(f"{detail}[data-status='failed']")
    page.click(f"{detail} .syft-pm-lv-tab[data-stream='stderr']")
    page.wait_for_selector(
        f"{detail} .syft-pm-logview[data-stream='stderr'] .syft-pm-lv-text:has-text('boom')"
    )


def test_processes_only_the_active_kernel_sees_are_merged_and_marked(
    jlab, lab, tmp_path, notebook_sessions
):
    """A kernel on another SYFT_PM_HOME: the server cannot see its processes, the
    sidebar shows them through the kernel's comm, marked, and can stop them."""
    other_home = tmp_path / "kernel_home"
    name = unique("kernel-only")
    nb = lab.write_notebook(
        f"{name}.ipynb",
        [
            "import os, sys\n"
            f"os.environ['SYFT_PM_HOME'] = {str(other_home)!r}\n"
            "import syft_pm\n"
            f"h = syft_pm.run({name!r}, [sys.executable, '-c', 'import time; time.sleep(600)'])\n"
            "h"
        ],
    )
    notebook_sessions.append(nb)
    try:
        open_lab_with_sidebar(jlab)
        jlab.open_notebook(nb)
        jlab.run_cell(nb, 0)
        page = jlab.page
        row = page.wait_for_selector(f"{row_sel(name, 'running')}[data-source='kernel']")
        assert row.query_selector(".syft-pm-row-badge").is_visible()
        server_names = [p["name"] for p in lab.api("syft-pm/api/processes")["processes"]]
        assert name not in server_names
        # "Only in this kernel" keeps it; its actions go through the kernel.
        page.select_option(f"{SIDEBAR} .syft-pm-filter-origin", "kernel-only")
        page.wait_for_selector(row_sel(name))
        select_row(page, name)
        page.click(f"{row_sel(name)} .syft-pm-row-stop")
        page.wait_for_selector(row_sel(name, "stopped"), timeout=15_000)
        assert syft_pm.ProcessManager(other_home).get(name).status == "stopped"
        page.select_option(f"{SIDEBAR} .syft-pm-filter-origin", "all")
    finally:
        cleanup(other_home, [name])


def test_log_view_pages_older_lines_in_on_scroll(jlab, lab, processes):
    name = unique("chatty")
    processes.append(name)
    code = (
        "import sys, syft_pm\n"
        f"syft_pm.run({name!r}, [sys.executable, '-u', '-c', "
        "'import time\\nfor i in range(1200): print(\"line\", i)\\ntime.sleep(600)'])\n"
    )
    start_in_script(lab, name, code)
    open_lab_with_sidebar(jlab)
    page = jlab.page
    jlab.command("syft-pm:show-logs", {"name": name})
    view = (
        f".syft-pm-detail[data-process-name={json.dumps(name)}]"
        " .syft-pm-logview[data-stream='stdout']"
    )
    lines_sel = json.dumps(f"{view} .syft-pm-lv-lines .syft-pm-lv-text")
    scroll_sel = json.dumps(f"{view} .syft-pm-lv-scroll")
    texts = f"""() => Array.from(document.querySelectorAll({lines_sel}))
        .map(e => e.textContent)"""
    page.wait_for_function(f"() => ({texts})().includes('line 1199')", timeout=15_000)
    first = page.evaluate(texts)
    assert "line 0" not in first and len(first) <= 500
    # Scroll to the top until the first line of the log is there.
    page.wait_for_function(
        f"""() => {{ const s = document.querySelector({scroll_sel});
                   s.scrollTop = 0; s.dispatchEvent(new Event('scroll'));
                   return ({texts})()[0] === 'line 0'; }}""",
        timeout=20_000,
        polling=250,
    )
    lines = page.evaluate(texts)
    assert lines == [f"line {i}" for i in range(1200)]
    assert page.inner_text(f"{view} .syft-pm-lv-older") == "Beginning of the log"


@pytest.fixture
def lab_without_extension(lab: LabServer, tmp_path: Path) -> Iterator[LabServer]:
    """A Jupyter server with the syft_pm server extension disabled (the frontend is
    still installed): the sidebar has only the kernel's comm to go on."""

    class NoExtension(type(lab)):  # type: ignore[misc]
        def env(self) -> dict[str, str]:
            env = super().env()
            env["JUPYTER_CONFIG_DIR"] = str(self.base / "config")
            return env

    server = NoExtension(tmp_path / "noext")
    config = server.base / "config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"syft_pm": False}}})
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
        cleanup(server.home, [h.name for h in syft_pm.ProcessManager(server.home).list()])


def test_without_the_server_extension_the_kernel_still_feeds_the_panel(
    jlab, page, lab_without_extension
):
    server = lab_without_extension
    with pytest.raises(Exception):  # noqa: B017 - any HTTP error: the route is not there
        server.api("syft-pm/api/status")
    name = unique("no-ext")
    nb = server.write_notebook(f"{name}.ipynb", [SLEEPER.format(name=name)])
    jl = type(jlab)(page, server)
    jl.open()
    jl.command("syft-pm:open-sidebar")
    # Never blank: it says what is missing.
    error = page.wait_for_selector(f"{SIDEBAR} .syft-pm-error", state="visible", timeout=30_000)
    assert "server extension enabled" in error.inner_text()
    jl.open_notebook(nb)
    jl.run_cell(nb, 0)
    page.wait_for_selector(f"{row_sel(name, 'running')}[data-source='kernel']", timeout=15_000)
    page.wait_for_function(
        """() => document.querySelector('#syft-pm-sidebar .syft-pm-error-message')
                 .textContent.includes('kernel')"""
    )
    select_row(page, name)
    page.click(f"{row_sel(name)} .syft-pm-row-stop")
    page.wait_for_selector(row_sel(name, "stopped"), timeout=15_000)
