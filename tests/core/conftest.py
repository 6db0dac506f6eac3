"""Fixtures for the core tests: a private registry per test, and condition waits.

Every test gets its own ``SYFT_PM_HOME``; on teardown every process of that registry is
stopped (and checked gone), so nothing leaks between tests or out of the suite.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from syft_pm.manager import ProcessManager
from syft_pm.registry import ACTIVE_STATUSES

HERE = Path(__file__).resolve().parent
PY = sys.executable


def wait_for(pred: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``pred`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)


def processes_with_env(key: str, value: str) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if p.status() == psutil.STATUS_ZOMBIE:
                continue
            if p.environ().get(key) == value:
                out.append(p)
        except psutil.Error:
            continue
    return out


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    h = tmp_path / "pmhome"
    monkeypatch.setenv("SYFT_PM_HOME", str(h))
    yield h
    pm = ProcessManager(h)
    for handle in pm.list():
        try:
            if handle.record.status in ACTIVE_STATUSES or handle.record.error:
                handle.stop(timeout=2)
        except Exception as e:  # keep cleaning the others
            print(f"teardown: could not stop {handle.name}: {e}")
    # Nothing started by this test's registry may outlive it.
    leftovers = [p for p in processes_with_env("SYFT_PM_HOME", str(h)) if p.pid != os.getpid()]
    for p in leftovers:
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
        if any("syft_pm.supervisor" in c for c in cmd) or "SYFT_PM_RUN_ID" in p.environ():
            p.kill()
            raise AssertionError(f"process leaked past the test: {p.pid} {cmd}")


@pytest.fixture
def pm(home: Path) -> ProcessManager:
    return ProcessManager(home)


@pytest.fixture
def unrelated_sleep() -> Iterator[subprocess.Popen[bytes]]:
    """A process that is not ours; tests check that syft_pm never touches it."""
    p = subprocess.Popen(["sleep", "300"])
    yield p
    p.send_signal(signal.SIGKILL)
    p.wait()
