"""A process started from a real kernel outlives a kernel restart and is found by name."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from syft_pm import procutil
from syft_pm.manager import ProcessManager

jupyter_client = pytest.importorskip("jupyter_client")


def execute(kc: object, code: str, timeout: float = 60) -> dict[str, object]:
    reply = kc.execute_interactive(code, timeout=timeout)  # type: ignore[attr-defined]
    content = reply["content"]
    assert content["status"] == "ok", content
    return content  # type: ignore[no-any-return]


@pytest.mark.timeout(240)
def test_process_survives_kernel_restart(pm: ProcessManager, home: Path, tmp_path: Path) -> None:
    from jupyter_client.manager import KernelManager

    kid = uuid.uuid4().hex
    # Named like the Jupyter server names them: kernel-<kernel id>.json
    km = KernelManager(kernel_name="python3", connection_file=str(tmp_path / f"kernel-{kid}.json"))
    env = {**os.environ, "SYFT_PM_HOME": str(home), "JPY_SESSION_NAME": "/work/analysis.ipynb"}
    km.start_kernel(env=env)
    try:
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        execute(
            kc,
            "import syft_pm\n"
            "h = syft_pm.run('from-kernel', ['sleep', '300'])\n"
            "assert h.is_running()",
        )
        h = pm.get("from-kernel")
        pid = h.pid
        assert h.is_running()
        prov = h.record.config["provenance"]
        assert prov["kernel_id"] == kid
        assert prov["notebook"] == "/work/analysis.ipynb"
        kernel_pid = km.provisioner.pid  # type: ignore[union-attr]
        assert prov["pid"] == kernel_pid
        kc.stop_channels()

        km.restart_kernel(now=True)
        assert km.provisioner.pid != kernel_pid  # type: ignore[union-attr]
        again = pm.get("from-kernel")
        assert again.is_running() and again.pid == pid
        assert procutil.is_alive(pid, again.record.state["create_time"])

        # and the restarted kernel can find and control it too
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        execute(
            kc, "import syft_pm\nh = syft_pm.get('from-kernel')\nassert h.is_running()\nh.stop()"
        )
        kc.stop_channels()
        assert pm.get("from-kernel").status == "stopped"
    finally:
        km.shutdown_kernel(now=True)
