"""The server extension brings back processes whose supervisor was killed (issue 14):
at start, and when a supervisor vanishes while it runs (its periodic look)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from syft_pm.manager import ProcessManager
from syft_pm.resurrect import REASON_KILLED

PY = sys.executable
SLEEPER = [PY, "-c", "import time; time.sleep(300)"]


def kill_supervisor(pm: ProcessManager, name: str) -> None:
    st = pm.get(name).state
    procs = [psutil.Process(st["supervisor_pid"]), psutil.Process(st["pid"])]
    os.kill(procs[0].pid, signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)


@pytest.fixture
def pm(syft_home: Path) -> Iterator[ProcessManager]:
    manager = ProcessManager(syft_home)
    yield manager
    for h in manager.list():
        try:
            h.stop(timeout=3)
        except Exception as e:
            print("teardown:", e)


@pytest.fixture
def killed_before_start(pm: ProcessManager) -> ProcessManager:
    """A process whose supervisor died while no server ran."""
    pm.run("web", SLEEPER, restart="always")
    kill_supervisor(pm, "web")
    assert pm.get("web").status == "failed"
    return pm


@pytest.fixture
def jp_server_config(syft_home: Path, killed_before_start: ProcessManager) -> dict[str, Any]:
    return {
        "ServerApp": {
            "jpserver_extensions": {"syft_pm": True},
            "allow_unauthenticated_access": False,
        },
        "SyftPmExtension": {"home": str(syft_home), "resurrect_interval": 0.2},
    }


async def wait_until(pred: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not pred():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_server_brings_back_killed_supervisors(jp_fetch: Any, pm: ProcessManager) -> None:
    await jp_fetch("syft-pm", "api", "processes")  # the server (and its extension) is up
    h = pm.get("web")
    # (While the resurrector holds the entry's lock, a reader sees the old record as is.)
    await wait_until(lambda: h.status == "running" and h.state["restarts"] == 1)
    assert h.state["restart_reason"] == REASON_KILLED
    # Killed again while the server runs: its periodic look finds it.
    kill_supervisor(pm, "web")
    await wait_until(lambda: h.status == "running" and h.state["restarts"] == 2)
