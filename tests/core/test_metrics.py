"""Tree metrics from one pass over /proc, shared by a whole listing."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psutil
import pytest
from pmtest import PY, wait_for

from syft_pm import metrics
from syft_pm.manager import ProcessManager

#: A parent with a child that listens on a TCP port (printed once listening).
SERVER = (
    "import subprocess, sys, time\n"
    "c = subprocess.Popen([sys.executable, '-c', 'import socket, sys, time\\n"
    's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()\\n'
    "print(s.getsockname()[1], flush=True); time.sleep(300)'], stdout=subprocess.PIPE)\n"
    "print('port', c.stdout.readline().decode().strip(), flush=True)\n"
    "time.sleep(300)\n"
)


def test_tree_metrics_match_psutil(pm: ProcessManager) -> None:
    h = pm.run("srv", [PY, "-c", SERVER])
    line = wait_for(lambda: [ln for ln in h.stdout.tail(5) if ln.startswith("port ")], what="port")
    port = int(line[0].split()[1])
    m = wait_for(lambda: h.info()["metrics"], what="metrics")
    root = psutil.Process(h.pid)
    tree = [root, *root.children(recursive=True)]
    assert m["children"] == len(tree) - 1 == 1
    assert m["ports"] == [port]
    assert m["threads"] == sum(p.num_threads() for p in tree)
    rss = sum(p.memory_info().rss for p in tree)
    assert abs(m["rss_bytes"] - rss) < 0.2 * rss
    assert m["cpu_percent"] >= 0


def test_a_listing_reads_proc_once(pm: ProcessManager, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(4):
        pm.run(f"s{i}", ["sleep", "300"])
    passes = []
    real = metrics.Snapshot.__init__

    def counting(self: metrics.Snapshot) -> None:
        passes.append(1)
        real(self)

    monkeypatch.setattr(metrics.Snapshot, "__init__", counting)
    with metrics.shared_snapshot():
        infos = [h.info() for h in pm.list()]
    assert all(i["metrics"] and i["metrics"]["rss_bytes"] > 0 for i in infos)
    assert len(passes) == 1
    sampled = metrics.MetricsSampler().sample(
        {i["name"]: (i["pid"], i["state"]["create_time"]) for i in infos}
    )
    assert len(passes) == 2 and all(sampled.values())


def test_a_reused_pid_is_not_measured(pm: ProcessManager) -> None:
    h = pm.run("one", ["sleep", "300"])
    ct = h.state["create_time"]
    assert metrics.tree_metrics(h.pid, ct) is not None
    assert metrics.tree_metrics(h.pid, ct - 100) is None  # another process's create time


def test_cli_list_shows_ports_of_the_tree(pm: ProcessManager) -> None:
    h = pm.run("srv", [PY, "-c", SERVER])
    line = wait_for(lambda: [ln for ln in h.stdout.tail(5) if ln.startswith("port ")], what="port")
    r = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "list"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert line[0].split()[1] in r.stdout.splitlines()[1].split()
    assert Path(h.directory).is_dir()
