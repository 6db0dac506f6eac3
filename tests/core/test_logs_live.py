"""Logs of real processes: rotation under a fast writer, follow, cursors via the handle."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pmtest import PY, wait_for

from syft_pm.manager import ProcessManager

STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def all_lines(path: Path, backups: int) -> list[bytes]:
    out: list[bytes] = []
    for i in range(backups, 0, -1):
        p = Path(f"{path}.{i}")
        if p.exists():
            out.extend(p.read_bytes().splitlines())
    out.extend(path.read_bytes().splitlines())
    return out


def test_rotation_under_a_fast_writer_loses_no_line(pm: ProcessManager) -> None:
    n = 200_000
    code = f"import sys\nw = sys.stdout.write\nfor i in range({n}): w(f'{{i}} {'x' * 24}\\n')\n"
    h = pm.run(
        "flood",
        [PY, "-c", code],
        env={"PYTHONUNBUFFERED": "0"},  # buffered: big fast writes
        logs={"max_bytes": 256 * 1024, "backups": 100},
    )
    assert h.wait(60) == 0
    d = pm.registry.process_dir("flood")
    files = list(d.glob("stdout.log*"))
    assert len(files) > 10  # it did rotate, many times
    lines = all_lines(d / "stdout.log", 100)
    assert all(STAMP.match(ln) for ln in lines)
    got = [int(ln[25:].split()[0]) for ln in lines]
    assert got == list(range(n))
    for f in files:
        assert f.stat().st_size <= 256 * 1024 + 64 * 1024
    assert h.stdout.tail(3) == [f"{i} {'x' * 24}" for i in range(n - 3, n)]


def test_unbuffered_line_by_line_writer_is_complete(pm: ProcessManager) -> None:
    n = 20_000
    h = pm.run(
        "lines",
        [PY, "-c", f"for i in range({n}): print(i)"],
        logs={"max_bytes": 64 * 1024, "backups": 50},
    )
    assert h.wait(60) == 0
    lines = all_lines(pm.registry.process_dir("lines") / "stdout.log", 50)
    assert [int(ln[25:]) for ln in lines] == list(range(n))


def test_follow_yields_lines_and_stops_when_the_process_ends(
    pm: ProcessManager, tmp_path: Path
) -> None:
    gate = tmp_path / "go"
    code = (
        "import os, sys, time\n"
        "print('first')\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
        "for i in range(5): print('line', i); time.sleep(0.02)\n"
        "sys.stdout.write('no newline at the end')\n"
    )
    h = pm.run("chatty", [PY, "-c", code, str(gate)])
    wait_for(lambda: h.stdout.tail(1) == ["first"], what="first line")
    got: list[str] = []
    it = h.stdout.follow(lines=1, timeout=30)
    done = threading.Event()

    def consume() -> None:
        got.extend(it)
        done.set()

    t = threading.Thread(target=consume)
    t.start()
    gate.touch()
    assert done.wait(30)
    t.join()
    assert got == ["first", *[f"line {i}" for i in range(5)], "no newline at the end"]


def test_follow_timeout_on_a_live_process(pm: ProcessManager) -> None:
    h = pm.run("quiet", ["sleep", "60"])
    assert list(h.stdout.follow(timeout=0.3)) == []


def test_read_since_through_the_handle_across_rotation(pm: ProcessManager, tmp_path: Path) -> None:
    gate = tmp_path / "more"
    code = (
        "import os, sys, time\n"
        "for i in range(3000): print('a', i)\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
        "for i in range(3000): print('b', i)\n"
    )
    h = pm.run("cursor", [PY, "-c", code, str(gate)], logs={"max_bytes": 16 * 1024, "backups": 50})
    wait_for(lambda: h.stdout.tail(1) == ["a 2999"], what="first batch")
    first, cursor, skipped = h.stdout.read_since({"ino": 0, "off": 0}, max_lines=None)
    assert [ln.text for ln in first] == [f"a {i}" for i in range(3000)] and skipped == 0
    gate.touch()
    h.wait(30)
    lines, cursor, skipped = h.stdout.read_since(cursor, max_lines=100)
    assert [ln.text for ln in lines] == [f"b {i}" for i in range(2900, 3000)]
    assert skipped == 2900
    assert all(ln.t is not None for ln in lines)
    assert h.stdout.read_since(cursor).lines == []
    hits = h.stdout.search("B 1234")
    assert [x.text for x in hits] == ["b 1234"]
    assert [x.text for x in h.stdout.search("a 12", limit=3)] == ["a 1299", "a 1298", "a 1297"]


def test_logs_are_appended_across_runs(pm: ProcessManager) -> None:
    pm.run("twice", ["echo", "one"]).wait(10)
    h = pm.run("twice", ["echo", "two"])
    h.wait(10)
    assert h.stdout.tail(2) == ["one", "two"]


def _follow_in_thread(it: Iterator[str]) -> tuple[list[str], threading.Event]:
    got: list[str] = []
    done = threading.Event()

    def consume() -> None:
        for line in it:
            got.append(line)
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    return got, done


def test_follow_wakes_on_a_write_not_on_its_poll_tick(pm: ProcessManager, tmp_path: Path) -> None:
    """With a 30 s poll interval forced, a line and the process's end still reach the
    reader within seconds: follow() sleeps on inotify, the interval is only the fallback."""
    one, two = tmp_path / "one", tmp_path / "two"
    code = (
        "import os, sys, time\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
        "print('hello', flush=True)\n"
        "while not os.path.exists(sys.argv[2]): time.sleep(0.01)\n"
    )
    h = pm.run("slowpoll", [PY, "-c", code, str(one), str(two)])
    got, done = _follow_in_thread(h.stdout.follow(poll_interval=30.0, timeout=120))
    one.touch()
    wait_for(lambda: got == ["hello"], timeout=10, what="the line, long before the poll tick")
    two.touch()
    assert done.wait(10), "follow() did not notice the end before its poll tick"


def test_follow_polls_where_inotify_is_missing(
    pm: ProcessManager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from syft_pm import filewatch

    monkeypatch.setattr(filewatch, "open_dir_watch", lambda directory: None)
    gate = tmp_path / "go"
    code = (
        "import os, sys, time\n"
        "while not os.path.exists(sys.argv[1]): time.sleep(0.01)\n"
        "print('polled')\n"
    )
    h = pm.run("nowatch", [PY, "-c", code, str(gate)])
    got, done = _follow_in_thread(h.stdout.follow(poll_interval=0.05, timeout=60))
    gate.touch()
    assert done.wait(30)
    assert got == ["polled"]
