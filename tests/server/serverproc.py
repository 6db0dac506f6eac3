"""A real ``jupyter server`` in a subprocess, with syft_pm enabled and token auth on.

Shared by the server-restart test and ``bench/bench_server.py``: both need the server as
a separate process (one to kill it, the other to measure it from outside its loop).
"""

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(
        self,
        base: Path,
        home: Path,
        *,
        extensions: dict[str, bool] | None = None,
        env: dict[str, str] | None = None,
        args: list[str] | None = None,
    ) -> None:
        self.base, self.home = base, home
        self.args = list(args or [])
        self.port = free_port()
        self.token = uuid.uuid4().hex
        self.extensions = extensions or {"syft_pm": True}
        self.extra_env = env or {}
        self.log = base / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        """Start on ``self.port`` (the same port again after a kill) and wait for it."""
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
            f"--ServerApp.jpserver_extensions={self.extensions!r}",
        ]
        if os.geteuid() == 0:
            cmd.append("--allow-root")
        cmd += self.args
        env = {
            **os.environ,
            "SYFT_PM_HOME": str(self.home),
            "JUPYTER_RUNTIME_DIR": str(self.base / "rt"),
            **self.extra_env,
        }
        self.proc = subprocess.Popen(
            cmd, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, env=env
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text()[-3000:])
            try:
                self.request("/syft-pm/api/status")
                return
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def request(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """An authenticated JSON request to ``path`` (absolute, from the server root)."""
        if body is None and method == "POST":
            body = {}
        req = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    def call(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """A request under ``/syft-pm/api/``."""
        return self.request(f"/syft-pm/api/{path}", method, body)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
