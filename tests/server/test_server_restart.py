"""Managed processes outlive a killed Jupyter server and are controllable after it restarts."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from serverproc import ServerProcess

from syft_pm.manager import ProcessManager

PY = sys.executable


@pytest.mark.timeout(180)
def test_processes_survive_a_killed_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pm = ProcessManager(home)
    server = ServerProcess(tmp_path, home)
    server.start()
    try:
        for name in ("alpha", "beta"):
            server_list = pm.run(name, [PY, "-c", "import time; time.sleep(300)"])
            assert server_list.is_running()
        pids = {p["name"]: p["pid"] for p in server.call("processes")["processes"]}
        assert set(pids) == {"alpha", "beta"}

        server.kill()
        assert all(pm.get(n).is_running() for n in pids), "a server kill must not stop processes"

        server.start()
        after = {p["name"]: p for p in server.call("processes")["processes"]}
        assert {n: p["pid"] for n, p in after.items()} == pids
        assert all(p["status"] == "running" for p in after.values())
        assert server.call("processes/alpha/stop", "POST", {})["status"] == "stopped"
        assert pm.get("alpha").status == "stopped" and pm.get("beta").is_running()
    finally:
        server.stop()
        for h in pm.list():
            h.stop(timeout=3)
