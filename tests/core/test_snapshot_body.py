"""Snapshots of an unchanged fleet share one body, encoded once; a change makes a new one;
views that subscribe together share the scan that reads their writes."""

from __future__ import annotations

import json
import threading
from typing import Any

from pmtest import PY, wait_for

from syft_pm.live import protocol
from syft_pm.live.watcher import Watcher
from syft_pm.manager import ProcessManager

FOREVER = 1e9


def make_watcher(pm: ProcessManager) -> Watcher:
    return Watcher(pm.registry, metrics_interval=FOREVER, heartbeat_interval=FOREVER)


def printer(lines: int) -> list[str]:
    return [PY, "-c", f"for i in range({lines}): print('line', i, flush=True)\n"]


class Raw:
    """Keeps messages as the watcher sent them (no JSON round trip), to compare objects."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    def __call__(self, msg: dict[str, Any]) -> None:
        self.messages.append(msg)

    def snapshot(self) -> dict[str, Any]:
        (snap,) = [m for m in self.messages if m["type"] == "snapshot"][-1:]
        return snap


def run_two(pm: ProcessManager) -> None:
    for name in ("a", "b"):
        h = pm.run(name, printer(5))
        wait_for(lambda h=h: h.status == "exited", what=f"{name} exited")


def test_views_of_an_unchanged_fleet_share_one_body_encoded_once(pm, monkeypatch):
    run_two(pm)
    w = make_watcher(pm)
    one, two = Raw(), Raw()
    w.subscribe(one)
    w.subscribe(two)
    s1, s2 = one.snapshot(), two.snapshot()
    assert s1["processes"] is s2["processes"] and s1["logs"] is s2["logs"]

    maps: list[int] = []
    real = protocol._encode_map
    monkeypatch.setattr(protocol, "_encode_map", lambda v: maps.append(len(v)) or real(v))
    e1, e2 = protocol.encode(s1), protocol.encode(s2)
    assert maps == [2, 2], "processes and logs are encoded once, for both messages"
    assert json.loads(e1) == json.loads(json.dumps(s1))
    assert json.loads(e2)["seq"] == s2["seq"] and json.loads(e2)["logs"] == json.loads(e1)["logs"]
    assert [t for _, t in json.loads(e2)["logs"]["a"]["stdout"]["lines"]] == [
        f"line {i}" for i in range(5)
    ]


def test_a_changed_state_or_log_gives_the_next_view_a_fresh_body(pm):
    h = pm.run("a", [PY, "-c", "import time; time.sleep(300)"])
    w = make_watcher(pm)
    first = Raw()
    w.subscribe(first)
    before = protocol.encode(first.snapshot())  # the body is encoded and kept
    assert json.loads(before)["processes"]["a"]["status"] == "running"

    h.stop()
    late = Raw()
    w.subscribe(late)
    snap = json.loads(protocol.encode(late.snapshot()))
    assert snap["processes"]["a"]["status"] == "stopped"
    assert late.snapshot()["processes"] is not first.snapshot()["processes"]


def test_a_new_log_line_reaches_the_next_snapshot(pm):
    h = pm.run("p", [PY, "-u", "-c", "import time\nprint('one')\ntime.sleep(300)"])
    wait_for(lambda: h.stdout.tail(1) == ["one"], what="first line")
    w = make_watcher(pm)
    first = Raw()
    w.subscribe(first)
    protocol.encode(first.snapshot())
    with open(pm.registry.process_dir("p") / "stdout.log", "ab") as f:  # as the writer does
        f.write(b"two\n")
    late = Raw()
    w.subscribe(late)
    lines = json.loads(protocol.encode(late.snapshot()))["logs"]["p"]["stdout"]["lines"]
    assert [t for _, t in lines] == ["one", "two"]
    h.stop()


class CountingWatcher(Watcher):
    """Notes when a subscriber has read the scan counter (the moment it 'arrived')."""

    reads = 0
    arrived = threading.Condition()

    @property
    def _full_scans(self) -> int:
        with self.arrived:
            self.reads += 1
            self.arrived.notify_all()
        return self._n

    @_full_scans.setter
    def _full_scans(self, value: int) -> None:
        self._n = value


def test_views_subscribing_together_share_the_scan_that_reads_their_writes(pm):
    run_two(pm)
    w = CountingWatcher(pm.registry, metrics_interval=FOREVER, heartbeat_interval=FOREVER)
    w.subscribe(Raw())  # primes the watcher
    views = [Raw() for _ in range(5)]
    with w._lock:  # a scan in progress: every subscriber arrives and waits
        w.reads = 0
        threads = [threading.Thread(target=w.subscribe, args=(v,)) for v in views]
        for t in threads:
            t.start()
        with w.arrived:
            assert w.arrived.wait_for(lambda: w.reads >= 5, timeout=10)
        pm.run("c", printer(1))  # written after they arrived: someone must scan again
    for t in threads:
        t.join(10)
    assert all(v.snapshot()["processes"].keys() == {"a", "b", "c"} for v in views)
    # The first subscriber scans; the four others arrived before that scan began.
    assert w._n == 2  # priming, and one catch-up for all five


def test_with_inotify_a_subscriber_scans_only_what_changed_and_still_reads_its_writes(pm):
    from syft_pm.live.watcher_thread import WatcherThread
    from syft_pm.registry import atomic_write_json

    run_two(pm)
    w = make_watcher(pm)
    full_scans: list[set[str] | None] = []
    scan = w._scan_locked

    def counting(**kw: Any) -> bool:
        full_scans.append(kw.get("only"))
        return scan(**kw)

    w._scan_locked = counting  # type: ignore[method-assign]
    first = Raw()
    w.subscribe(first)  # primes (a full scan)
    # burst=1 and a long interval: after one scan with news the thread waits, so what
    # happens next is left to the subscribers' catch-up.
    thread = WatcherThread(w, burst=1, min_interval=1000.0, idle_tick=1000.0)
    thread.start()
    try:
        wait_for(lambda: w.changes_since_scan is not None, what="the thread's inotify")
        wait_for(
            lambda: thread._ino is not None and len(thread._ino.watched()) >= 3, what="watches"
        )
        full_scans.clear()
        state_file = pm.registry.process_dir("a") / "state.json"
        state = json.loads(state_file.read_text())
        atomic_write_json(state_file, {**state, "reason": "changed by hand"})
        views = [Raw() for _ in range(10)]
        for v in views:
            w.subscribe(v)
        assert views[0].snapshot()["processes"]["a"]["reason"] == "changed by hand"
        assert all(v.snapshot()["processes"]["a"]["reason"] == "changed by hand" for v in views)
        assert None not in full_scans, f"no full scan for a subscriber: {full_scans}"
        assert any(delta_names(m) == {"a"} for m in first.messages[1:]), first.messages
    finally:
        thread.close()


def delta_names(m: dict[str, Any]) -> set[str]:
    return (
        set(m.get("changed") or {}) | set(m.get("added") or {}) if m["type"] == "delta" else set()
    )
