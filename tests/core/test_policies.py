"""Restart policy with backoff and giving up; TTL across restarts."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

from pmtest import PY, wait_for

from syft_pm.manager import ProcessManager

FAST = {"initial": 0.1, "factor": 2.0, "max": 0.4, "reset_after": 30.0}


def test_on_failure_backs_off_then_gives_up(pm: ProcessManager, tmp_path: Path) -> None:
    marks = tmp_path / "starts"
    h = pm.run(
        "flaky",
        ["sh", "-c", f"date +%s.%N >> {marks}; exit 3"],
        restart="on-failure",
        max_restarts=3,
        backoff=FAST,
    )
    assert h.wait(20) == 3
    assert h.status == "failed"
    assert h.restarts == 3
    assert h.reason is not None and "gave up after 3 restarts" in h.reason
    starts = [float(x) for x in marks.read_text().split()]
    assert len(starts) == 4
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # 0.1, 0.2, 0.4 (capped at max): each gap at least its backoff, and growing
    for gap, want in zip(gaps, [0.1, 0.2, 0.4], strict=True):
        assert gap >= want * 0.9, gaps
    assert gaps[2] > gaps[0]


def test_on_failure_does_not_restart_a_success(pm: ProcessManager) -> None:
    h = pm.run("fine", ["true"], restart="on-failure", backoff=FAST)
    assert h.wait(10) == 0
    assert h.status == "exited" and h.restarts == 0


def test_always_restarts_and_reports_backoff(pm: ProcessManager, tmp_path: Path) -> None:
    marks = tmp_path / "starts"
    h = pm.run(
        "loop",
        ["sh", "-c", f"echo x >> {marks}; exit 0"],
        restart="always",
        max_restarts=None,
        backoff={"initial": 0.5, "factor": 1.0, "max": 0.5, "reset_after": 30.0},
    )
    wait_for(lambda: h.restarts >= 2, timeout=15, what="two restarts")
    st = wait_for(lambda: (s := h.refresh().record.state)["next_restart_at"] and s, what="backoff")
    assert st["status"] == "starting" and "restarting in" in st["reason"]
    h.stop()
    assert h.status == "stopped"
    n = len(marks.read_text().split())
    assert n >= 3


def test_backoff_resets_after_a_stable_run(pm: ProcessManager, tmp_path: Path) -> None:
    marks = tmp_path / "starts"
    # each run lasts ~0.3 s, longer than reset_after: the consecutive count never grows
    h = pm.run(
        "stable",
        ["sh", "-c", f"echo x >> {marks}; sleep 0.3; exit 1"],
        restart="on-failure",
        max_restarts=1,
        backoff={"initial": 0.05, "factor": 2.0, "max": 1.0, "reset_after": 0.2},
    )
    wait_for(lambda: h.restarts >= 3, timeout=15, what="restarts beyond max_restarts")
    assert h.status in ("running", "starting")
    h.stop()


def test_ttl_stops_the_process(pm: ProcessManager) -> None:
    t0 = time.monotonic()
    h = pm.run("short", ["sleep", "60"], ttl=0.5)
    h.wait(10)
    elapsed = time.monotonic() - t0
    assert 0.4 < elapsed < 8
    assert h.status == "stopped"
    assert h.record.state["stop_reason"] == "ttl"
    assert "TTL" in (h.reason or "")


def test_ttl_spans_restarts(pm: ProcessManager) -> None:
    h = pm.run(
        "ttl-restarts",
        [PY, "-c", "import time; time.sleep(0.2); raise SystemExit(1)"],
        restart="always",
        max_restarts=None,
        backoff={"initial": 0.05, "factor": 1.0, "max": 0.05, "reset_after": 30.0},
        ttl=1.5,
    )
    h.wait(15)
    assert h.status == "stopped" and h.record.state["stop_reason"] == "ttl"
    assert h.restarts >= 1
