"""bind="kernel" (issue 14) with a real kernel via jupyter_client: the process survives a
kernel restart (the supervisor finds the new kernel by its connection file) and is
stopped once the kernel is shut down for good."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pmtest import PY, wait_for

from syft_pm.live.protocol import process_state
from syft_pm.manager import ProcessManager
from syft_pm.spec import SpecError

pytest.importorskip("jupyter_client")

SLEEP = [PY, "-c", "import time; time.sleep(300)"]


def test_bind_outside_a_kernel_is_refused(pm: ProcessManager) -> None:
    with pytest.raises(SpecError, match="not a kernel"):
        pm.run("b", SLEEP, bind="kernel")
    with pytest.raises(SpecError, match="bind must be"):
        pm.run("b", SLEEP, bind="notebook")
    assert pm.list() == []


@pytest.mark.timeout(120)
def test_bound_process_follows_its_kernel(home: Path, tmp_path: Path, pm: ProcessManager) -> None:
    from jupyter_client.multikernelmanager import MultiKernelManager

    # As jupyter_server starts kernels: connection file kernel-<id>.json.
    mkm = MultiKernelManager()
    kid = mkm.start_kernel(
        kernel_name="python3", env={**os.environ, "SYFT_PM_HOME": str(home)}, cwd=str(tmp_path)
    )
    km = mkm.get_kernel(kid)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        code = (
            "import syft_pm\n"
            f"h = syft_pm.run('bound', {SLEEP!r}, bind={{'to': 'kernel', 'grace': 3}})\n"
        )
        reply = kc.execute_interactive(code, timeout=60)
        assert reply["content"]["status"] == "ok", reply["content"]
        h = pm.get("bound")
        kernel_pid = km.provisioner.process.pid
        bind = h.config["bind"]
        assert bind["kernel_id"] == kid and bind["pid"] == kernel_pid
        assert bind["connection_file"].endswith(f"kernel-{kid}.json")
        assert h.info()["config"]["bind"]["to"] == "kernel"

        # A restart is not an end: the new kernel (same id, new pid) is found.
        mkm.restart_kernel(kid, now=True)
        new_pid = km.provisioner.process.pid
        assert new_pid != kernel_pid
        wait_for(
            lambda: (h.state.get("bound_to") or {}).get("pid") == new_pid,
            timeout=20,
            what="the supervisor to find the restarted kernel",
        )
        assert h.status == "running"
        # Views see the binding and the kernel it follows now.
        wire = process_state(h.record)["bind"]
        assert wire["to"] == "kernel" and wire["kernel_id"] == kid and wire["pid"] == new_pid

        # A shutdown is: stopped after the grace period, with the reason.
        kc.stop_channels()
        mkm.shutdown_kernel(kid, now=False)
        wait_for(lambda: h.status == "stopped", timeout=30, what="the bound process to stop")
        st = h.state
        assert st["stop_reason"] == "kernel"
        assert f"kernel {kid[:8]}" in st["reason"] and "shut down or died" in st["reason"]
        assert not h.is_running()
    finally:
        kc.stop_channels()
        if kid in mkm.list_kernel_ids():
            mkm.shutdown_kernel(kid, now=True)


def test_find_kernel_by_connection_file(tmp_path: Path) -> None:
    import subprocess

    from syft_pm.binding import find_kernel

    conn = str(tmp_path / "kernel-abc123.json")
    sleep = [PY, "-c", "import time; time.sleep(60)"]
    client = subprocess.Popen([*sleep, "--existing", conn])  # a client, not a kernel
    try:
        assert find_kernel(conn) is None
        kernel = subprocess.Popen([*sleep, "-f", conn])
        try:
            # Until the child has exec'd, /proc shows the parent's command line.
            wait_for(lambda: find_kernel(conn) == kernel.pid, what="the kernel to be found")
        finally:
            kernel.kill()
            kernel.wait()
        assert find_kernel(conn) is None
    finally:
        client.kill()
        client.wait()
