"""Resurrection (issue 14): a supervisor killed with SIGKILL (and a host reboot, seen as
a changed boot id) brings the process back with its restart count and the reason; never
two supervisors, never a stop()ped process."""

from __future__ import annotations

import json
import os
import signal
import threading

import psutil
from pmtest import PY, supervisors_under, wait_for

from syft_pm.manager import ProcessManager
from syft_pm.resurrect import REASON_KILLED, REASON_REBOOT, resurrect

SLEEP = [PY, "-c", "import time; print('up', flush=True); time.sleep(120)"]


def kill_supervisor(pm: ProcessManager, name: str) -> tuple[int, int]:
    """SIGKILL the supervisor; wait until it and its child are gone (PDEATHSIG)."""
    st = pm.get(name).state
    sup, child = psutil.Process(st["supervisor_pid"]), psutil.Process(st["pid"])
    os.kill(sup.pid, signal.SIGKILL)
    psutil.wait_procs([sup, child], timeout=10)
    return sup.pid, child.pid


def test_killed_supervisor_is_brought_back(pm: ProcessManager) -> None:
    h = pm.run("web", SLEEP, restart="always")
    old_sup, old_child = kill_supervisor(pm, "web")
    assert h.status == "failed"  # reads as failed, nothing written yet
    done = resurrect(pm)
    assert [(r.name, r.reason, r.error) for r in done] == [("web", REASON_KILLED, None)]
    st = h.state
    assert h.status == "running" and st["pid"] != old_child
    assert st["supervisor_pid"] != old_sup
    assert st["restarts"] == 1 and st["restart_reason"] == REASON_KILLED
    assert h.config["provenance"]["restarted_by"]["pid"] == os.getpid()
    # Idempotent: a live supervisor is left alone.
    assert resurrect(pm) == []
    # And it keeps counting across a second death.
    kill_supervisor(pm, "web")
    resurrect(pm)
    assert h.state["restarts"] == 2


def test_host_reboot_is_told_apart(pm: ProcessManager) -> None:
    h = pm.run("web", SLEEP, restart="on-failure")
    kill_supervisor(pm, "web")
    # What a record written before a reboot looks like: another boot id.
    path = h.directory / "state.json"
    st = json.loads(path.read_text())
    st["boot_id"] = "00000000-0000-0000-0000-000000000000"
    path.write_text(json.dumps(st))
    done = resurrect(pm)
    assert [(r.name, r.reason) for r in done] == [("web", REASON_REBOOT)]
    assert h.status == "running" and h.state["restart_reason"] == REASON_REBOOT


def test_only_kept_up_policies_and_unwritten_entries(pm: ProcessManager) -> None:
    pm.run("once", SLEEP)  # restart="no": the user did not ask to keep it up
    pm.run("stopped", SLEEP, restart="always")
    kill_supervisor(pm, "once")
    kill_supervisor(pm, "stopped")
    pm.get("stopped").stop()  # the user's write after the death: leave it alone
    assert resurrect(pm) == []
    assert pm.get("once").status == "failed"
    assert pm.get("stopped").status == "failed"


def test_concurrent_resurrectors_start_one_supervisor(pm: ProcessManager) -> None:
    h = pm.run("web", SLEEP, restart="always")
    kill_supervisor(pm, "web")
    results: list[int] = []
    barrier = threading.Barrier(4)

    def go() -> None:
        barrier.wait()
        results.append(len(resurrect(ProcessManager(pm.home))))

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [0, 0, 0, 1]
    assert len(supervisors_under(h.directory)) == 1
    assert h.state["restarts"] == 1


def test_cli_resurrect(pm: ProcessManager) -> None:
    import subprocess

    h = pm.run("web", SLEEP, restart="always")
    kill_supervisor(pm, "web")
    out = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "resurrect"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"web: brought back ({REASON_KILLED})" in out.stdout
    wait_for(lambda: h.status == "running", what="web running again")


def test_scanner_finds_only_killed_kept_up_entries(pm: ProcessManager) -> None:
    from syft_pm.resurrect import Scanner

    pm.run("kept", SLEEP, restart="always")
    pm.run("plain", SLEEP)
    scanner = Scanner()
    assert scanner.candidates(pm) == []
    kill_supervisor(pm, "plain")
    assert scanner.candidates(pm) == []  # restart="no": not ours to bring back
    kill_supervisor(pm, "kept")  # no file changes: found by the supervisor's liveness
    assert scanner.candidates(pm) == ["kept"]
    assert [r.name for r in resurrect(pm, scanner.candidates(pm))] == ["kept"]
    assert scanner.candidates(pm) == []
