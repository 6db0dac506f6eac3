"""Stacks (issue 14): a two-level stack of real servers from a TOML file, started in
dependency order, idempotent, stopped in reverse; bad files start nothing."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from pmtest import PY

import syft_pm
from syft_pm.manager import ProcessManager
from syft_pm.stack import StackError, load, up


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Listens only after a delay, so "ready" and "started" differ.
SERVER = """
import http.server, sys, time
time.sleep(float(sys.argv[2]))
handler = http.server.SimpleHTTPRequestHandler
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), handler).serve_forever()
"""


def write_stack(tmp_path: Path) -> tuple[Path, int, int]:
    (tmp_path / "server.py").write_text(SERVER)
    db, api = free_port(), free_port()
    f = tmp_path / "shop.toml"
    f.write_text(
        f"""
[processes.api]
cmd = ["{PY}", "server.py", "{api}", "0.2"]
ready = {{port = {api}}}
depends_on = {{db = "ready", migrate = "completed"}}

[processes.migrate]
cmd = ["{PY}", "-c", "print('migrated')"]
depends_on = {{db = "ready"}}

[processes.db]
cmd = ["{PY}", "server.py", "{db}", "0.7"]
ready = {{port = {db}}}
"""
    )
    return f, db, api


def test_two_level_stack_up_and_down(home: Path, tmp_path: Path) -> None:
    f, _, api_port = write_stack(tmp_path)
    assert load(f).order == ["db", "migrate", "api"]
    handles = syft_pm.up(f)
    assert [h.name for h in handles] == ["db", "migrate", "api"]
    db, migrate, api = (syft_pm.get(n) for n in ("db", "migrate", "api"))
    # api started only after db was ready and migrate completed.
    assert db.ready_at is not None and api.state["started_at"] >= db.ready_at
    assert migrate.status == "exited" and migrate.stdout.tail(1) == ["migrated"]
    assert api.state["started_at"] >= migrate.state["ended_at"]
    assert all(h.labels["stack"] == "shop" for h in handles)
    api.wait_ready(timeout=30)
    socket.create_connection(("127.0.0.1", api_port), timeout=2).close()

    # Idempotent: nothing restarted, the one-shot not run again.
    pids = {n: syft_pm.get(n).state["pid"] for n in ("db", "migrate", "api")}
    up(f)
    assert {n: syft_pm.get(n).state["pid"] for n in pids} == pids
    assert migrate.stdout.tail(5) == ["migrated"]

    stopped = syft_pm.down(f)
    assert [h.name for h in stopped] == ["api", "migrate", "db"]
    assert db.status == "stopped" and api.status == "stopped"
    assert api.state["ended_at"] <= db.state["ended_at"]


def test_cycle_and_unknown_dependency_start_nothing(pm: ProcessManager, tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text(
        f"""
[processes.a]
cmd = ["{PY}", "-c", "pass"]
depends_on = {{b = "started"}}
[processes.b]
cmd = ["{PY}", "-c", "pass"]
depends_on = {{c = "ready"}}
[processes.c]
cmd = ["{PY}", "-c", "pass"]
depends_on = {{a = "completed"}}
"""
    )
    with pytest.raises(StackError, match=r"dependency cycle: a -> b -> c -> a"):
        up(f, pm)
    f.write_text(
        f"""
[processes.a]
cmd = ["{PY}", "-c", "pass"]
[processes.b]
cmd = ["{PY}", "-c", "pass"]
depends_on = {{dbb = "ready"}}
"""
    )
    with pytest.raises(StackError, match=r"b depends on 'dbb', which is not in the file"):
        up(f, pm)
    f.write_text(
        f"""
[processes.a]
cmd = ["{PY}", "-c", "pass"]
[processes.b]
cmd = ["no-such-program-xyz"]
"""
    )
    with pytest.raises(StackError, match=r"processes\.b: executable 'no-such-program-xyz'"):
        up(f, pm)
    f.write_text('[processes.a]\ncmd = ["true"]\nrestrat = "always"\n')
    with pytest.raises(StackError, match=r"unknown key\(s\) \['restrat'\]"):
        up(f, pm)
    assert pm.list() == []


def test_failed_completion_stops_the_dependents(pm: ProcessManager, tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(
        f"""
[processes.migrate]
cmd = ["{PY}", "-c", "import sys; sys.exit(4)"]
[processes.api]
cmd = ["{PY}", "-c", "pass"]
depends_on = {{migrate = "completed"}}
"""
    )
    with pytest.raises(StackError, match="api needs migrate to complete, but it failed"):
        up(f, pm)
    assert [h.name for h in pm.list()] == ["migrate"]


def test_cli_up_list_down(home: Path, tmp_path: Path) -> None:
    f, _, _ = write_stack(tmp_path)
    cli = [PY, "-m", "syft_pm.cli", "--home", str(home)]
    out = subprocess.run([*cli, "up", "-f", str(f)], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[0].startswith("db: running")
    listed = subprocess.run(
        [*cli, "list", "--label", "stack=shop"], capture_output=True, text=True, check=True
    )
    assert {ln.split()[0] for ln in listed.stdout.splitlines()[1:]} == {"db", "migrate", "api"}
    out = subprocess.run([*cli, "down", "-f", str(f)], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["api: stopped", "migrate: exited", "db: stopped"]


def test_cli_up_names_what_changed_in_the_shells_terms(home: Path, tmp_path: Path) -> None:
    f = tmp_path / "s.toml"
    f.write_text(f'[processes.web]\ncmd = ["{PY}", "-c", "import time; time.sleep(60)"]\n')
    cli = [PY, "-m", "syft_pm.cli", "--home", str(home)]
    subprocess.run([*cli, "up", "-f", str(f)], capture_output=True, text=True, check=True)
    f.write_text(f'[processes.web]\ncmd = ["{PY}", "-c", "import time; time.sleep(61)"]\n')
    out = subprocess.run([*cli, "up", "-f", str(f)], capture_output=True, text=True)
    assert out.returncode == 1, out
    assert "with a different configuration (changed: cmd); stop it first" in out.stderr
    assert "if_exists" not in out.stderr
    subprocess.run([*cli, "down", "-f", str(f)], capture_output=True, text=True, check=True)
