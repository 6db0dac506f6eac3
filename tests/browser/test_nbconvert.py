"""The static card of a saved handle, through ``jupyter nbconvert`` (no browser needed).

A notebook that starts two processes (one left running, one that has exited) and shows
their handles is executed with a real kernel (``jupyter nbconvert --execute``), then
converted to HTML the way a user shares it: as JupyterLab saves it by default (outputs,
no widget state), and as ``--execute`` left it (widget state kept). The HTML must show
each handle's card (class ``syft-pm-card``) with the process name and status, and must
carry neither the processes' environment values nor their log lines (not asked for).
With the widget state kept, nbconvert shows the widget view instead of the card (a
known gap, marked xfail). The opt-in test
(``SYFT_PM_SCREENSHOTS=1``) screenshots the card in chromium, light and dark.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import syft_pm

ROOT = Path(__file__).resolve().parents[2]
JUPYTER = str(Path(sys.executable).with_name("jupyter"))
SECRET = "s3cr3t-" + uuid.uuid4().hex
MARK_TAIL = uuid.uuid4().hex[:8]
LOG_MARK = "log-line-" + MARK_TAIL
# The processes print LOG_MARK, built at run time so that no command line holds it.
PRINT_MARK = f"print('log-line-' + {MARK_TAIL!r}, flush=True)"


def _notebook(path: Path, cells: list[str]) -> None:
    path.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "execution_count": None,
                        "id": uuid.uuid4().hex[:8],
                        "metadata": {},
                        "outputs": [],
                        "source": src,
                    }
                    for src in cells
                ],
                "metadata": {
                    "kernelspec": {
                        "display_name": "Python 3",
                        "language": "python",
                        "name": "python3",
                    }
                },
                "nbformat": 4,
                "nbformat_minor": 5,
            }
        )
    )


def _nbconvert(args: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(
        [JUPYTER, "nbconvert", *args], env=env, timeout=180, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise AssertionError(f"nbconvert {' '.join(args)} failed:\n{proc.stderr[-4000:]}")


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Execute the notebook with a real kernel, then convert it to HTML."""
    base = tmp_path_factory.mktemp("nbconvert")
    home = base / "home"
    tag = uuid.uuid4().hex[:6]
    web, job = f"card-web-{tag}", f"card-job-{tag}"
    env = {
        **os.environ,
        "SYFT_PM_HOME": str(home),
        "JUPYTER_RUNTIME_DIR": str(base / "rt"),
        # The kernel reads the secret from here, so the notebook's source never holds it.
        "CARD_SECRET": SECRET,
    }
    env.pop("SYFT_PM_DISPLAY", None)
    env.pop("SYFT_PM_HTML_LOGS", None)
    nb = base / "shared.ipynb"
    _notebook(
        nb,
        [
            "import os, sys, syft_pm\n"
            f"web = syft_pm.run({web!r}, [sys.executable, '-u', '-c', "
            f"{f'import time; {PRINT_MARK}; time.sleep(600)'!r}], "
            "env={'API_TOKEN': os.environ['CARD_SECRET']})\n"
            "import time\n"
            "deadline = time.monotonic() + 30\n"
            "while web.status != 'running' and time.monotonic() < deadline:\n"
            "    time.sleep(0.05)\n"
            "web",
            f"job = syft_pm.run({job!r}, [sys.executable, '-c', {PRINT_MARK!r}], "
            "env={'API_TOKEN': os.environ['CARD_SECRET']})\n"
            "job.wait(timeout=30)\n"
            "job",
        ],
    )
    try:
        _nbconvert(["--to", "notebook", "--execute", "--inplace", str(nb)], env)
        _nbconvert(["--to", "html", str(nb), "--output", "executed.html"], env)
        # The same notebook as JupyterLab saves it by default: outputs, but no widget
        # state (its "Save Widget State Automatically" is off).
        saved = json.loads(nb.read_text())
        saved["metadata"].pop("widgets", None)
        plain = base / "saved.ipynb"
        plain.write_text(json.dumps(saved))
        _nbconvert(["--to", "html", str(plain), "--output", "saved.html"], env)
        # The mark is in the job's log (so its absence below means something) and the
        # secret in its config (so its absence below means something too).
        job_handle = syft_pm.ProcessManager(home).get(job)
        assert LOG_MARK in "\n".join(job_handle.stdout.tail(10))
        assert job_handle.info(reveal=True)["config"]["env"] == {"API_TOKEN": SECRET}
        yield {
            "html": (base / "saved.html").read_text(),
            "executed_html": (base / "executed.html").read_text(),
            "notebook": json.loads(nb.read_text()),
            "web": web,
            "job": job,
            "base": base,
        }
    finally:
        manager = syft_pm.ProcessManager(home)
        for name in (web, job):
            with contextlib.suppress(Exception):
                manager.get(name).stop(timeout=5)


def _cards(html: str) -> dict[str, str]:
    """Each card's HTML, by the process name it carries."""
    cards = re.findall(
        r'<div class="syft-pm-card" data-process-name="([^"]+)">(.*?)</div></div>', html, re.S
    )
    return {name: body for name, body in cards}


def _text(fragment: str) -> str:
    """A fragment's visible text (tags dropped, entities left as they are)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment))


def _check_cards(converted: dict[str, Any], html: str) -> None:
    web, job = converted["web"], converted["job"]
    assert "syft-pm-card" in html
    cards = _cards(html)
    assert set(cards) == {web, job}, sorted(cards)
    web_text, job_text = _text(cards[web]), _text(cards[job])
    assert web in web_text and "running" in web_text and "pid" in web_text
    assert job in job_text and "exited (exit code 0)" in job_text
    # What the card never carries: environment values, and log lines nobody asked for.
    assert SECRET not in html
    assert LOG_MARK not in html
    assert "API_TOKEN" not in _text(cards[web]) + _text(cards[job])


def test_nbconvert_html_shows_the_card_without_secrets(converted):
    """A notebook saved with its outputs (no widget state), converted to HTML."""
    _check_cards(converted, converted["html"])


@pytest.mark.xfail(
    strict=True,
    reason="with the widget state saved (nbconvert --execute stores it by default), "
    "nbconvert's HTML picks the widget view over text/html, so the card is not in the "
    "page: the widget view needs the kernel (and unpkg.com) to show anything",
)
def test_nbconvert_html_of_an_executed_notebook_shows_the_card(converted):
    """``jupyter nbconvert --execute`` then ``--to html``, with the widget state kept."""
    assert "application/vnd.jupyter.widget-state+json" in converted["executed_html"]
    _check_cards(converted, converted["executed_html"])


def test_saved_outputs_hold_the_card_as_text_html(converted):
    """The saved notebook (what GitHub and nbviewer read) has the card as text/html,
    next to the live renderer's reference, and no secret anywhere."""
    outputs = [o for c in converted["notebook"]["cells"] for o in c.get("outputs", [])]
    shown = [o for o in outputs if o.get("output_type") == "execute_result"]
    assert len(shown) == 2
    for out in shown:
        data = out["data"]
        assert "syft-pm-card" in "".join(data["text/html"])
        assert "application/vnd.syft-pm.process+json" in data
    assert SECRET not in json.dumps(converted["notebook"])


@pytest.mark.skipif(
    not os.environ.get("SYFT_PM_SCREENSHOTS"),
    reason="writes docs/images; run with SYFT_PM_SCREENSHOTS=1",
)
def test_card_screenshots(browser, tmp_path):
    """The card as nbviewer or a GitHub-like page shows it, light and dark: a web server
    left running and a finished job, from a notebook executed with a real kernel."""
    home = tmp_path / "home"
    env = {**os.environ, "SYFT_PM_HOME": str(home), "JUPYTER_RUNTIME_DIR": str(tmp_path / "rt")}
    env.pop("SYFT_PM_DISPLAY", None)
    nb = tmp_path / "demo.ipynb"
    _notebook(
        nb,
        [
            "import sys, time, syft_pm\n"
            "web = syft_pm.run('web', [sys.executable, '-m', 'http.server', '0'])\n"
            "deadline = time.monotonic() + 30\n"
            "while web.status != 'running' and time.monotonic() < deadline:\n"
            "    time.sleep(0.05)\n"
            "web",
            "train = syft_pm.run('train', [sys.executable, '-c', 'print(\"epoch 1\")'])\n"
            "train.wait(timeout=30)\n"
            "train",
        ],
    )
    try:
        _nbconvert(["--to", "notebook", "--execute", "--inplace", str(nb)], env)
    finally:
        manager = syft_pm.ProcessManager(home)
        for name in ("web", "train"):
            with contextlib.suppress(Exception):
                manager.get(name).stop(timeout=5)
    outputs = [o for c in json.loads(nb.read_text())["cells"] for o in c.get("outputs", [])]
    cards = "".join(
        "".join(o["data"]["text/html"]) for o in outputs if o.get("output_type") == "execute_result"
    )
    assert cards.count('class="syft-pm-card"') == 2
    images = ROOT / "docs" / "images"
    images.mkdir(parents=True, exist_ok=True)
    for scheme, background in (("light", "#ffffff"), ("dark", "#0d1117")):
        page = browser.new_page(viewport={"width": 640, "height": 320}, color_scheme=scheme)
        try:
            page.set_content(
                f"<!doctype html><html><body style='background:{background};"
                f"margin:0;padding:16px'><div id='out'>{cards}</div></body></html>"
            )
            page.locator("#out").screenshot(path=str(images / f"static-card-{scheme}.png"))
        finally:
            page.close()
