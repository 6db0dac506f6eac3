"""Trust boundaries of the core: names, registry permissions, the function payload,
hidden environment values and reads without side effects (issue 9)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import signal
import stat
from pathlib import Path
from typing import Any

import helpers
import psutil
import pytest
from pmtest import wait_for

from syft_pm import function_runner
from syft_pm.manager import ProcessManager, ProcessNotFoundError
from syft_pm.names import InvalidNameError, is_valid_name, validate_name
from syft_pm.registry import Registry, RegistryError, RegistryPermissionError


@pytest.mark.parametrize("name", ["web\n", "web\r\n", "a\nb", "web\n\n", "\nweb"])
def test_names_with_newlines_are_refused_everywhere(pm: ProcessManager, name: str) -> None:
    with pytest.raises(InvalidNameError):
        validate_name(name)
    assert not is_valid_name(name)
    with pytest.raises(InvalidNameError):
        pm.run(name, ["true"])
    with pytest.raises(InvalidNameError):
        pm.get(name)
    assert not (pm.home / "processes" / name).exists()
    # A directory planted under such a name is not an entry of the registry.
    pm.registry.ensure()
    (pm.home / "processes" / name).mkdir()
    assert name not in pm.registry.names()
    assert all(h.name != name for h in pm.list())


def test_valid_name_still_accepted(pm: ProcessManager) -> None:
    assert validate_name("web-1.v2_x") == "web-1.v2_x"
    with pytest.raises(ProcessNotFoundError):
        pm.get("web")
    assert Path(pm.registry.process_dir("web")).name == "web"


class _Planted:
    """A pickle that runs code when loaded: it creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def test_function_payload_is_private_and_hashed(pm: ProcessManager, tmp_path: Path) -> None:
    h = pm.run_function(helpers.write_file, str(tmp_path / "out.txt"), "hi", name="fn")
    assert h.wait(30) == 0
    pkl = h.directory / "function.pkl"
    assert stat.S_IMODE(pkl.stat().st_mode) == 0o600
    assert h.config["function_sha256"] == hashlib.sha256(pkl.read_bytes()).hexdigest()
    assert not [p.name for p in h.directory.iterdir() if p.name.endswith(".tmp")]


def test_tampered_function_payload_is_never_unpickled(pm: ProcessManager, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    h = pm.run_function(helpers.write_file, str(out), "first", name="fn")
    assert h.wait(30) == 0 and out.read_text() == "first"
    marker = tmp_path / "planted-code-ran"
    (h.directory / "function.pkl").write_bytes(pickle.dumps(_Planted(marker)))
    h.restart()
    assert h.wait(30) == 2
    assert h.status == "failed"
    assert not marker.exists()
    err = "\n".join(h.stderr.tail(20))
    assert "was changed after run_function wrote it" in err and "refusing to unpickle" in err


# -- the registry belongs to the user alone -----------------------------------------------

FOREIGN_UID = 12345


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def test_loose_registry_directories_of_ours_are_made_private(home: Path) -> None:
    for d in (home, home / "processes", home / "locks"):
        d.mkdir(parents=True, exist_ok=True)
        d.chmod(0o777)
    Registry(home).ensure()
    assert [_mode(d) for d in (home, home / "processes", home / "locks")] == [0o700] * 3
    assert _mode(home / "registry.json") == 0o600


def test_a_shared_sticky_directory_is_never_tightened(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    with pytest.raises(RegistryPermissionError, match="sticky bit"):
        Registry(shared).ensure()
    assert _mode(shared) == 0o1777


def test_loose_process_directory_is_fixed_before_a_restart_reads_it(pm: ProcessManager) -> None:
    h = pm.run("loose", ["sleep", "300"])
    h.directory.chmod(0o777)
    for f in ("config.json", "environ.json"):
        (h.directory / f).chmod(0o666)
    h.restart()
    assert h.is_running()
    assert _mode(h.directory) == 0o700
    files = [p for p in h.directory.iterdir() if p.is_file()]
    assert files and all(_mode(p) == 0o600 for p in files), {p.name: oct(_mode(p)) for p in files}


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another uid")
@pytest.mark.parametrize("planted", ["directory", "config.json", "environ.json"])
def test_foreign_process_entry_is_refused_before_anything_runs(
    pm: ProcessManager, tmp_path: Path, planted: str
) -> None:
    h = pm.run("victim", ["true"])
    assert h.wait(10) == 0
    marker = tmp_path / "planted-command-ran"
    cfg = json.loads((h.directory / "config.json").read_text())
    cfg["cmd"] = ["mkdir", str(marker)]
    (h.directory / "config.json").write_text(json.dumps(cfg))
    target = h.directory if planted == "directory" else h.directory / planted
    os.chown(target, FOREIGN_UID, FOREIGN_UID)
    with pytest.raises(RegistryPermissionError) as err:
        h.restart()
    msg = str(err.value)
    assert str(target) in msg and f"uid {FOREIGN_UID}" in msg and "mode 0" in msg
    assert not marker.exists()
    with pytest.raises(RegistryPermissionError):
        pm.run("victim", ["true"], if_exists="replace")
    assert not marker.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give a directory to another uid")
def test_foreign_registry_home_is_refused_with_owner_and_mode(home: Path) -> None:
    home.mkdir()
    home.chmod(0o777)
    os.chown(home, FOREIGN_UID, FOREIGN_UID)
    with pytest.raises(RegistryPermissionError) as err:
        ProcessManager(home).run("web", ["true"])
    msg = str(err.value)
    assert str(home) in msg and f"uid {FOREIGN_UID}" in msg and "mode 0777" in msg
    assert _mode(home) == 0o777 and not (home / "processes").exists()


# -- info() shows environment names, not values --------------------------------------------


def test_info_shows_environment_names_not_values(pm: ProcessManager) -> None:
    secret = "s3cr3t-token-value"
    h = pm.run("envy", ["sleep", "300"], env={"API_TOKEN": secret, "A_FLAG": "1"})
    info = h.info(metrics=False)
    assert info["config"]["env"] == ["API_TOKEN", "A_FLAG"]
    assert secret not in json.dumps(info, default=str)
    revealed = h.info(metrics=False, reveal=True)
    assert revealed["config"]["env"] == {"API_TOKEN": secret, "A_FLAG": "1"}
    # What the server and the comm answer for "info" is the same hidden view.
    assert pm.get("envy").info(metrics=False)["config"]["env"] == ["API_TOKEN", "A_FLAG"]
    # The stored configuration itself is unchanged: a restart still gets the values.
    assert h.config["env"]["API_TOKEN"] == secret


# -- reads have no side effects -------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and directory under ``root`` with its inode, size and mtime."""
    out = {}
    for p in [root, *root.rglob("*")]:
        st = p.lstat()
        out[str(p.relative_to(root))] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def test_reads_of_a_dead_supervisors_entry_change_nothing(
    pm: ProcessManager, home: Path, tmp_path: Path
) -> None:
    pidfile = tmp_path / "leftover.pid"
    h = pm.run("orphaned", ["sh", "-c", f"sleep 300 & echo $! > {pidfile}; exec sleep 300"])
    child = psutil.Process(h.pid)
    leftover = psutil.Process(
        int(wait_for(lambda: pidfile.exists() and pidfile.read_text().strip(), what="pid"))
    )
    psutil.Process(h.record.state["supervisor_pid"]).send_signal(signal.SIGKILL)
    wait_for(
        lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE,
        what="the child to follow its supervisor",
    )
    before = _snapshot(home)

    # Every read surface of the core, several times over.
    for _ in range(3):
        listed = {x.name: x for x in pm.list()}
        got = pm.get("orphaned")
        assert listed["orphaned"].status == got.status == h.refresh().status == "failed"
        assert "supervisor died unexpectedly" in (got.reason or "")
        info = h.info()
        assert info["status"] == "failed" and not info["running"]
        assert h.wait(1) is None  # final (as read), killed: no exit code
        h.stdout.tail(5)
        h.stderr.tail(5)
        assert not h.is_running()
        ProcessManager(home).get("orphaned").refresh()

    assert _snapshot(home) == before, "a read wrote to the registry"
    assert json.loads((h.directory / "state.json").read_text())["status"] == "running"
    assert leftover.is_running() and leftover.status() != psutil.STATUS_ZOMBIE, (
        "a read signalled a process"
    )

    # The explicit write records it and stops what the run left behind.
    rec = pm.repair("orphaned")
    assert rec.status == "failed" and "supervisor died unexpectedly" in str(rec.state["reason"])
    assert json.loads((h.directory / "state.json").read_text())["status"] == "failed"
    wait_for(
        lambda: not leftover.is_running() or leftover.status() == psutil.STATUS_ZOMBIE,
        what="the leftover to be stopped by repair()",
    )


def test_a_start_in_progress_does_not_read_as_failed(pm: ProcessManager) -> None:
    """Between run() writing state.json and the supervisor recording its pid, readers
    see "starting" (the lock says a start is under way), not a failed start."""
    h = pm.run("quick", ["sleep", "300"])
    h.stop()
    d = h.directory
    st = json.loads((d / "state.json").read_text())
    st.update(status="starting", supervisor_pid=None, supervisor_create_time=None, pid=None)
    (d / "state.json").write_text(json.dumps(st))
    with pm.registry.lock("quick"):
        assert pm.get("quick").status == "starting"
    assert pm.get("quick").status == "failed"
    assert "supervisor failed to start" in (pm.get("quick").reason or "")


@pytest.mark.parametrize("loose", ["mode", "owner"])
def test_function_runner_refuses_a_payload_others_could_have_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], loose: str
) -> None:
    """Even with a matching hash: the supervisor's own restarts run function_runner
    without the manager's checks, so the runner applies the registry's rule itself."""
    if loose == "owner" and os.geteuid() != 0:
        pytest.skip("needs root to give a file to another uid")
    marker = tmp_path / "planted-code-ran"
    payload = pickle.dumps(_Planted(marker))
    d = tmp_path / "entry"
    d.mkdir(mode=0o700)
    (d / "config.json").write_text(
        json.dumps({"schema": 1, "function_sha256": hashlib.sha256(payload).hexdigest()})
    )
    pkl = d / "function.pkl"
    pkl.write_bytes(payload)
    if loose == "mode":
        pkl.chmod(0o666)
    else:
        pkl.chmod(0o600)
        os.chown(pkl, FOREIGN_UID, FOREIGN_UID)
    assert function_runner.main([str(pkl)]) == 2
    assert not marker.exists()
    err = capsys.readouterr().err
    assert str(pkl) in err and ("writable by others" in err or f"uid {FOREIGN_UID}" in err)


def test_a_symlink_planted_as_a_lock_file_is_not_followed(
    pm: ProcessManager, tmp_path: Path
) -> None:
    pm.registry.ensure()
    elsewhere = tmp_path / "elsewhere.lock"
    (pm.home / "locks" / "web.lock").symlink_to(elsewhere)
    with pytest.raises(RegistryError, match="symbolic link"):
        pm.run("web", ["true"])
    assert not elsewhere.exists()
