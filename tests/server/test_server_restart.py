"""Managed processes outlive a killed Jupyter server and are controllable after it restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from syft_pm.manager import ProcessManager

PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, base: Path, home: Path) -> None:
        self.port = free_port()
        self.token = uuid.uuid4().hex
        self.base, self.home = base, home
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        jupyter = Path(sys.executable).with_name("jupyter")
        cmd = [
            str(jupyter),
            "server",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.allow_unauthenticated_access=False",
            f"--ServerApp.root_dir={self.base}",
            "--ServerApp.jpserver_extensions={'syft_pm': True}",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        env = {
            **os.environ,
            "SYFT_PM_HOME": str(self.home),
            "JUPYTER_RUNTIME_DIR": str(self.base / "rt"),
        }
        log = (self.base / "server.log").open("ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError((self.base / "server.log").read_text()[-2000:])
            try:
                self.call("status")
                return
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def call(self, path: str, method: str = "GET", body: Any = None) -> Any:
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/syft-pm/api/{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=15) as r:
            return json.loads(r.read())

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.mark.timeout(180)
def test_processes_survive_a_killed_server(tmp_path: Path) -> None:
    home = tmp_path / "home"
    pm = ProcessManager(home)
    server = Server(tmp_path, home)
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
        if server.proc and server.proc.poll() is None:
            server.proc.terminate()
            server.proc.wait(20)
        for h in pm.list():
            h.stop(timeout=3)
