"""The supervisor stays small: isolated start, no heavy imports, no psutil in its loop.

Memory is measured by bench/bench_peers.py; these tests check the causes structurally:
what a supervisor imports, how it is started, and that finding and killing its tree
(with orphans, a nested supervisor and a TERM-ignoring grandchild) never loads psutil.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import psutil
import pytest
from pmtest import PY, supervisors_under, wait_for

import syft_pm
from syft_pm import forkserver, jsonlite, procutil
from syft_pm.manager import ProcessManager
from syft_pm.supervisor import SUPERVISOR_ARGS

PKG_PARENT = Path(syft_pm.__file__).resolve().parent.parent
#: What used to make an idle supervisor 5.8 MiB: none of it is needed to supervise.
HEAVY = (
    "psutil",
    "json",
    "enum",
    "ctypes",
    "typing",
    "pathlib",
    "contextlib",
    "runpy",
    "re",
    "site",
)


def test_the_supervisors_steady_state_imports_nothing_heavy() -> None:
    code = (
        "import sys, syft_pm.supervisor, syft_pm.logwriter, syft_pm.procutil\n"
        "syft_pm.procutil.pdeathsig_setter(); syft_pm.procutil.lean_tree(0, 'x')\n"
        f"print(repr(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    assert SUPERVISOR_ARGS[-2] == "-c"
    args = SUPERVISOR_ARGS[:-2]  # the interpreter flags
    out = subprocess.run(
        [PY, *args, "-c", code], cwd=PKG_PARENT, capture_output=True, text=True, check=True
    ).stdout
    assert out.splitlines()[-1] == "[]", out


@pytest.mark.parametrize("fork_server", [True, False], ids=["forked", "exec"])
def test_a_supervisor_is_started_isolated_and_never_loads_psutil(
    pm: ProcessManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fork_server: bool
) -> None:
    """Kill a tree with a grandchild that ignores SIGTERM and an orphan, then look at
    the supervisor's memory map: no psutil extension was ever loaded into it. Forked by
    the fork server or exec'd (where there is none), it runs isolated (-E -S)."""
    monkeypatch.setenv(forkserver.ENV_SWITCH, "1" if fork_server else "0")
    pids = tmp_path / "pids"
    code = (
        "import os, signal, subprocess, sys, time\n"
        "g = subprocess.Popen([sys.executable, '-c', 'import signal, time; "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(300)'])\n"
        "o = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
        "open(sys.argv[1], 'w').write(f'{g.pid} {o.pid}')\n"
        "time.sleep(300)\n"
    )
    h = pm.run("tree", [PY, "-c", code, str(pids)])
    text = wait_for(lambda: pids.exists() and pids.read_text(), what="the tree to start")
    grandchild, other = (int(p) for p in text.split())
    sup = psutil.Process(h.state["supervisor_pid"])
    assert supervisors_under(h.directory) == [sup]
    cmd = sup.cmdline()
    module = "syft_pm.forkserver" if fork_server else "syft_pm.supervisor"
    assert any(module in c for c in cmd), cmd
    assert "-m" not in cmd and "-E" in cmd and "-S" in cmd, cmd
    assert sup.ppid() != os.getpid() if fork_server else sup.ppid() == os.getpid()
    h.stop(timeout=0.5)
    assert not psutil.pid_exists(grandchild) or psutil.Process(grandchild).status() == "zombie"
    assert not psutil.pid_exists(other) or psutil.Process(other).status() == "zombie"
    h2 = pm.run("again", ["sleep", "300"], restart="always")
    sup2 = psutil.Process(h2.state["supervisor_pid"])
    maps = Path(f"/proc/{sup2.pid}/maps").read_text()
    assert "psutil" not in maps
    # A restart runs the same kill/reap path as a stop.
    psutil.Process(h2.pid).send_signal(signal.SIGKILL)
    wait_for(lambda: h2.restarts >= 1 and h2.status == "running", what="a restart")
    assert "psutil" not in Path(f"/proc/{sup2.pid}/maps").read_text()


def test_lean_tree_finds_descendants_and_run_id_carriers_but_not_nested_supervisors(
    pm: ProcessManager, tmp_path: Path
) -> None:
    marker = tmp_path / "nested-pid"
    code = (
        "import sys, time\n"
        "import syft_pm\n"
        f"h = syft_pm.ProcessManager({str(pm.home)!r}).run('inner', ['sleep', '300'])\n"
        "open(sys.argv[1], 'w').write(str(h.state['supervisor_pid']))\n"
        "time.sleep(300)\n"
    )
    outer = pm.run("outer", [PY, "-c", code, str(marker)])
    inner_sup = int(wait_for(lambda: marker.exists() and marker.read_text(), what="nested"))
    outer_sup = outer.state["supervisor_pid"]
    found = dict(procutil.lean_tree(outer_sup, outer.state["run_id"]))
    assert outer.pid in found
    assert inner_sup not in found  # another run's supervisor and its tree are left alone
    inner = pm.get("inner")
    assert inner.pid not in found
    outer.stop(timeout=2)
    assert inner.status == "running"
    inner.stop(timeout=2)


def test_signal_names_match_the_signal_enum() -> None:
    for n in range(70):
        want = signal.Signals(n).name if n in signal.Signals._value2member_map_ else f"SIG{n}"
        assert procutil.signal_name(n) == want


def test_jsonlite_reads_and_writes_what_json_does() -> None:
    data = {"b": [1, 2.5, None, True, 'x\u00e9"\n'], "a": {"z": 1, "y": 1e300}, "": -0.0}
    assert jsonlite.dumps(data) == json.dumps(data, sort_keys=True)
    assert jsonlite.loads(json.dumps(data, indent=1)) == data
    assert jsonlite.loads(b' {"a": [1]}\n') == {"a": [1]}
    for bad in ("", "{", "{}x", "nul"):
        try:
            jsonlite.loads(bad)
        except ValueError:
            continue
        raise AssertionError(f"{bad!r} was accepted")


def test_pidfd_signals_skip_a_process_that_is_not_the_one_recorded() -> None:
    p = subprocess.Popen(["sleep", "300"])
    try:
        st = procutil._stat(p.pid)
        assert st is not None
        procutil.signal_lean([(p.pid, st[1] + 1)], signal.SIGKILL)  # another start time
        assert p.poll() is None
        procutil.signal_lean([(p.pid, st[1])], signal.SIGKILL)
        assert p.wait(10) == -signal.SIGKILL
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
