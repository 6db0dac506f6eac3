"""The syft-pm CLI, run as a separate process like a user would."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pmtest import PY

from syft_pm.manager import ProcessManager


def cli(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_run_list_info_logs_stop_rm(pm: ProcessManager) -> None:
    home = pm.home
    r = cli(
        home,
        "run",
        "web",
        "--env",
        "GREETING=hi",
        "--label",
        "k=v",
        "--",
        "sh",
        "-c",
        "echo $GREETING; echo err >&2; sleep 60",
    )
    assert r.returncode == 0, r.stderr
    assert "web: running, pid" in r.stdout
    h = pm.get("web")
    assert h.is_running() and h.labels == {"k": "v"}

    r = cli(home, "list")
    assert r.returncode == 0
    header, row = r.stdout.splitlines()[:2]
    for col in ("NAME", "STATUS", "PID", "UPTIME", "CPU", "MEM", "PORTS", "RESTARTS"):
        assert col in header
    assert row.split()[:3] == ["web", "running", str(h.pid)]
    data = json.loads(cli(home, "list", "--json").stdout)
    assert data[0]["name"] == "web" and data[0]["metrics"]["rss_bytes"] > 0

    r = cli(home, "info", "web")
    assert r.returncode == 0 and "status" in r.stdout and "running" in r.stdout
    assert json.loads(cli(home, "info", "web", "--json").stdout)["pid"] == h.pid

    from pmtest import wait_for

    wait_for(lambda: cli(home, "logs", "web").stdout == "hi\n", what="stdout line")
    assert cli(home, "logs", "web", "--stderr").stdout == "err\n"
    stamped = cli(home, "logs", "web", "--timestamps", "-n", "1").stdout
    assert stamped.endswith("Z hi\n") and len(stamped) == 24 + 1 + 3

    r = cli(home, "stop", "web", "--timeout", "2")
    assert r.returncode == 0 and "stopped" in r.stdout
    assert h.status == "stopped"
    r = cli(home, "rm", "web")
    assert r.returncode == 0
    assert not pm.registry.exists("web")


def test_restart_and_follow(pm: ProcessManager) -> None:
    home = pm.home
    assert (
        cli(
            home, "run", "job", "--", "sh", "-c", "for i in 1 2 3; do echo $i; sleep 0.1; done"
        ).returncode
        == 0
    )
    r = cli(home, "logs", "job", "-f", "-n", "100")
    assert r.returncode == 0
    assert r.stdout.split() == ["1", "2", "3"]
    pid_before = pm.get("job").pid
    r = cli(home, "restart", "job")
    assert r.returncode == 0, r.stderr
    assert pm.get("job").pid != pid_before
    pm.get("job").wait(10)


def test_errors_are_one_line(pm: ProcessManager) -> None:
    home = pm.home
    cases = [
        (("stop", "nope"), 1, "no process named 'nope'"),
        (("logs", "nope"), 1, "no process named"),
        (("run", "../bad", "--", "true"), 1, "invalid process name"),
        (("run", "x", "--", "no-such-binary-xyz"), 1, "not found on PATH"),
        (("run", "x", "--cwd", "/nonexistent", "--", "true"), 1, "does not exist"),
        (("run", "x"), 1, "no command given"),
        (("run", "x", "--env", "NOEQUALS", "--", "true"), 1, "KEY=VALUE"),
        (("frobnicate",), 2, "invalid choice"),
        (("stop",), 2, "required"),
        (("run", "x", "--ttl", "soon", "--", "true"), 2, "invalid float"),
        (("run", "x", "--cpus", "2", "--", "true"), 1, "--cpus, --memory, --gpus"),
        (("run", "x", "--partition", "p", "--", "true"), 1, "need a scheduler: add --runner slurm"),
    ]
    for args, code, msg in cases:
        r = cli(home, *args)
        assert r.returncode == code, (args, r.stderr)
        assert r.stderr.startswith("syft-pm: error: "), r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert msg in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr
    assert cli(home, "run", "dup", "--", "sleep", "60").returncode == 0
    r = cli(home, "run", "dup", "--", "sleep", "61")
    # The shell's spelling, not the Python API's (if_exists='replace', force=True).
    assert r.returncode == 1 and "add --replace to stop it" in r.stderr, r.stderr
    r = cli(home, "run", "dup", "--replace", "--", "sleep", "61")
    assert r.returncode == 0, r.stderr
    r = cli(home, "rm", "dup")
    assert r.returncode == 1 and "stop it first or add --force" in r.stderr, r.stderr
    assert cli(home, "rm", "dup", "--force").returncode == 0


def test_empty_registry(tmp_path: Path) -> None:
    r = cli(tmp_path / "empty", "list")
    assert r.returncode == 0 and "no processes" in r.stdout
    assert json.loads(cli(tmp_path / "empty", "list", "--json").stdout) == []
