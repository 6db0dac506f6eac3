"""Readiness (issue 14): a real HTTP server that takes a while to listen, a log line, a
port; wait_ready() returns once usable and raises with the last log lines otherwise."""

from __future__ import annotations

import socket
import time
import urllib.request
from pathlib import Path

import pytest
from pmtest import PY

from syft_pm.live.protocol import process_state
from syft_pm.manager import ProcessManager
from syft_pm.ready import ProcessNotReadyError, validate_ready
from syft_pm.spec import SpecError


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# A server that prints, sleeps, then listens: ready only after the sleep.
SLOW_SERVER = """
import http.server, sys, time
print("booting", flush=True)
time.sleep(float(sys.argv[2]))
srv = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), http.server.SimpleHTTPRequestHandler)
print("listening on", sys.argv[1], flush=True)
srv.serve_forever()
"""


def slow_server(tmp_path: Path, port: int, delay: float) -> list[str]:
    script = tmp_path / "slow_server.py"
    script.write_text(SLOW_SERVER)
    return [PY, str(script), str(port), str(delay)]


def test_validation() -> None:
    assert validate_ready({"port": 80}, None) == {"port": 80, "host": "127.0.0.1"}
    with pytest.raises(ValueError, match="exactly one of"):
        validate_ready({"port": 80, "log": "x"}, None)
    with pytest.raises(ValueError, match="needs a health check"):
        validate_ready({"health": True}, None)
    with pytest.raises(ValueError, match="regular expression"):
        validate_ready({"log": "("}, None)


def test_bad_ready_spec_starts_nothing(pm: ProcessManager) -> None:
    with pytest.raises(SpecError, match="port"):
        pm.run("x", [PY, "-c", "pass"], ready={"port": "8000"})
    with pytest.raises(SpecError, match="wait"):
        pm.run("x", [PY, "-c", "pass"], wait="soon")
    assert pm.list() == []


def test_http_ready_then_used_in_the_next_cell(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    h = pm.run("web", slow_server(tmp_path, port, 1.0), cwd=tmp_path, ready={"http": url})
    # Starting until the server answers: every surface reads this from state.json.
    assert h.status == "starting" and h.ready_at is None
    assert h.reason == "waiting until ready"
    assert h.wait_ready(timeout=30) is h
    assert h.status == "running"
    ready_at = h.ready_at
    assert ready_at is not None and ready_at >= h.state["started_at"]
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.status == 200
    assert h.info()["state"]["ready_at"] == ready_at
    assert process_state(h.record)["ready_at"] == ready_at  # what the views get


def test_run_wait_ready_blocks_until_ready(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    t0 = time.monotonic()
    h = pm.run("web", slow_server(tmp_path, port, 0.8), ready={"port": port}, wait="ready")
    assert time.monotonic() - t0 >= 0.8
    assert h.status == "running" and h.ready_at is not None
    socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_log_ready(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    h = pm.run("web", slow_server(tmp_path, port, 0.3), ready={"log": r"listening on \d+"})
    h.wait_ready(timeout=30)
    assert any("listening on" in ln for ln in h.stdout.tail(5))


def test_exit_before_ready_raises_with_the_logs(pm: ProcessManager) -> None:
    code = "import sys; print('config file missing', file=sys.stderr); sys.exit(3)"
    h = pm.run("bad", [PY, "-c", code], ready={"port": free_port()})
    with pytest.raises(ProcessNotReadyError, match=r"(?s)never ready.*config file missing"):
        h.wait_ready(timeout=30)


def test_timeout_raises_and_is_recorded(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    h = pm.run(
        "slow",
        [PY, "-c", "import time; print('still booting', flush=True); time.sleep(60)"],
        ready={"port": port},
        ready_timeout=0.5,
    )
    with pytest.raises(ProcessNotReadyError, match=r"(?s)not ready after 0\.5s.*still booting"):
        h.wait_ready()
    from pmtest import wait_for

    wait_for(lambda: "not ready after 0.5s" in (h.reason or ""), what="the supervisor's note")
    assert h.status == "starting"


def test_wait_ready_without_spec_waits_for_a_port(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    h = pm.run("web", slow_server(tmp_path, port, 0.5))
    assert h.status == "running"  # no ready spec: running as soon as it started
    h.wait_ready(timeout=30)
    socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_ready_survives_restart_of_the_config(pm: ProcessManager, tmp_path: Path) -> None:
    port = free_port()
    h = pm.run("web", slow_server(tmp_path, port, 0.2), ready={"port": port}, wait="ready")
    first = h.ready_at
    h.restart()
    assert h.config["ready"] == {"port": port, "host": "127.0.0.1"}
    h.wait_ready(timeout=30)
    assert h.ready_at is not None and first is not None and h.ready_at > first


def test_cli_run_wait_ready(home: Path, tmp_path: Path) -> None:
    import subprocess

    port = free_port()
    cli = [PY, "-m", "syft_pm.cli", "--home", str(home)]
    server = slow_server(tmp_path, port, 0.5)
    out = subprocess.run(
        [*cli, "run", "web", "--ready-port", str(port), "--wait-ready", "--", *server],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.startswith("web: running, pid ") and ", ready at " in out.stdout
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    info = subprocess.run(
        [*cli, "info", "web"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"(when port {port})" in info.stdout


def test_run_function_wait_ready(pm: ProcessManager) -> None:
    import functools
    import http.server

    port = free_port()
    serve = functools.partial(http.server.test, port=port, bind="127.0.0.1")
    h = pm.run_function(serve, name="fn-web", ready={"port": port}, wait="ready")
    assert h.status == "running" and h.ready_at is not None
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
