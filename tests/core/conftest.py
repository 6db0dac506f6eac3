"""Fixtures for the core tests: a private registry per test, and condition waits.

Every test gets its own ``SYFT_PM_HOME``; on teardown every process of that registry is
stopped (and checked gone), so nothing leaks between tests or out of the suite.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pmtest import processes_with_env, supervisors_under, wait_for

from syft_pm.manager import ProcessManager
from syft_pm.status import ACTIVE_STATUSES


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

    # Nothing started by this test's registry may outlive it. A supervisor whose child
    # has just exited may still be writing its final record: give it a moment to finish
    # (waiting on the condition), then everything left is a leak.
    def ours() -> list[psutil.Process]:
        found = supervisors_under(h)
        for p in processes_with_env("SYFT_PM_HOME", str(h)):
            if p.pid == os.getpid():
                continue
            try:
                cmd = p.cmdline()
                if any("syft_pm.supervisor" in c for c in cmd) or "SYFT_PM_RUN_ID" in p.environ():
                    found.append(p)
            except psutil.Error:
                continue
        return found

    with contextlib.suppress(AssertionError):
        wait_for(lambda: not ours(), timeout=5, what="supervisors to finish")
    leftovers = ours()
    for p in leftovers:
        try:
            cmd = p.cmdline()
        except psutil.Error:
            continue
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
