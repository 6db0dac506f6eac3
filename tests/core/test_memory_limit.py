"""max_memory (issue 14): a real process that allocates past its limit is restarted (or
stopped with restart="no"), with the reason recorded."""

from __future__ import annotations

import pytest
from pmtest import PY, wait_for

from syft_pm.limits import format_size, memory_reason, parse_memory
from syft_pm.live.protocol import process_state
from syft_pm.manager import ProcessManager
from syft_pm.spec import SpecError

# Allocates 120 MiB (touched, so resident) after a moment, then sleeps.
HOG = (
    "import time; time.sleep(0.3); b = bytearray(120 * 1024 * 1024); "
    "print('allocated', flush=True); time.sleep(60)"
)


def test_sizes() -> None:
    assert parse_memory("2G") == 2 * 1024**3
    assert parse_memory("512M") == 512 * 1024**2
    assert parse_memory("1.5GiB") == int(1.5 * 1024**3)
    assert parse_memory(10_000_000) == 10_000_000
    for bad in ("lots", "2X", True, "10"):
        with pytest.raises(ValueError, match="max_memory"):
            parse_memory(bad)
    assert format_size(2 * 1024**3) == "2 GiB"
    assert memory_reason(2 * 1024**3, int(2.3 * 1024**3)) == (
        "memory limit 2 GiB exceeded: 2.3 GiB"
    )


def test_bad_limit_starts_nothing(pm: ProcessManager) -> None:
    with pytest.raises(SpecError, match="max_memory"):
        pm.run("x", [PY, "-c", "pass"], max_memory="a lot")
    assert pm.list() == []


def test_stopped_past_the_limit_without_restart_policy(pm: ProcessManager) -> None:
    h = pm.run("hog", [PY, "-c", HOG], max_memory="64M")
    wait_for(lambda: h.status == "stopped", timeout=30, what="the hog to be stopped")
    st = h.state
    assert st["stop_reason"] == "memory"
    assert st["reason"].startswith("memory limit 64 MiB exceeded: 1")
    assert not h.is_running()


def test_restarted_past_the_limit_and_reason_kept(pm: ProcessManager) -> None:
    h = pm.run("hog", [PY, "-c", HOG], max_memory="64M", restart="always")
    first_pid = h.pid
    wait_for(lambda: h.restarts >= 1, timeout=30, what="a restart for memory")
    st = h.state
    assert st["restart_reason"].startswith("memory limit 64 MiB exceeded: ")
    wire = process_state(h.record)
    assert wire["restart_reason"] == st["restart_reason"] and wire["max_memory"] == 64 << 20
    wait_for(lambda: h.status == "running" and h.pid != first_pid, what="the new run")
    h.stop()


def test_too_big_from_the_start_gives_up_like_a_crash_loop(pm: ProcessManager) -> None:
    h = pm.run(
        "hog",
        [PY, "-c", HOG],
        max_memory="64M",
        restart="always",
        max_restarts=1,
        backoff={"initial": 0.1},
    )
    wait_for(lambda: h.status == "failed", timeout=40, what="the supervisor to give up")
    st = h.state
    assert st["restarts"] == 1
    assert st["reason"].startswith("gave up after 1 restarts (last: memory limit 64 MiB exceeded")
