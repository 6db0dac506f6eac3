"""Browser test harness: a real JupyterLab, Debian's chromium, playwright.

* ``lab``: one ``jupyter lab`` per session on a free loopback port, with a temporary root
  dir, settings, workspaces and ``SYFT_PM_HOME``, token auth on (unauthenticated access
  disabled), and the app exposed to the page (``window.jupyterapp``, as galata does) so
  tests drive JupyterLab through its commands rather than by typing.
* ``page``: a fresh browser context per test; on failure a screenshot, the page's
  console and the server log go to ``artifacts/browser/<test>/``.
* :class:`Lab` helpers open the sidebar, open a notebook and run cells reliably: wait for
  the kernel to be idle, run through the command registry, retry while the prompt stays
  empty. Everything waits on conditions; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
CHROMIUM = os.environ.get("SYFT_PM_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """Shadow pytest_jupyter's autouse loop fixture (``-p pytest_jupyter.jupyter_server`` in
    addopts): it picks up playwright's running loop and fails closing it at teardown. Browser
    tests use no jupyter_server fixture, so they need no loop of their own."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    """Shadow pytest_jupyter's in-process server cleanup: the browser tests' server is a
    separate ``jupyter lab`` process, stopped by the ``lab`` fixture."""
    yield None


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    rep = yield
    setattr(item, f"rep_{rep.when}", rep)
    return rep


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what``."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:
            last_exc = e
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last_exc})")


class LabServer:
    """A ``jupyter lab`` server; ``app="notebook"`` runs Notebook 7 (``jupyter notebook``)."""

    def __init__(self, base: Path, app: str = "lab") -> None:
        self.base = base
        self.app = app
        self.port = free_port()
        self.token = uuid.uuid4().hex
        self.root = base / "root"
        self.home = base / "syft_home"
        self.log_path = base / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        for d in (self.root, self.home, base / "settings", base / "workspaces", base / "rt"):
            d.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SYFT_PM_HOME=str(self.home),
            JUPYTER_RUNTIME_DIR=str(self.base / "rt"),
            JUPYTERLAB_SETTINGS_DIR=str(self.base / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.base / "workspaces"),
        )
        return env

    def start(self) -> None:
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [
            str(jupyter),
            self.app,
            "--no-browser",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            f"--ServerApp.root_dir={self.root}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.allow_unauthenticated_access=False",
            "--ServerApp.port_retries=0",
        ]
        if self.app == "notebook":
            cmd.append("--JupyterNotebookApp.expose_app_in_browser=True")
        else:
            cmd += [
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env(), cwd=self.root
        )
        wait_until(
            self._ready, 90, f"jupyter {self.app} on port {self.port} (log: {self.log_path})"
        )

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(
                f"jupyter {self.app} exited early:\n{self.log_path.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(
                f"{self.url}/api/status?token={self.token}", timeout=2
            ) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        req = urllib.request.Request(
            f"{self.url}/{path.lstrip('/')}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return json.loads(raw) if raw else None

    def write_notebook(self, name: str, cells: list[str] | None = None) -> str:
        nb = {
            "cells": [
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": uuid.uuid4().hex[:8],
                    "metadata": {},
                    "outputs": [],
                    "source": src,
                }
                for src in (cells or [""])
            ],
            "metadata": {
                "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root / name).write_text(json.dumps(nb))
        return name

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


def _stop_all_processes(home: Path) -> None:
    """Stop every process the tests left in the registry (they outlive kernels by design)."""
    try:
        import syft_pm

        for h in syft_pm.ProcessManager(home).list():
            with contextlib.suppress(Exception):
                h.stop(timeout=5)
    except Exception:
        pass


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    server = LabServer(tmp_path_factory.mktemp("lab"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        _stop_all_processes(server.home)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One Notebook 7 server (``jupyter notebook``) per session, set up like ``lab``."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
    server = LabServer(tmp_path_factory.mktemp("nb7"), app="notebook")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        _stop_all_processes(server.home)


@pytest.fixture
def page(browser: Any, lab: LabServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _page(browser, lab, request)


@pytest.fixture
def nb7_page(browser: Any, notebook7: LabServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh page for the Notebook 7 server (artifacts as for ``page``)."""
    yield from _page(browser, notebook7, request)


def _page(browser: Any, lab: LabServer, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    console: list[str] = []
    pg.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    pg.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    pg.set_default_timeout(30_000)
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is not None and rep.failed:
            out = ARTIFACTS / request.node.name
            out.mkdir(parents=True, exist_ok=True)
            for i, p in enumerate(context.pages):
                with contextlib.suppress(Exception):
                    p.screenshot(path=str(out / f"page{i}.png"), full_page=True)
            (out / "console.log").write_text("\n".join(console))
            if lab.log_path.exists():
                shutil.copy(lab.log_path, out / "server.log")
        context.close()


class Lab:
    """Drives one JupyterLab page through its public app object."""

    def __init__(self, page: Any, server: LabServer) -> None:
        self.page = page
        self.server = server

    def open(self, path: str = "lab") -> None:
        sep = "&" if "?" in path else "?"
        self.page.goto(f"{self.server.url}/{path}{sep}token={self.server.token}")
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.started !== undefined", timeout=60_000
        )
        self.page.evaluate("() => window.jupyterapp.restored")
        # JupyterLab's dock panel, or Notebook 7's single-document main panel.
        self.page.wait_for_selector("#jp-main-dock-panel, #main-panel", timeout=60_000)

    def reload(self) -> None:
        """Reload the page (a real reload: every view subscribes again) and wait for the app."""
        self.page.reload()
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.started !== undefined", timeout=60_000
        )
        self.page.evaluate("() => window.jupyterapp.restored")
        self.page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)

    def command(self, command: str, args: dict[str, Any] | None = None) -> Any:
        return self.page.evaluate(
            "([c, a]) => window.jupyterapp.commands.execute(c, a).then(() => true)",
            [command, args or {}],
        )

    def open_sidebar(self) -> Any:
        # The command activates the panel; a click on its tab would toggle it, closing a
        # panel that the layout an earlier test left behind already shows.
        self.command("syft-pm:open-sidebar")
        return self.page.wait_for_selector("#syft-pm-sidebar", state="visible")

    def open_notebook(self, name: str) -> None:
        self.command("docmanager:open", {"path": name})
        self.wait_kernel_idle(name)

    def _panel_expr(self, name: str) -> str:
        return (
            "(() => { const app = window.jupyterapp; let found = null;"
            " for (const w of app.shell.widgets('main')) {"
            f" if (w.context && w.context.path === {json.dumps(name)}) found = w; }}"
            " return found; })()"
        )

    def wait_kernel_idle(self, name: str, timeout: float = 90) -> None:
        self.page.wait_for_function(
            f"""() => {{ const p = {self._panel_expr(name)};
                 const k = p && p.sessionContext.session && p.sessionContext.session.kernel;
                 return !!k && k.status === 'idle' && p.content.widgets.length > 0; }}""",
            timeout=timeout * 1000,
        )

    def run_cell(
        self, name: str, index: int, source: str | None = None, timeout: float = 60
    ) -> Any:
        """Run cell ``index`` of notebook ``name`` (optionally setting its source first).

        Runs through the notebook actions, then waits for the cell's execution count;
        if the kernel swallowed the request (first load), it is sent again.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.wait_kernel_idle(name)
            self.page.evaluate(
                f"""([i, src]) => {{ const p = {self._panel_expr(name)};
                    p.content.activeCellIndex = i;
                    const cell = p.content.widgets[i];
                    if (src !== null) cell.model.sharedModel.setSource(src);
                    p.content.deselectAll();
                    return window.jupyterapp.commands.execute('notebook:run-cell'); }}""",
                [index, source],
            )
            try:
                self.page.wait_for_function(
                    f"""(i) => {{ const p = {self._panel_expr(name)};
                        const c = p && p.content.widgets[i];
                        return !!c && typeof c.model.executionCount === 'number'; }}""",
                    arg=index,
                    timeout=min(15_000, max(1000, (deadline - time.monotonic()) * 1000)),
                )
                return self.cell(name, index)
            except Exception:
                if time.monotonic() > deadline:
                    raise

    def cell(self, name: str, index: int) -> Any:
        handle = self.page.evaluate_handle(
            f"(i) => {self._panel_expr(name)}.content.widgets[i].node", index
        )
        return handle.as_element()


@pytest.fixture
def jlab(page: Any, lab: LabServer) -> Lab:
    return Lab(page, lab)


@pytest.fixture
def nb7(nb7_page: Any, notebook7: LabServer) -> Lab:
    """The same driver on a Notebook 7 page (its shell has the same commands and areas)."""
    return Lab(nb7_page, notebook7)
