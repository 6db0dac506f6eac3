"""Health probes of each kind, self-reports, staleness, and the status they drive."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest
from pmtest import PY, wait_for

import syft_pm
from syft_pm.health import (
    HealthMonitor,
    HealthSpecError,
    NotManagedError,
    read_health,
    validate_health,
)
from syft_pm.manager import ProcessManager

FAST = {"interval": 0.1, "timeout": 1.0, "failures": 2}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_validation_messages() -> None:
    assert validate_health(None) is None
    spec = validate_health({"type": "tcp", "port": 80})
    assert spec is not None and spec["interval"] == 10.0 and spec["failures"] == 3
    assert spec["host"] == "127.0.0.1"
    with pytest.raises(HealthSpecError, match="unknown key"):
        validate_health({"type": "tcp", "port": 80, "intervl": 1})
    with pytest.raises(HealthSpecError, match="interval"):
        validate_health({"type": "tcp", "port": 80, "interval": -1})
    with pytest.raises(HealthSpecError, match="cmd"):
        validate_health({"type": "command", "cmd": "true"})
    with pytest.raises(HealthSpecError, match="failures"):
        validate_health({"type": "report", "failures": 0})


def test_http_probe(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    h = pm.run(
        "web",
        [PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=tmp_path,
        health={"type": "http", "url": f"http://127.0.0.1:{port}/", **FAST},
    )
    rec = wait_for(lambda: (x := h.health) and x["status"] == "healthy" and x, what="healthy")
    assert rec["source"] == "probe:http" and rec["schema"] == 1
    assert rec["consecutive_failures"] == 0 and rec["checked_at"] > 0
    assert h.status == "running"
    assert port in wait_for(lambda: h.info()["metrics"]["ports"], what="listening port")


def test_http_probe_failing_makes_unhealthy(pm: ProcessManager) -> None:
    port = free_port()
    h = pm.run(
        "no-web",
        ["sleep", "60"],
        health={"type": "http", "url": f"http://127.0.0.1:{port}/", **FAST},
    )
    # state.json and health.json are two files: wait until both say so.
    wait_for(
        lambda: h.status == "unhealthy" and h.health is not None,
        what="unhealthy, with its health record",
    )
    assert h.health is not None and h.health["consecutive_failures"] >= 2
    assert "health check failing" in (h.reason or "")


def test_tcp_probe_recovers(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    gate = tmp_path / "go"
    code = (
        "import os, socket, sys, time\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.02)\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
        "while True: s.accept()[0].close()\n"
    )
    h = pm.run(
        "tcp",
        [PY, "-c", code, str(port), str(gate)],
        health={"type": "tcp", "port": port, **FAST},
    )
    wait_for(lambda: h.status == "unhealthy", what="unhealthy before listening")
    gate.touch()
    wait_for(
        lambda: h.status == "running" and (h.health or {}).get("status") == "healthy",
        what="recovery",
    )
    assert h.health is not None and h.health["source"] == "probe:tcp"


def test_command_probe(pm: ProcessManager, tmp_path: Path) -> None:
    flag = tmp_path / "ok"
    flag.touch()
    h = pm.run(
        "cmd",
        ["sleep", "60"],
        health={"type": "command", "cmd": ["test", "-e", str(flag)], **FAST},
    )
    wait_for(lambda: (h.health or {}).get("status") == "healthy", what="healthy")
    assert h.health is not None and h.health["source"] == "probe:command"
    flag.unlink()
    wait_for(lambda: h.status == "unhealthy", what="unhealthy")
    assert "exited 1" in h.health["message"]  # type: ignore[index]


def test_command_probe_timeout(pm: ProcessManager) -> None:
    h = pm.run(
        "cmd-slow",
        ["sleep", "60"],
        health={
            "type": "command",
            "cmd": ["sleep", "30"],
            "interval": 0.1,
            "timeout": 0.2,
            "failures": 1,
        },
    )
    wait_for(lambda: h.status == "unhealthy", what="unhealthy")
    assert "timed out" in (h.health or {}).get("message", "")


def test_report_health_and_staleness(pm: ProcessManager, tmp_path: Path) -> None:
    gate = tmp_path / "report"
    code = (
        "import os, sys, time, syft_pm\n"
        "while True:\n"
        "    if os.path.exists(sys.argv[1]):\n"
        "        syft_pm.report_health('healthy', {'queue': 3}, message='fine')\n"
        "    time.sleep(0.05)\n"
    )
    h = pm.run(
        "reporter",
        [PY, "-c", code, str(gate)],
        health={"type": "report", "stale_after": 0.6, "interval": 0.1},
    )
    # no report at all within stale_after -> unhealthy
    wait_for(lambda: h.status == "unhealthy", what="unhealthy without reports")
    assert "no health report" in (h.health or {}).get("message", "")
    gate.touch()
    rec = wait_for(
        lambda: h.status == "running" and (x := h.health) and x["status"] == "healthy" and x,
        what="healthy",
    )
    assert rec["source"] == "report" and rec["details"] == {"queue": 3} and rec["message"] == "fine"
    gate.unlink()  # reports stop: stale
    wait_for(lambda: h.status == "unhealthy", what="stale")
    assert "old" in (h.health or {}).get("message", "")


def test_report_unhealthy_self_report(pm: ProcessManager) -> None:
    code = (
        "import time, syft_pm\n"
        "while True:\n"
        "    syft_pm.report_health(False, {'why': 'db down'})\n"
        "    time.sleep(0.05)\n"
    )
    h = pm.run(
        "sad", [PY, "-c", code], health={"type": "report", "stale_after": 5, "interval": 0.1}
    )
    wait_for(lambda: h.status == "unhealthy", what="unhealthy")
    assert (h.health or {}).get("consecutive_failures", 0) >= 1


def test_report_health_outside_a_managed_process(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SYFT_PM_PROCESS_DIR", raising=False)
    with pytest.raises(NotManagedError, match="SYFT_PM_PROCESS_DIR"):
        syft_pm.report_health("healthy")
    monkeypatch.setenv("SYFT_PM_PROCESS_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="healthy"):
        syft_pm.report_health("great")
    with pytest.raises(TypeError, match="JSON"):
        syft_pm.report_health("healthy", {"x": object()})
    rec = syft_pm.report_health("healthy", {"a": 1})
    assert json.loads((tmp_path / "health.json").read_text()) == rec
    assert os.stat(tmp_path / "health.json").st_mode & 0o777 == 0o600


def test_stop_does_not_wait_for_a_probe_in_flight(pm: ProcessManager, tmp_path: Path) -> None:
    marker = tmp_path / "probe.pid"
    h = pm.run(
        "probing",
        ["sleep", "60"],
        health={
            "type": "command",
            "cmd": ["sh", "-c", f"echo $$ > {marker}.tmp; mv {marker}.tmp {marker}; exec sleep 30"],
            "interval": 0.1,
            "timeout": 20,
        },
    )
    probe = psutil.Process(
        int(wait_for(lambda: marker.exists() and marker.read_text(), what="probe"))
    )
    t0 = time.monotonic()
    h.stop()
    assert time.monotonic() - t0 < 5
    assert h.status == "stopped"
    # the probe's own process went with the tree
    wait_for(
        lambda: not probe.is_running() or probe.status() == psutil.STATUS_ZOMBIE, what="probe gone"
    )


@pytest.mark.parametrize("kind", ["command", "report"])
def test_the_record_is_written_before_the_supervisor_is_told(tmp_path: Path, kind: str) -> None:
    """Whoever sees ``unhealthy`` in state.json (written when the supervisor is woken)
    must find health.json saying why, not an older record or none."""
    spec = validate_health(
        {"type": "command", "cmd": ["false"], "interval": 0.05, "timeout": 1, "failures": 1}
        if kind == "command"
        else {"type": "report", "stale_after": 0.1, "interval": 0.05}
    )
    assert spec is not None
    seen: list[dict | None] = []
    woken = threading.Event()

    def on_change() -> None:
        seen.append(read_health(str(tmp_path)))
        woken.set()

    monitor = HealthMonitor(spec, str(tmp_path), on_change, lambda cmd, timeout: 1)
    monitor.start()
    monitor.child_started(time.time())
    try:
        assert woken.wait(10)
    finally:
        monitor.close()
    assert monitor.verdict()[0] == "unhealthy"
    assert seen[0] is not None and seen[0]["status"] == "unhealthy", seen
