"""Eight concurrent run() of one name start exactly one process (threads and processes)."""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path

from pmtest import PY, processes_with_env

from syft_pm.handle import ProcessHandle
from syft_pm.manager import ProcessManager


def _running_children(pm: ProcessManager, name: str) -> list[object]:
    run_id = pm.get(name).record.state["run_id"]
    return processes_with_env("SYFT_PM_RUN_ID", run_id)


def test_eight_threads_one_process(pm: ProcessManager) -> None:
    barrier = threading.Barrier(8)
    results: list[ProcessHandle] = []
    errors: list[BaseException] = []

    def go() -> None:
        try:
            barrier.wait()
            results.append(pm.run("one", ["sleep", "60"]))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    pids = {h.pid for h in results}
    assert len(results) == 8 and len(pids) == 1
    assert len(_running_children(pm, "one")) == 1
    assert len(list((pm.home / "processes").iterdir())) == 1


def test_eight_processes_one_process(pm: ProcessManager, tmp_path: Path) -> None:
    go = tmp_path / "go"
    code = (
        "import os, sys, time\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.005)\n"
        "import syft_pm\n"
        "h = syft_pm.ProcessManager(sys.argv[2]).run('shared', ['sleep', '60'])\n"
        "print(h.pid)\n"
    )
    procs = [
        subprocess.Popen([PY, "-c", code, str(go), str(pm.home)], stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    go.touch()
    outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert len(set(outs)) == 1, outs
    assert len(_running_children(pm, "shared")) == 1
