"""Helpers shared by the core tests (a module of its own: ``conftest`` is not a unique
module name once several test folders have one)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

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


def supervisors_under(root: Path | str) -> list[psutil.Process]:
    """Processes holding the lifetime lock (``supervisor.lock``) of an entry at or under
    ``root``: how a supervisor is found however it was started. One forked by the fork
    server carries the server's command line and initial environment, not its entry's."""
    prefix = str(root).rstrip(os.sep) + os.sep
    out = []
    for pid in (int(n) for n in os.listdir("/proc") if n.isdigit()):
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith(prefix) and target.endswith(f"{os.sep}supervisor.lock"):
                try:
                    p = psutil.Process(pid)
                    if p.status() != psutil.STATUS_ZOMBIE:
                        out.append(p)
                except psutil.Error:
                    pass
                break
    return out


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
