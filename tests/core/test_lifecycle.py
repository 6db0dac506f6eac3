"""Start, observe, stop, wait, remove: real processes, real supervisors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest
from pmtest import PY, processes_with_env, wait_for

import syft_pm
from syft_pm import procutil
from syft_pm.manager import (
    ProcessExistsError,
    ProcessManager,
    ProcessNotFoundError,
    ProcessRunningError,
)
from syft_pm.names import InvalidNameError
from syft_pm.registry import SCHEMA_VERSION
from syft_pm.spec import SpecError
from syft_pm.supervisor import SCHEMA_VERSION as SUP_SCHEMA


def test_schema_versions_agree() -> None:
    assert SUP_SCHEMA == SCHEMA_VERSION


def test_lifecycle_run_info_stop(pm: ProcessManager) -> None:
    h = pm.run("web", ["sleep", "60"], labels={"team": "a"})
    assert h.is_running()
    assert h.status == "running"
    pid = h.pid
    assert pid and psutil.pid_exists(pid)
    assert h.uptime is not None and h.uptime >= 0
    assert h.labels == {"team": "a"}
    assert h.restarts == 0
    assert "running" in repr(h) and "web" in repr(h)
    info = h.info()
    json.dumps(info)  # JSON-ready
    assert info["status"] == "running" and info["running"] is True
    assert info["metrics"]["rss_bytes"] > 0
    assert info["provenance"]["pid"] == os.getpid()
    assert info["registry_id"] == pm.registry.id
    assert info["config"]["cmd"] == ["sleep", "60"]
    assert info["logs"]["stdout"][0].endswith("stdout.log")
    # the child has its own session, stdin from /dev/null
    p = psutil.Process(pid)
    assert os.getsid(pid) == pid
    assert os.readlink(f"/proc/{pid}/fd/0") == "/dev/null"
    st = json.loads((pm.registry.process_dir("web") / "state.json").read_text())
    assert st["schema"] == 1 and st["status"] == "running" and st["pid"] == pid
    assert procutil.is_alive(st["supervisor_pid"], st["supervisor_create_time"])
    h.stop()
    assert not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    assert h.status == "stopped"
    assert h.record.state["stop_reason"] == "requested"
    assert h.uptime is None
    assert not h.is_running()
    h.stop()  # no-op on a finished process
    assert h.status == "stopped"


def test_get_and_list(pm: ProcessManager) -> None:
    with pytest.raises(ProcessNotFoundError, match="no process named 'nope'"):
        pm.get("nope")
    with pytest.raises(KeyError):
        pm.get("nope")
    pm.run("a", ["sleep", "60"])
    pm.run("b", ["true"]).wait(10)
    assert [h.name for h in pm.list()] == ["a", "b"]
    assert pm.get("a").is_running()
    assert pm.get("b").status == "exited"


def test_module_level_api_uses_syft_pm_home(home: Path) -> None:
    h = syft_pm.run("mod", ["sleep", "60"])
    assert (home / "processes" / "mod" / "state.json").exists()
    assert syft_pm.get("mod").pid == h.pid
    assert [x.name for x in syft_pm.list()] == ["mod"]


def test_exit_codes(pm: ProcessManager) -> None:
    ok = pm.run("ok", ["true"])
    bad = pm.run("bad", ["sh", "-c", "exit 7"])
    sig = pm.run("sig", ["sh", "-c", "kill -KILL $$"])
    assert ok.wait(10) == 0 and ok.status == "exited" and ok.exit_code == 0
    assert bad.wait(10) == 7 and bad.status == "failed" and bad.exit_code == 7
    assert sig.wait(10) == -signal.SIGKILL
    assert sig.status == "failed" and sig.exit_code is None
    assert sig.record.state["signal"] == "SIGKILL"
    assert "SIGKILL" in (sig.reason or "")
    assert bad.record.state["ended_at"] >= bad.record.state["started_at"]


def test_wait_timeout(pm: ProcessManager) -> None:
    h = pm.run("slow", ["sleep", "60"])
    t0 = time.monotonic()
    with pytest.raises(TimeoutError):
        h.wait(timeout=0.3)
    assert time.monotonic() - t0 < 5


def test_env_and_cwd(pm: ProcessManager, tmp_path: Path) -> None:
    out = tmp_path / "env.json"
    code = (
        "import json, os, sys; json.dump({k: os.environ.get(k) for k in "
        "['SYFT_PM_PROCESS_NAME', 'SYFT_PM_PROCESS_DIR', 'SYFT_PM_RUN_ID', 'PYTHONUNBUFFERED', "
        "'MY_VAR', 'SYFT_PM_SUPERVISOR']} | {'cwd': os.getcwd()}, open(sys.argv[1], 'w'))"
    )
    h = pm.run("envy", [PY, "-c", code, str(out)], env={"MY_VAR": "x y"}, cwd=tmp_path)
    assert h.wait(10) == 0
    env = json.loads(out.read_text())
    assert env["SYFT_PM_PROCESS_NAME"] == "envy"
    assert env["SYFT_PM_PROCESS_DIR"] == str(pm.registry.process_dir("envy"))
    assert env["SYFT_PM_RUN_ID"] == h.record.state["run_id"]
    assert env["PYTHONUNBUFFERED"] == "1"
    assert env["MY_VAR"] == "x y"
    assert env["SYFT_PM_SUPERVISOR"] is None
    assert env["cwd"] == str(tmp_path)
    h2 = pm.run("envy2", [PY, "-c", code, str(out)], env={"PYTHONUNBUFFERED": "0"})
    assert h2.wait(10) == 0
    assert json.loads(out.read_text())["PYTHONUNBUFFERED"] == "0"


def test_shell_and_logs(pm: ProcessManager) -> None:
    h = pm.run("sh", "echo hello; echo oops >&2", shell=True)
    assert h.wait(10) == 0
    assert h.stdout.tail(5) == ["hello"]
    assert h.stderr.tail(5) == ["oops"]
    ((t, text),) = h.stdout.tail(1, timestamps=True)
    assert text == "hello" and t is not None and abs(t - time.time()) < 60


def test_if_exists(pm: ProcessManager) -> None:
    a = pm.run("svc", ["sleep", "60"], labels={"v": "1"})
    a_pid = a.pid  # handles are live views of the name: keep the number
    b = pm.run("svc", ["sleep", "60"], labels={"v": "2"})  # labels don't count
    assert b.pid == a_pid
    with pytest.raises(ProcessExistsError, match="if_exists='replace'"):
        pm.run("svc", ["sleep", "61"])
    with pytest.raises(ProcessExistsError, match="if_exists='replace'"):
        pm.run("svc", ["sleep", "60"], if_exists="error")
    old = psutil.Process(a_pid)
    c = pm.run("svc", ["sleep", "61"], if_exists="replace")
    c_pid = c.pid
    assert c_pid != a_pid and c.is_running()
    assert not old.is_running() or old.status() == psutil.STATUS_ZOMBIE
    c.stop()
    d = pm.run("svc", ["sleep", "62"])  # a stopped entry starts afresh
    assert d.is_running() and d.pid != c_pid
    with pytest.raises(SpecError, match="if_exists"):
        pm.run("svc", ["sleep", "62"], if_exists="maybe")


@pytest.mark.parametrize(
    ("name", "cmd", "kwargs", "err", "match"),
    [
        ("../x", ["true"], {}, InvalidNameError, "invalid process name"),
        ("a/b", ["true"], {}, InvalidNameError, "invalid process name"),
        ("", ["true"], {}, InvalidNameError, "empty"),
        ("x" * 300, ["true"], {}, InvalidNameError, "limit"),
        ("ok", ["definitely-not-a-command-xyz"], {}, SpecError, "not found on PATH"),
        ("ok", ["./nope.sh"], {}, SpecError, "not found"),
        ("ok", ["true"], {"cwd": "/nonexistent/dir"}, SpecError, "does not exist"),
        ("ok", ["true"], {"cwd": "/etc/hostname"}, SpecError, "not a directory"),
        ("ok", "echo hi", {}, SpecError, "shell=True"),
        ("ok", [], {}, SpecError, "non-empty"),
        ("ok", ["true"], {"restart": "sometimes"}, SpecError, "restart must be"),
        ("ok", ["true"], {"ttl": 0}, SpecError, "ttl"),
        ("ok", ["true"], {"ttl": -5}, SpecError, "ttl"),
        ("ok", ["true"], {"labels": {"a": 1}}, SpecError, "labels"),
        ("ok", ["true"], {"env": {"A": None}}, SpecError, "env"),
        ("ok", ["true"], {"health": {"type": "http"}}, SpecError, "url"),
        ("ok", ["true"], {"health": {"type": "tcp", "port": 0}}, SpecError, "port"),
        ("ok", ["true"], {"health": {"type": "ping"}}, SpecError, "type"),
        ("ok", ["true"], {"logs": {"max_bytes": 5}}, SpecError, "max_bytes"),
        ("ok", ["true"], {"max_restarts": -1}, SpecError, "max_restarts"),
        ("ok", ["true"], {"backoff": {"initial": 0}}, SpecError, "backoff"),
    ],
)
def test_validation_creates_nothing(
    pm: ProcessManager, name: str, cmd: object, kwargs: dict[str, object], err: type, match: str
) -> None:
    with pytest.raises(err, match=match):
        pm.run(name, cmd, **kwargs)  # type: ignore[arg-type]
    assert not (pm.home / "processes").exists() or not list((pm.home / "processes").iterdir())


def test_relative_executable_resolves_against_cwd(pm: ProcessManager, tmp_path: Path) -> None:
    script = tmp_path / "hello.sh"
    script.write_text("#!/bin/sh\necho from-script\n")
    script.chmod(0o755)
    h = pm.run("rel", ["./hello.sh"], cwd=tmp_path)
    assert h.wait(10) == 0
    assert h.stdout.tail(1) == ["from-script"]


def test_remove(pm: ProcessManager) -> None:
    h = pm.run("rm-me", ["sleep", "60"])
    with pytest.raises(ProcessRunningError, match="force=True"):
        h.remove()
    pid = h.pid
    assert pid is not None
    h.remove(force=True)
    assert not pm.registry.exists("rm-me")
    assert not procutil.is_alive(pid, procutil.create_time(pid))
    with pytest.raises(ProcessNotFoundError):
        pm.get("rm-me")
    assert h.status == "error"
    done = pm.run("done", ["true"])
    done.wait(10)
    done.remove()
    assert not pm.registry.exists("done")


def test_restart_gives_a_new_process(pm: ProcessManager) -> None:
    h = pm.run("r", ["sleep", "60"])
    old_pid, old_run = h.pid, h.record.state["run_id"]
    h.restart()
    assert h.is_running() and h.pid != old_pid
    assert h.record.state["run_id"] != old_run
    assert not psutil.pid_exists(old_pid) or psutil.Process(old_pid).status() == "zombie"
    # restart of a finished process starts it again
    f = pm.run("f", ["true"])
    f.wait(10)
    f.restart()
    assert f.wait(10) == 0


def test_stop_kills_a_grandchild_in_its_own_session(pm: ProcessManager, tmp_path: Path) -> None:
    pidfile = tmp_path / "gc.pid"
    code = (
        "import os, subprocess, sys, time\n"
        "p = subprocess.Popen(['setsid', 'sleep', '300'])\n"
        "open(sys.argv[1], 'w').write(str(p.pid))\n"
        "time.sleep(300)\n"
    )
    h = pm.run("tree", [PY, "-c", code, str(pidfile)])
    gc_pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text(), what="grandchild"))
    gc = psutil.Process(gc_pid)
    wait_for(lambda: os.getsid(gc_pid) == gc_pid, what="setsid")
    assert os.getsid(gc_pid) != os.getsid(h.pid)
    assert h.info()["metrics"]["children"] >= 1
    h.stop(timeout=2)
    assert not gc.is_running() or gc.status() == psutil.STATUS_ZOMBIE


def test_term_ignoring_child_is_killed_after_timeout(pm: ProcessManager) -> None:
    code = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(300)"
    )
    h = pm.run("stubborn", [PY, "-c", code])
    wait_for(lambda: h.stdout.tail(1) == ["ready"], what="ready")
    t0 = time.monotonic()
    h.stop(timeout=0.5)
    assert 0.4 < time.monotonic() - t0 < 5
    assert h.status == "stopped"
    assert h.record.state["signal"] == "SIGKILL"


def test_children_exit_leaves_no_orphans(pm: ProcessManager, tmp_path: Path) -> None:
    """When the main command exits, descendants it left behind are terminated."""
    pidfile = tmp_path / "orphan.pid"
    h = pm.run("leaver", ["sh", "-c", f"sleep 300 & echo $! > {pidfile}; exit 0"])
    assert h.wait(10) == 0
    orphan = int(pidfile.read_text())
    assert not procutil.is_alive(orphan, procutil.create_time(orphan))


def test_pid_reuse_entry_is_not_ours(
    pm: ProcessManager, unrelated_sleep: subprocess.Popen[bytes]
) -> None:
    """A registry entry whose pid now belongs to another process: not running, untouched."""
    pm.run("ghost", ["true"]).wait(10)
    d = pm.registry.process_dir("ghost")
    st = json.loads((d / "state.json").read_text())
    victim = psutil.Process(unrelated_sleep.pid)
    wrong = victim.create_time() - 1000.0
    st.update(
        status="running",
        pid=victim.pid,
        create_time=wrong,
        supervisor_pid=victim.pid,
        supervisor_create_time=wrong,
        ended_at=None,
    )
    (d / "state.json").write_text(json.dumps(st))
    h = pm.get("ghost")
    assert not h.is_running()
    assert h.status == "failed" and "supervisor died" in (h.reason or "")
    h.stop()
    h.remove(force=True)
    assert victim.is_running() and victim.status() != psutil.STATUS_ZOMBIE
    assert unrelated_sleep.poll() is None


def test_kill_9_supervisor_leaves_nothing(pm: ProcessManager, tmp_path: Path) -> None:
    pidfile = tmp_path / "gc.pid"
    h = pm.run("victim", ["sh", "-c", f"sleep 300 & echo $! > {pidfile}; sleep 300"])
    run_id = h.record.state["run_id"]
    child = psutil.Process(h.pid)
    gc_pid = int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="gc"))
    gc = psutil.Process(gc_pid)
    sup = psutil.Process(h.record.state["supervisor_pid"])
    sup.send_signal(signal.SIGKILL)
    # PDEATHSIG takes the main child down with the supervisor.
    wait_for(
        lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE, what="child death"
    )
    h.refresh()
    assert h.status == "failed"
    assert "supervisor died unexpectedly" in (h.reason or "")
    # Reads only report it; the leftovers go with the first write (here an explicit repair).
    pm.repair("victim")
    assert json.loads((h.directory / "state.json").read_text())["status"] == "failed"
    assert not gc.is_running() or gc.status() == psutil.STATUS_ZOMBIE
    assert processes_with_env("SYFT_PM_RUN_ID", run_id) == []


def test_stop_when_supervisor_already_dead(pm: ProcessManager) -> None:
    h = pm.run("dead-sup", ["sleep", "300"])
    child = psutil.Process(h.pid)
    psutil.Process(h.record.state["supervisor_pid"]).kill()
    h.stop()
    assert not child.is_running() or child.status() == psutil.STATUS_ZOMBIE
    assert h.status in ("failed", "stopped")


def test_handle_survives_a_new_manager_instance(pm: ProcessManager, home: Path) -> None:
    h = pm.run("x", ["sleep", "60"])
    other = ProcessManager(home)
    assert other.get("x").pid == h.pid
    other.get("x").stop()
    assert h.status == "stopped"


def test_restart_from_another_process_keeps_the_original_environment_and_origin(
    pm: ProcessManager, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYFT_PM_TEST_BASE", "original")
    h = pm.run("envkeep", ["sh", "-c", 'echo "base=$SYFT_PM_TEST_BASE"; exec sleep 300'])
    wait_for(lambda: h.stdout.tail(1) == ["base=original"], what="the first run's line")
    first_origin = h.record.config["provenance"]
    # Restart it the way the sidebar does: from another process with another environment.
    code = "import syft_pm; syft_pm.get('envkeep').restart()"
    env = {**os.environ, "SYFT_PM_HOME": str(home), "SYFT_PM_TEST_BASE": "changed"}
    subprocess.run([PY, "-c", code], env=env, check=True)
    wait_for(lambda: len(h.stdout.tail(5)) == 2, what="the restarted run's line")
    assert h.stdout.tail(5) == ["base=original", "base=original"]
    prov = h.refresh().record.config["provenance"]
    assert prov["pid"] == first_origin["pid"] == os.getpid()
    assert prov["restarted_by"]["pid"] != os.getpid()
    assert (h.directory / "environ.json").stat().st_mode & 0o077 == 0
