"""The comm target ``syft_pm`` in a real kernel, driven through jupyter_client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kernelclient import KernelComms, delta_line, running_kernel, snapshot_of
from pmtest import PY

from syft_pm.kernel.display import MIME_TYPE
from syft_pm.manager import ProcessManager

pytest.importorskip("jupyter_client")

TICKER = (
    "import itertools, time\n"
    "for i in itertools.count():\n"
    "    print('tick', i, flush=True)\n"
    "    time.sleep(0.1)\n"
)


@pytest.fixture
def kernel(home: Path, tmp_path: Path) -> Iterator[tuple[Any, KernelComms]]:
    with running_kernel(home, tmp_path) as k:
        yield k


@pytest.mark.timeout(120)
def test_displaying_a_handle_gives_three_mime_types(kernel):
    _, comms = kernel
    comms.execute(f"h = syft_pm.run('shown', [{PY!r}, '-c', 'import time; time.sleep(300)'])")
    result = comms.execute("h")
    (bundle,) = [m for m in result["outputs"] if m["header"]["msg_type"] == "execute_result"]
    data = bundle["content"]["data"]
    assert {MIME_TYPE, "text/html", "text/plain"} <= set(data)
    ref = data[MIME_TYPE]
    assert ref["name"] == "shown" and ref["version"] == 1 and ref["registry_id"]
    assert "shown" in data["text/plain"] and "running" in data["text/plain"]


@pytest.mark.timeout(120)
def test_comm_snapshot_then_pushed_lines_to_every_comm(kernel, pm: ProcessManager):
    _, comms = kernel
    comms.execute(f"h = syft_pm.run('ticker', [{PY!r}, '-u', '-c', {TICKER!r}])")
    first, second = comms.open(), comms.open({"names": ["ticker"]})
    snap = comms.wait(first, snapshot_of)
    assert "ticker" in snap["processes"]
    assert snap["processes"]["ticker"]["status"] == "running"
    comms.wait(second, snapshot_of)
    # Lines the process prints later arrive as deltas, pushed, on both comms, while
    # the kernel is idle (nothing is executing).
    n = len(pm.get("ticker").stdout.tail(1000)) + 5
    comms.wait(first, delta_line(f"tick {n}"))
    comms.wait(second, delta_line(f"tick {n}"))


@pytest.mark.timeout(120)
def test_reopened_comm_gets_a_fresh_snapshot_and_resync_works(kernel):
    _, comms = kernel
    comms.execute(f"h = syft_pm.run('again', [{PY!r}, '-c', 'import time; time.sleep(300)'])")
    c1 = comms.open({"names": ["again"]})
    comms.wait(c1, snapshot_of)
    comms.close(c1)
    c2 = comms.open({"names": ["again"]})
    snap = comms.wait(c2, snapshot_of)
    assert list(snap["processes"]) == ["again"]
    comms.send(c2, {"type": "resync"})
    comms.wait(c2, lambda ms: len([m for m in ms if m["type"] == "snapshot"]) == 2)
    comms.send(c2, {"type": "bogus"})
    err = comms.wait(c2, lambda ms: next((m for m in ms if m["type"] == "error"), None))
    assert "unknown message type" in err["message"]


@pytest.mark.timeout(120)
def test_poll_and_actions_over_the_comm(kernel, pm: ProcessManager):
    _, comms = kernel
    comms.execute(f"h = syft_pm.run('act', [{PY!r}, '-c', 'import time; time.sleep(300)'])")
    c = comms.open({"names": ["act"], "logs": False})
    comms.wait(c, snapshot_of)
    comms.send(c, {"type": "poll"})
    comms.wait(c, lambda ms: any(m["type"] in ("heartbeat", "delta") for m in ms))
    comms.send(c, {"type": "action", "id": "s1", "action": "stop", "name": "act"})
    res = comms.wait(c, lambda ms: next((m for m in ms if m["type"] == "action_result"), None))
    assert res["ok"] and res["id"] == "s1"
    assert pm.get("act").status == "stopped"
    comms.wait(
        c,
        lambda ms: any(
            m["type"] == "delta" and m["changed"].get("act", {}).get("status") == "stopped"
            for m in ms
        ),
    )
    comms.send(c, {"type": "action", "id": "s2", "action": "remove", "name": "nope"})
    bad = comms.wait(c, lambda ms: next((m for m in ms if m.get("id") == "s2"), None))
    assert not bad["ok"] and "nope" in bad["error"]


@pytest.mark.timeout(180)
def test_kernel_restart_leaves_the_process_running(kernel, pm: ProcessManager):
    km, comms = kernel
    comms.execute(f"h = syft_pm.run('keep', [{PY!r}, '-c', 'import time; time.sleep(300)'])")
    pid = pm.get("keep").pid
    km.restart_kernel(now=True)
    comms.kc.wait_for_ready(timeout=60)
    h = pm.get("keep")
    assert h.is_running() and h.pid == pid
    # The new kernel serves comms again once syft_pm is imported.
    comms.execute("import syft_pm")
    c = comms.open()
    assert comms.wait(c, snapshot_of)["processes"]["keep"]["pid"] == pid
