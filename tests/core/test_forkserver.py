"""Supervisors forked by the fork server: what they carry over from the caller, who may
ask for one, and what happens when the server is not there or not what it should be."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
from pathlib import Path

import psutil
import pytest
from pmtest import PY, supervisors_under, wait_for

import syft_pm
from syft_pm import forkserver, jsonlite
from syft_pm.manager import ProcessManager

PKG_PARENT = Path(syft_pm.__file__).resolve().parent.parent


def server_pid() -> int | None:
    """The fork server for this Python and code, if one runs. Its forks (supervisors)
    carry its command line too: the server is the one whose parent does not."""
    name = forkserver.address()[1:].decode()
    with_name = {
        p.pid: p.ppid()
        for p in psutil.process_iter(["cmdline"])
        if name in (p.info["cmdline"] or [])
    }
    servers = [pid for pid, ppid in with_name.items() if ppid not in with_name]
    return servers[0] if servers else None


def test_a_forked_supervisor_carries_the_callers_environment_umask_and_limits(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYFT_PM_TEST_MARK", "from-the-caller")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    old_mask = os.umask(0o027)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (333, hard))
        code = (
            "import os, resource\n"
            "m = os.umask(0); print(os.environ['SYFT_PM_TEST_MARK'], oct(m),"
            " resource.getrlimit(resource.RLIMIT_NOFILE)[0], flush=True)"
        )
        h = pm.run("carry", [PY, "-c", code])
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        os.umask(old_mask)
    assert h.wait(timeout=30) == 0
    assert h.stdout.tail(1) == ["from-the-caller 0o27 333"]
    assert server_pid() is not None, "started through the fork server"


def test_the_supervisor_log_is_its_stdout_and_stderr(pm: ProcessManager) -> None:
    h = pm.run("quiet", ["sleep", "300"])
    sup = h.state["supervisor_pid"]
    log = str(h.directory / "supervisor.log")
    assert os.readlink(f"/proc/{sup}/fd/1") == log and os.readlink(f"/proc/{sup}/fd/2") == log
    assert os.readlink(f"/proc/{sup}/fd/0") == "/dev/null"
    assert os.getsid(sup) == sup, "a session of its own"
    h.stop()


def test_supervisors_started_at_once_each_get_their_own(pm: ProcessManager) -> None:
    handles = {}

    def go(i: int) -> None:
        handles[i] = pm.run(f"p{i}", ["sleep", "300"])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sups = {h.state["supervisor_pid"] for h in handles.values()}
    assert len(sups) == 12
    assert {p.pid for p in supervisors_under(pm.home)} == sups
    for h in handles.values():
        h.stop()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to ask as another user")
def test_another_user_is_refused(pm: ProcessManager, tmp_path: Path) -> None:
    pm.run("warm", ["true"]).wait(timeout=30)  # a fork server is running
    assert server_pid() is not None
    pdir = pm.registry.process_dir("warm")
    code = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.settimeout(10)\n"
        "s.connect(bytes.fromhex(sys.argv[1]))\n"
        "r, w = os.pipe()\n"
        'req = b\'{"args": ["\' + sys.argv[2].encode() + b\'", "x"], "env": {}, "umask": 18}\\n\'\n'
        "try:\n"
        "    socket.send_fds(s, [req], [w])\n"
        "    print(repr(s.recv(100)))\n"
        "except (ConnectionResetError, BrokenPipeError):\n"
        "    print('reset')\n"
    )
    proc = subprocess.run(
        [PY, "-c", code, forkserver.address().hex(), str(pdir)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert out.strip() in ("b''", "reset"), "closed without an answer"
    assert supervisors_under(pm.home) == [], "nothing was forked for it"


def test_a_stranger_on_the_servers_name_makes_run_exec_its_supervisor(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something else listens where the fork server should: it takes the request and
    hangs up. Nothing was forked, so run() starts the supervisor itself."""
    name = b"\0syft-pm-test-stranger-%d" % os.getpid()
    monkeypatch.setattr(forkserver, "address", lambda: name)
    stranger = socket.socket(socket.AF_UNIX)
    stranger.bind(name)
    stranger.listen(4)
    got: list[bytes] = []

    def hang_up() -> None:
        conn, _ = stranger.accept()
        got.append(conn.recv(1 << 20))
        conn.close()

    t = threading.Thread(target=hang_up)
    t.start()
    try:
        h = pm.run("plain", ["sleep", "300"])
    finally:
        t.join(10)
        stranger.close()
    assert got and jsonlite.loads(got[0].splitlines()[0])["args"][1] == h.state["run_id"]
    assert psutil.Process(h.state["supervisor_pid"]).ppid() == os.getpid(), "exec'd by run()"
    h.stop()


def test_the_address_changes_with_the_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "syft_pm"
    pkg.mkdir()
    (pkg / "supervisor.py").write_text("x = 1\n")
    monkeypatch.setattr(forkserver, "PACKAGE_DIR", str(pkg))
    before = forkserver.address()
    assert forkserver.address() == before
    (pkg / "supervisor.py").write_text("x = 22\n")
    assert forkserver.address() != before
    assert before.startswith(b"\0syft-pm-fork-%d-" % os.getuid())


def test_an_idle_server_ends_by_itself_but_not_while_it_has_supervisors(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = b"\0syft-pm-test-idle-%d" % os.getpid()
    r, w = os.pipe()
    server = subprocess.Popen(
        [
            PY,
            "-c",
            "import sys; from syft_pm import forkserver as f; f.IDLE_EXIT = 1.0;"
            " raise SystemExit(f.main(sys.argv[1:]))",
            name[1:].decode(),
            str(w),
        ],
        pass_fds=(w,),
        cwd=PKG_PARENT,
        stderr=subprocess.PIPE,
    )
    os.close(w)
    try:
        assert os.read(r, 16) == b"ok\n"
        monkeypatch.setattr(forkserver, "address", lambda: name)
        h = pm.run("held", ["sleep", "300"])
        assert psutil.Process(h.state["supervisor_pid"]).ppid() == server.pid
        with pytest.raises(subprocess.TimeoutExpired):
            server.wait(timeout=3)  # three idle periods: it has a supervisor
        h.stop()
        assert server.wait(timeout=30) == 0
    finally:
        os.close(r)
        if server.poll() is None:
            server.kill()
            server.wait()


def test_the_server_keeps_nothing_of_its_starter(pm: ProcessManager) -> None:
    pm.run("warm", ["true"]).wait(timeout=30)
    pid = wait_for(server_pid, what="a fork server")
    proc = psutil.Process(pid)
    assert proc.cwd() == "/"
    assert "SYFT_PM_HOME" not in proc.environ()
    held = [f.path for f in proc.open_files()]
    assert not any(str(pm.home) in f for f in held), held
    assert sys.executable in proc.cmdline()[0] or proc.cmdline()[0] == sys.executable


def test_killing_the_server_harms_no_supervisor_and_the_next_run_starts_another(
    pm: ProcessManager,
) -> None:
    first = pm.run("first", ["sleep", "300"])
    server = psutil.Process(wait_for(server_pid, what="a fork server"))
    assert psutil.Process(first.state["supervisor_pid"]).ppid() == server.pid
    server.kill()
    server.wait(10)
    assert first.status == "running" and psutil.pid_exists(first.state["supervisor_pid"])
    second = pm.run("second", ["sleep", "300"])
    assert wait_for(server_pid, what="a new fork server") != server.pid
    for h in (first, second):
        h.stop()
        assert h.status == "stopped"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to listen as another user")
def test_a_name_squatted_by_another_user_is_never_sent_anything(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Abstract socket names are shared by all users: another one could listen where our
    fork server should. run() must not send it the environment or a descriptor."""
    name = b"\0syft-pm-test-squat-%d" % os.getpid()
    code = (
        "import os, socket, sys\n"
        "os.setgid(65534); os.setuid(65534)\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "s.bind(bytes.fromhex(sys.argv[1]))\n"
        "s.listen(4)\n"
        "print('listening', flush=True)\n"
        "c, _ = s.accept()\n"
        "c.settimeout(5)\n"
        "try:\n"
        "    data = c.recv(1 << 20)\n"
        "except OSError:\n"
        "    data = b''\n"
        "os.write(int(sys.argv[2]), str(len(data)).encode())\n"
    )
    r, w = os.pipe()
    squatter = subprocess.Popen(
        [PY, "-c", code, name.hex(), str(w)], pass_fds=(w,), stdout=subprocess.PIPE, text=True
    )
    os.close(w)
    try:
        assert squatter.stdout is not None and squatter.stdout.readline() == "listening\n"
        monkeypatch.setattr(forkserver, "address", lambda: name)
        monkeypatch.setenv("SYFT_PM_TEST_SECRET", "do-not-leak")
        h = pm.run("private", ["sleep", "300"])
        assert h.status == "running"
        assert squatter.wait(timeout=10) == 0
        assert os.read(r, 64) == b"0", "the squatter received nothing"
        h.stop()
    finally:
        # Once the squatter has gone, run() may have started a real server on the name.
        for p in psutil.process_iter(["cmdline"]):
            if name[1:].decode() in (p.info["cmdline"] or []):
                p.kill()
        os.close(r)
        if squatter.poll() is None:
            squatter.kill()
            squatter.wait()
