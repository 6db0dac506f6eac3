"""The watcher turns the registry into a snapshot and then deltas, cheaply and exactly."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from pmtest import PY, wait_for

from syft_pm.live import protocol
from syft_pm.live.watcher import Watcher
from syft_pm.live.watcher_thread import WatcherThread
from syft_pm.logwriter import LogWriter
from syft_pm.manager import ProcessManager
from syft_pm.registry import atomic_write_json

FOREVER = 1e9


class Inbox:
    """A subscriber's view: collects messages; helpers to query them."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def __call__(self, msg: dict[str, Any]) -> None:
        # Messages must survive a JSON round trip: that is what the transports do.
        self.messages.append(json.loads(json.dumps(msg)))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m["type"] == kind]

    def lines(self, name: str, stream: str = "stdout") -> list[str]:
        out: list[str] = []
        for m in self.messages:
            if m["type"] == "snapshot":
                out = [t for _, t in m["logs"].get(name, {}).get(stream, {}).get("lines", [])]
            elif m["type"] == "delta":
                chunk = m["logs"].get(name, {}).get(stream)
                if chunk:
                    out.extend(t for _, t in chunk["lines"])
        return out

    def seqs(self) -> list[int]:
        return [m["seq"] for m in self.messages if m["type"] in ("snapshot", "delta")]


def make_watcher(pm: ProcessManager, **kw: Any) -> Watcher:
    kw.setdefault("metrics_interval", FOREVER)
    kw.setdefault("heartbeat_interval", FOREVER)
    return Watcher(pm.registry, **kw)


def printer(lines: int, then_sleep: bool = True) -> list[str]:
    code = f"for i in range({lines}): print('line', i, flush=True)\n"
    if then_sleep:
        code += "import time; time.sleep(300)\n"
    return [PY, "-c", code]


@pytest.fixture(autouse=True)
def stand_in_supervisor() -> Iterator[psutil.Process]:
    """A live process that hand-written entries name as their supervisor (a reader reports
    an active entry whose supervisor is dead as failed). Stopping such an entry may signal
    it, which is why it is a throwaway ``sleep`` and not this test process."""
    global _STAND_IN
    proc = subprocess.Popen(["sleep", "300"])
    _STAND_IN = psutil.Process(proc.pid)
    yield _STAND_IN
    proc.kill()
    proc.wait()


_STAND_IN: psutil.Process | None = None


def fake_entry(pm: ProcessManager, name: str, status: str = "running") -> Path:
    """A registry entry written by hand, for file-level scenarios (its supervisor is the
    stand-in above)."""
    assert _STAND_IN is not None
    d = pm.registry.ensure().processes_dir / name
    d.mkdir()
    atomic_write_json(d / "config.json", {"schema": 1, "name": name, "cmd": ["true"]})
    state = {
        "schema": 1,
        "status": status,
        "restarts": 0,
        "run_id": "x",
        "supervisor_pid": _STAND_IN.pid,
        "supervisor_create_time": _STAND_IN.create_time(),
    }
    atomic_write_json(d / "state.json", state)
    return d


def test_snapshot_names_processes_with_state_and_log_tail(pm):
    h = pm.run("snap", printer(30))
    wait_for(lambda: len(h.stdout.tail(30)) == 30, what="30 lines")
    w = make_watcher(pm, snapshot_lines=10)
    inbox = Inbox()
    w.subscribe(inbox)
    (snap,) = inbox.messages
    assert snap["type"] == "snapshot" and snap["protocol"] == protocol.PROTOCOL_VERSION
    assert snap["registry_id"] == pm.registry.id
    state = snap["processes"]["snap"]
    assert set(state) == set(protocol.STATE_FIELDS)
    assert state["status"] == "running" and state["pid"] == h.pid
    assert inbox.lines("snap") == [f"line {i}" for i in range(20, 30)]


def test_deltas_carry_added_changed_exit_and_only_changed_fields(pm):
    w = make_watcher(pm)
    inbox = Inbox()
    w.subscribe(inbox)
    gate = pm.registry.home / "gate"
    wait_then_fail = (
        "import os, sys, time\nwhile not os.path.exists(sys.argv[1]): time.sleep(0.01)\nsys.exit(3)"
    )
    h = pm.run("life", [PY, "-c", wait_then_fail, str(gate)])
    w.scan()
    added = [m for m in inbox.of("delta") if "life" in m["added"]]
    assert added and added[0]["added"]["life"]["status"] == "running", inbox.messages
    gate.touch()
    h.wait(timeout=10)
    w.scan()
    changes = [m["changed"]["life"] for m in inbox.of("delta") if "life" in m["changed"]]
    final = {k: v for c in changes for k, v in c.items()}
    assert final["status"] == "failed" and final["exit_code"] == 3
    # Only fields that changed travel: the command never changes, so it never appears.
    assert all("command" not in c for c in changes)
    assert inbox.seqs() == list(range(1, len(inbox.seqs()) + 1))


def test_each_log_line_arrives_exactly_once_in_order(pm):
    w = make_watcher(pm)
    inbox = Inbox()
    w.subscribe(inbox)
    h = pm.run("once", printer(500, then_sleep=False))
    h.wait(timeout=20)
    for _ in range(3):  # drain: the final lines may land after the exit is recorded
        w.scan()
    assert inbox.lines("once") == [f"line {i}" for i in range(500)]


def test_lines_survive_rotation(pm):
    w = make_watcher(pm, max_lines_per_tick=100_000)
    inbox = Inbox()
    w.subscribe(inbox)
    h = pm.run(
        "rot",
        [PY, "-c", "import time\nfor i in range(3000):\n print('row', i)\n time.sleep(0.0002)"],
        logs={"max_bytes": 4096, "backups": 50},
    )
    while h.is_running():
        w.scan()
    w.scan()
    assert len(h.stdout.paths()) > 3, "the log should have rotated several times"
    assert inbox.lines("rot") == [f"row {i}" for i in range(3000)]


def test_truncated_log_is_read_from_its_start(pm):
    d = fake_entry(pm, "trunc")
    writer = LogWriter(str(d / "stdout.log"))
    writer.write(b"before 1\nbefore 2\n")
    w = make_watcher(pm)
    inbox = Inbox()
    w.subscribe(inbox)
    os.truncate(d / "stdout.log", 0)
    writer = LogWriter(str(d / "stdout.log"))
    writer.write(b"after\n")
    w.scan()
    assert inbox.lines("trunc") == ["before 1", "before 2", "after"]


def test_removed_entry_is_announced(pm):
    d = fake_entry(pm, "gone", status="exited")
    w = make_watcher(pm)
    inbox = Inbox()
    w.subscribe(inbox)
    for f in d.iterdir():
        f.unlink()
    d.rmdir()
    w.scan()
    assert inbox.of("delta")[-1]["removed"] == ["gone"]


def test_flood_is_coalesced_with_a_count_of_skipped_lines(pm):
    d = fake_entry(pm, "flood")
    writer = LogWriter(str(d / "stdout.log"))
    w = make_watcher(pm, max_lines_per_tick=100)
    inbox = Inbox()
    w.subscribe(inbox)
    writer.write(b"".join(b"flood %d\n" % i for i in range(10_000)))
    w.scan()
    chunk = inbox.of("delta")[-1]["logs"]["flood"]["stdout"]
    assert chunk["skipped"] == 9_900
    assert [t for _, t in chunk["lines"]] == [f"flood {i}" for i in range(9_900, 10_000)]


def test_resync_after_a_gap_gives_current_state_with_next_seq(pm):
    d = fake_entry(pm, "gap")
    w = make_watcher(pm)
    inbox = Inbox()
    sub = w.subscribe(inbox)
    atomic_write_json(d / "state.json", {"schema": 1, "status": "exited", "exit_code": 0})
    w.scan()
    lost = inbox.messages.pop()  # the view never saw this delta
    assert lost["type"] == "delta"
    w.resync(sub)
    snap = inbox.messages[-1]
    assert snap["type"] == "snapshot" and snap["seq"] == lost["seq"] + 1
    assert snap["processes"]["gap"]["status"] == "exited"


def test_scope_and_log_opt_out(pm):
    for n in ("a", "b"):
        fake_entry(pm, n)
        LogWriter(str(pm.registry.processes_dir / n / "stdout.log"))
    w = make_watcher(pm)
    only_a, no_logs = Inbox(), Inbox()
    w.subscribe(only_a, ["a"])
    w.subscribe(no_logs, logs=False)
    assert set(only_a.messages[0]["processes"]) == {"a"}
    for n in ("a", "b"):
        LogWriter(str(pm.registry.processes_dir / n / "stdout.log")).write(b"hello\n")
    atomic_write_json(
        pm.registry.processes_dir / "b" / "state.json", {"schema": 1, "status": "stopped"}
    )
    w.scan()
    assert only_a.lines("a") == ["hello"]
    assert all("b" not in m.get("changed", {}) for m in only_a.messages)
    assert all(not m.get("logs") for m in no_logs.of("delta"))
    assert any("b" in m["changed"] for m in no_logs.of("delta"))


def test_idle_fleet_sends_nothing_but_heartbeats(pm):
    for i in range(5):
        fake_entry(pm, f"idle{i}", status="exited")
    now = [1000.0]
    w = make_watcher(pm, heartbeat_interval=15.0, clock=lambda: now[0])
    inbox = Inbox()
    w.subscribe(inbox)
    for _ in range(10):
        now[0] += 1.0
        assert w.scan() is False
    assert inbox.of("delta") == [] and inbox.of("heartbeat") == []
    now[0] += 10.0
    w.scan()
    (hb,) = inbox.of("heartbeat")
    assert hb["seq"] == inbox.messages[0]["seq"]


def test_metrics_are_sent_for_running_processes(pm):
    pm.run("busy", [PY, "-c", "import time\nwhile True: sum(range(10000))"])
    w = make_watcher(pm, metrics_interval=0.0)
    inbox = Inbox()
    w.subscribe(inbox)

    def cpu_seen() -> bool:
        w.scan()
        return any(
            (m.get("changed", {}).get("busy") or {}).get("metrics", {}).get("cpu_percent", 0) > 5
            for m in inbox.of("delta")
        )

    wait_for(cpu_seen, timeout=15, what="a CPU figure for a busy process")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux-only")
def test_thread_pushes_a_new_line_promptly(pm):
    h = pm.run("push", ["sleep", "300"])
    w = make_watcher(pm)
    inbox = Inbox()
    w.subscribe(inbox)
    thread = WatcherThread(w, idle_tick=30.0)
    thread.start()
    try:
        # Write into the log as the supervisor would; the thread must wake on it.
        LogWriter(str(h.directory / "stdout.log")).write(b"ping\n")
        wait_for(lambda: "ping" in inbox.lines("push"), timeout=2, what="the line to be pushed")
    finally:
        thread.close()
    assert not thread.running


def test_late_subscriber_sees_each_line_once_across_snapshot_and_delta(pm):
    d = fake_entry(pm, "seam")
    writer = LogWriter(str(d / "stdout.log"))
    writer.write(b"old\n")
    w = make_watcher(pm)
    w.subscribe(Inbox())
    writer.write(b"new\n")  # written after the last scan, before the late snapshot
    late = Inbox()
    w.subscribe(late)
    w.scan()
    assert late.lines("seam") == ["old", "new"]


def test_unchanging_metrics_are_sampled_less_and_less_often(pm):
    pm.run("calm", ["sleep", "300"])
    now = [1000.0]
    w = make_watcher(pm, metrics_interval=2.0, clock=lambda: now[0])
    sampled: list[float] = []

    class Steady:
        def sample(self, targets):
            sampled.extend(now[0] for _ in targets)
            return {n: {"cpu_percent": 0.0} for n in targets}

    w._sampler = Steady()  # type: ignore[assignment]
    w.subscribe(Inbox())
    for _ in range(200):  # 200 s of one scan a second
        now[0] += 1.0
        w.scan()
    gaps = [b - a for a, b in itertools.pairwise(sampled)]
    assert gaps[0] == 2.0 and max(gaps) == 16.0, gaps
    assert len(sampled) < 25  # vs 100 samples without backoff
