"""Bulk stop and restart: many processes act in parallel (API and CLI)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pmtest import PY, wait_for

import syft_pm
from syft_pm.bulk import BulkError, restart_all, stop_all
from syft_pm.manager import ProcessManager, ProcessNotFoundError

#: On SIGTERM: leave a mark, then wait (up to 8 s) until all five have one. Stopped one
#: after the other, the first would wait alone; stopped together, all five see five.
BARRIER = (
    "import os, signal, sys, time\n"
    "d, me = sys.argv[1], sys.argv[2]\n"
    "def on_term(*a):\n"
    "    open(os.path.join(d, me), 'w').close()\n"
    "    deadline = time.time() + 8\n"
    "    while len(os.listdir(d)) < 5 and time.time() < deadline: time.sleep(0.01)\n"
    "    print('all five' if len(os.listdir(d)) >= 5 else 'alone', flush=True)\n"
    "    sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, on_term)\n"
    "print('ready', flush=True)\n"
    "while True: time.sleep(1)\n"
)


def _five(pm: ProcessManager, marks: Path, **kw: object) -> list[str]:
    marks.mkdir()
    names = [f"slow{i}" for i in range(5)]
    for n in names:
        h = pm.run(n, [PY, "-c", BARRIER, str(marks), n], **kw)  # type: ignore[arg-type]
        wait_for(lambda h=h: h.stdout.tail(1) == ["ready"], what=f"{n} ready")
    return names


def test_stop_all_signals_every_process_before_any_has_finished(
    pm: ProcessManager, tmp_path: Path
) -> None:
    names = _five(pm, tmp_path / "marks")
    handles = stop_all(names, timeout=20, manager=pm)
    assert [h.name for h in handles] == names
    for h in handles:
        assert h.status == "stopped"
        assert h.stdout.tail(1) == ["all five"], (h.name, h.stdout.tail(3))


def test_restart_all_restarts_in_parallel_with_labels(pm: ProcessManager, tmp_path: Path) -> None:
    names = _five(pm, tmp_path / "marks", labels={"team": "a"})
    other = pm.run("other", ["sleep", "300"], labels={"team": "b"})
    old = {n: pm.get(n).pid for n in names}
    handles = restart_all(labels={"team": "a"}, timeout=20, manager=pm)
    assert sorted(h.name for h in handles) == names
    for h in handles:
        assert h.status == "running" and h.pid != old[h.name]
        assert "all five" in h.stdout.tail(5)
    assert other.status == "running"
    stop_all(labels={"team": "a"}, timeout=20, manager=pm)
    assert other.status == "running"
    assert all(pm.get(n).status == "stopped" for n in names)


def test_stop_all_defaults_to_every_process_of_the_default_registry(home: Path) -> None:
    for i in range(3):
        syft_pm.run(f"s{i}", ["sleep", "300"])
    handles = syft_pm.stop_all(timeout=5)
    assert sorted(h.name for h in handles) == ["s0", "s1", "s2"]
    assert all(h.status == "stopped" for h in syft_pm.list())


def test_unknown_names_are_refused_before_anything_is_stopped(pm: ProcessManager) -> None:
    h = pm.run("keep", ["sleep", "300"])
    with pytest.raises(ProcessNotFoundError, match="nope"):
        stop_all(["keep", "nope"], manager=pm)
    assert h.status == "running"


def test_one_failure_does_not_stop_the_others(pm: ProcessManager) -> None:
    pm.run("a", ["sleep", "300"])
    b = pm.run("b", ["sleep", "300"])
    (b.directory / "config.json").write_text("{broken")  # restart needs the stored command
    with pytest.raises(BulkError) as e:
        restart_all(["a", "b"], manager=pm)
    assert list(e.value.errors) == ["b"] and [h.name for h in e.value.done] == ["a"]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_stops_and_restarts_many(pm: ProcessManager) -> None:
    for n, team in (("w1", "web"), ("w2", "web"), ("db", "data")):
        pm.run(n, ["sleep", "300"], labels={"team": team})
    r = cli(pm.home, "restart", "-l", "team=web")
    assert r.returncode == 0, r.stderr
    assert [ln.split(":")[0] for ln in r.stdout.splitlines()] == ["w1", "w2"]
    r = cli(pm.home, "stop", "w1", "db")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["db: stopped", "w1: stopped"] or r.stdout.splitlines() == [
        "w1: stopped",
        "db: stopped",
    ]
    assert pm.get("w2").status == "running"
    r = cli(pm.home, "stop", "--all")
    assert r.returncode == 0, r.stderr
    assert "w2: stopped" in r.stdout and "w1: stopped (was not running)" in r.stdout
    r = cli(pm.home, "stop")
    assert r.returncode == 2 and "--all" in r.stderr
    r = cli(pm.home, "stop", "ghost")
    assert r.returncode == 1 and "ghost" in r.stderr
