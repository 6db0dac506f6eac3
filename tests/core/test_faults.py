"""Fault injection: what a failing machine or odd output does to a managed process.

A process manager's first promise is that it never harms what it manages and never
loses a record. Each test here injects one fault for real (a full disk is a small
tmpfs mounted as the registry; a damaged file is damaged on disk; a progress bar is a
process printing carriage returns) and checks that the process lives on and the record
catches up.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from pmtest import PY, processes_with_env, wait_for

from syft_pm.logs import TEXT_CAP, LogStream, parse_line
from syft_pm.logwriter import LINE_MAX, PREFIX_LEN, LogWriter
from syft_pm.manager import ProcessExistsError, ProcessManager, ProcessStartError
from syft_pm.registry import Registry, atomic_write_json, read_json
from syft_pm.termtext import render_cr

MARKER = re.compile(r"\[syft_pm: (\d+) bytes dropped, disk full\]")

# -- a full disk ---------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs: a disk that a chatty process fills in a fraction of a second."""
    if os.geteuid() != 0:
        pytest.skip("a full disk is simulated with a tmpfs mount, which needs root")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs", str(mnt)],
        capture_output=True,
        text=True,
        check=False,
    )
    if r.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def disk_pm(small_disk: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProcessManager]:
    """A registry on the small disk; everything it started is gone after the test."""
    home = small_disk / "pm"
    monkeypatch.setenv("SYFT_PM_HOME", str(home))
    pm = ProcessManager(home)
    yield pm
    (small_disk / "filler").unlink(missing_ok=True)
    for h in pm.list():
        if h.is_running():
            h.stop(timeout=2)
    leftovers = [p for p in processes_with_env("SYFT_PM_HOME", str(home)) if p.pid != os.getpid()]
    for p in leftovers:
        p.kill()
    assert not leftovers, f"processes outlived the test: {leftovers}"


CHATTY = """
import os, sys, time
ctl = sys.argv[1]
big = ("x" * 1023 + "\\n") * 64
n = 0
while True:
    n += 1
    flood = os.path.exists(os.path.join(ctl, "flood"))
    sys.stdout.write(big if flood else f"beat {n}\\n")
    sys.stdout.flush()
    with open(os.path.join(ctl, "beat.tmp"), "w") as f:
        f.write(f"{os.getpid()} {n}")
    os.replace(os.path.join(ctl, "beat.tmp"), os.path.join(ctl, "beat"))
    if os.path.exists(os.path.join(ctl, "die")):
        os.unlink(os.path.join(ctl, "die"))
        sys.exit(3)
    time.sleep(0.01)
"""


def _beat(ctl: Path) -> tuple[int, int]:
    try:
        pid, n = (ctl / "beat").read_text().split()
    except (OSError, ValueError):
        return 0, 0
    return int(pid), int(n)


def _alive_and_writing(ctl: Path, pid: int) -> None:
    """The child keeps writing (its pipe is drained): its beat counter moves on."""
    start = _beat(ctl)[1]
    wait_for(
        lambda: _beat(ctl)[0] == pid and _beat(ctl)[1] >= start + 20,
        timeout=15,
        what=f"child {pid} to keep writing",
    )


def _disk_full(mnt: Path) -> bool:
    return os.statvfs(mnt).f_bavail == 0


def _chatty(tmp_path: Path) -> tuple[Path, Path]:
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    script = tmp_path / "chatty.py"
    script.write_text(CHATTY)
    return ctl, script


def test_full_disk_never_kills_the_child_and_the_record_catches_up(
    disk_pm: ProcessManager, small_disk: Path, tmp_path: Path
) -> None:
    ctl, script = _chatty(tmp_path)
    h = disk_pm.run(
        "chatty", [PY, str(script), str(ctl)], restart="on-failure", backoff={"initial": 0.2}
    )
    first = h.pid
    assert first is not None
    # A big file of someone else's takes part of the disk; the process's logs take the rest.
    (small_disk / "filler").write_bytes(b"\0" * (1 << 20))
    (ctl / "flood").touch()
    wait_for(lambda: _disk_full(small_disk), timeout=20, what="the disk to fill up")
    _alive_and_writing(ctl, first)

    # A restart while the disk is full: the state cannot be written, supervision goes on.
    (ctl / "die").touch()
    second = wait_for(
        lambda: _beat(ctl)[0] if _beat(ctl)[0] not in (0, first) else 0,
        timeout=15,
        what="the restarted child",
    )
    _alive_and_writing(ctl, second)
    assert _disk_full(small_disk)
    on_disk = read_json(h.record.directory / "state.json")
    assert on_disk["pid"] == first, "precondition: the disk refused the state writes"

    # Space comes back: the marker is written, the state catches up.
    (ctl / "flood").unlink()
    (small_disk / "filler").unlink()

    def caught_up() -> bool:
        st = read_json(h.record.directory / "state.json")
        return bool(st["pid"] == second and st["restarts"] == 1 and st["status"] == "running")

    wait_for(caught_up, timeout=10, what="state.json to catch up")
    wait_for(
        lambda: any(MARKER.search(line) for line in h.stdout.tail(500)),
        timeout=10,
        what="the dropped-bytes marker",
    )
    dropped = [int(m.group(1)) for ln in h.stdout.tail(500) if (m := MARKER.search(ln))]
    assert dropped and all(n > 0 for n in dropped)
    assert h.refresh().status == "running" and h.pid == second
    _alive_and_writing(ctl, second)

    rec = h.stop(timeout=2).record
    assert rec.status == "stopped" and rec.state["stop_reason"] == "requested"
    assert not psutil.pid_exists(second) or psutil.Process(second).status() == "zombie"


def test_stop_works_on_a_full_disk(
    disk_pm: ProcessManager, small_disk: Path, tmp_path: Path
) -> None:
    ctl, script = _chatty(tmp_path)
    (ctl / "flood").touch()
    h = disk_pm.run("chatty", [PY, str(script), str(ctl)])
    pid = h.pid
    assert pid is not None
    wait_for(lambda: _disk_full(small_disk), timeout=20, what="the disk to fill up")
    _alive_and_writing(ctl, pid)
    assert _disk_full(small_disk)

    rec = h.stop(timeout=2).record  # the child is still flooding: the disk stays full
    assert rec.status == "stopped", rec
    assert rec.state["stop_reason"] == "requested"
    wait_for(lambda: not psutil.pid_exists(pid), timeout=5, what="the child to be gone")


def test_health_checks_survive_a_full_disk(
    disk_pm: ProcessManager, small_disk: Path, tmp_path: Path
) -> None:
    ctl, script = _chatty(tmp_path)
    health = {"type": "command", "cmd": ["true"], "interval": 0.2}
    h = disk_pm.run("chatty", [PY, str(script), str(ctl)], health=health)
    pid = h.pid
    assert pid is not None
    record = h.record.directory / "health.json"
    wait_for(record.exists, timeout=10, what="the first health check")
    (small_disk / "filler").write_bytes(b"\0" * (1 << 20))
    (ctl / "flood").touch()
    wait_for(lambda: _disk_full(small_disk), timeout=20, what="the disk to fill up")
    _alive_and_writing(ctl, pid)  # meanwhile several checks could not be recorded
    (ctl / "flood").unlink()
    (small_disk / "filler").unlink()
    after = time.time()
    wait_for(
        lambda: read_json(record)["checked_at"] > after,
        timeout=10,
        what="health checks to be recorded again",
    )
    assert h.refresh().status == "running"


def test_run_on_a_full_disk_is_a_clear_error_and_leaves_no_entry(
    disk_pm: ProcessManager, small_disk: Path
) -> None:
    disk_pm.run("old", ["true"]).wait(10)
    with open(small_disk / "filler", "wb", buffering=0) as f, contextlib.suppress(OSError):
        f.write(b"\0" * (4 << 20))  # more than the disk holds: it fills up
    assert _disk_full(small_disk)
    with pytest.raises(ProcessStartError, match="cannot be written"):
        disk_pm.run("new", ["sleep", "60"])
    assert [h.name for h in disk_pm.list()] == ["old"], "no half-made 'new' entry"
    with pytest.raises(ProcessStartError, match="cannot be written"):
        disk_pm.run("old", ["sleep", "60"])
    old = disk_pm.get("old")
    assert old.status == "exited", "the existing entry keeps its last record"
    (small_disk / "filler").unlink()
    h = disk_pm.run("new", ["sleep", "60"])
    assert h.status == "running"


# -- state files are never half-written ----------------------------------------------------


def test_supervisor_never_writes_through_a_planted_temporary_file(
    pm: ProcessManager, tmp_path: Path
) -> None:
    h = pm.run("t", ["sleep", "60"])
    d = h.record.directory
    sup = h.record.state["supervisor_pid"]
    victim = tmp_path / "victim"
    victim.write_text("precious")
    # The temporary names an earlier supervisor used were predictable (pid only).
    for name in ("state.json", "health.json"):
        (d / f".{name}.{sup}.tmp").symlink_to(victim)
    rec = h.stop(timeout=2).record
    assert rec.status == "stopped"
    assert victim.read_text() == "precious"
    assert not (d / "state.json").is_symlink()
    assert stat.S_IMODE((d / "state.json").stat().st_mode) == 0o600


def test_atomic_write_is_private_and_never_torn(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    old = os.umask(0)
    try:
        atomic_write_json(target, {"schema": 1, "n": 0})
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    # Writers in threads and in other processes; a reader never sees half a file.
    big = "y" * 300_000
    stop = threading.Event()
    torn: list[str] = []

    def read_loop() -> None:
        while not stop.is_set():
            try:
                data = read_json(target)
            except Exception as e:
                torn.append(repr(e))
                return
            if data.get("pad") not in (None, big):
                torn.append("pad changed")

    def write_loop(k: int) -> None:
        for i in range(40):
            atomic_write_json(target, {"schema": 1, "n": i, "w": k, "pad": big})

    code = (
        "import sys; from pathlib import Path; from syft_pm.registry import atomic_write_json\n"
        "for i in range(40): atomic_write_json(Path(sys.argv[1]), "
        "{'schema': 1, 'n': i, 'w': 'p', 'pad': 'y' * 300000})"
    )
    reader = threading.Thread(target=read_loop)
    reader.start()
    procs = [subprocess.Popen([PY, "-c", code, str(target)]) for _ in range(2)]
    writers = [threading.Thread(target=write_loop, args=(k,)) for k in range(3)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    assert all(p.wait(60) == 0 for p in procs)
    stop.set()
    reader.join()
    assert not torn
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"], "temporary files left"


# -- a damaged state.json never leads to a kill --------------------------------------------


def test_truncated_state_of_a_live_process_is_reused_not_killed(pm: ProcessManager) -> None:
    h = pm.run("t", ["sleep", "60"])
    pid = h.pid
    assert pid is not None
    state = h.record.directory / "state.json"
    state.write_bytes(b'{"schema": 1, "status": "runn')  # a half-written file
    assert pm.get("t").status == "error"
    assert "alive" in (pm.get("t").reason or "")
    again = pm.run("t", ["sleep", "60"])  # if_exists="reuse"
    assert again.pid == pid and psutil.pid_exists(pid)
    assert again.status == "running"
    assert read_json(state)["pid"] == pid  # the supervisor wrote its state again


def test_unreadable_state_of_a_live_process_is_reported_never_signalled(
    pm: ProcessManager,
) -> None:
    h = pm.run("t", ["sleep", "60"])
    pid = h.pid
    assert pid is not None
    sup = h.record.state["supervisor_pid"]
    state = h.record.directory / "state.json"
    state.unlink()
    state.mkdir()  # the supervisor cannot replace it either
    with pytest.raises(ProcessExistsError, match="alive"):
        pm.run("t", ["sleep", "60"])
    assert psutil.pid_exists(pid) and psutil.pid_exists(sup)
    listed = {x.name: x for x in pm.list()}
    assert listed["t"].status == "error" and "alive" in (listed["t"].reason or "")
    state.rmdir()  # once it can, the supervisor records its state again
    wait_for(lambda: pm.get("t").status == "running", timeout=5, what="the state to return")
    assert pm.get("t").pid == pid
    assert pm.get("t").stop(timeout=2).status == "stopped"


def test_stop_of_an_entry_with_a_truncated_state_stops_it_properly(
    pm: ProcessManager,
) -> None:
    h = pm.run("t", ["sleep", "60"])
    pid = h.pid
    assert pid is not None
    (h.record.directory / "state.json").write_bytes(b"")
    rec = pm.get("t").stop(timeout=2).record
    assert rec.status == "stopped" and rec.state["stop_reason"] == "requested"
    wait_for(lambda: not psutil.pid_exists(pid), timeout=5, what="the child to be gone")


@pytest.mark.parametrize(
    "fields",
    [
        {"pid": "abc", "create_time": [1]},
        {"supervisor_pid": "x", "supervisor_create_time": "y"},
        {"supervisor_pid": True, "supervisor_create_time": {}},
        {"restarts": "many", "started_at": "yesterday"},
    ],
)
def test_wrongly_typed_state_is_an_error_never_a_crash_or_a_kill(
    pm: ProcessManager, fields: dict[str, object]
) -> None:
    h = pm.run("t", ["sleep", "60"])
    pid = h.pid
    assert pid is not None
    state = h.record.directory / "state.json"
    state.write_text(json.dumps({**read_json(state), **fields}))
    listed = {x.name: x for x in pm.list()}
    assert listed["t"].status == "error" and "state.json field" in (listed["t"].reason or "")
    assert pm.get("t").info()["status"] == "error"
    out = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0 and "error" in out.stdout, out.stderr
    assert psutil.pid_exists(pid)
    again = pm.run("t", ["sleep", "60"])  # the live supervisor rewrites its record
    assert again.pid == pid and again.status == "running"


def test_a_record_naming_a_dead_supervisor_never_kills_the_live_one(pm: ProcessManager) -> None:
    h = pm.run("t", ["sleep", "60"])
    pid = h.pid
    assert pid is not None
    state = h.record.directory / "state.json"
    gone = subprocess.Popen(["true"])
    gone.wait()
    # A stale or foreign record: its supervisor is dead, the real one is alive.
    state.write_text(
        json.dumps({**read_json(state), "supervisor_pid": gone.pid, "supervisor_create_time": 1.0})
    )
    assert pm.get("t").status == "running"
    again = pm.run("t", ["sleep", "60"])
    assert again.pid == pid and psutil.pid_exists(pid)
    assert read_json(state)["supervisor_pid"] != gone.pid  # rewritten by the live one
    assert again.stop(timeout=2).status == "stopped"
    wait_for(lambda: not psutil.pid_exists(pid), timeout=5, what="the child to be gone")


def test_a_start_does_not_hang_on_a_lifetime_lock_held_elsewhere(pm: ProcessManager) -> None:
    """An earlier supervisor stuck in the kernel (here: the test holding its lock) delays
    the next start by a few seconds at most; it used to block it until run() gave up."""
    import fcntl

    pm.run("t", ["true"]).wait(10)
    fd = os.open(pm.registry.process_dir("t") / "supervisor.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        h = pm.run("t", ["sleep", "60"])
        assert h.status == "running"
    finally:
        os.close(fd)
    assert h.stop(timeout=2).status == "stopped"


# -- a damaged registry.json ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content", [b"", b'{"schema": 1, "id": "abc', b'{"schema": 1}', b'{"schema": 1, "id": "<b>"}']
)
def test_damaged_registry_json_is_repaired_not_raised(tmp_path: Path, content: bytes) -> None:
    home = tmp_path / "reg"
    Registry(home).ensure()
    meta = home / "registry.json"
    meta.write_bytes(content)
    rid = Registry(home).id  # must not raise
    assert re.fullmatch(r"[0-9a-f-]{36}", rid)
    assert Registry(home).id == rid, "the repair is on disk: every reader agrees"
    assert read_json(meta)["id"] == rid
    assert (home / "registry.json.damaged").read_bytes() == content


def test_processes_keep_working_with_a_damaged_registry_json(pm: ProcessManager) -> None:
    h = pm.run("t", ["sleep", "60"])
    (pm.home / "registry.json").write_bytes(b"\0\0garbage")
    other = ProcessManager(pm.home)
    assert other.registry.id
    assert other.get("t").pid == h.pid


# -- output that is not lines --------------------------------------------------------------


def test_render_cr_shows_what_a_terminal_shows() -> None:
    assert render_cr("plain") == "plain"
    assert render_cr("\rprogress 1\rprogress 2") == "progress 2"
    assert render_cr("abcdef\rxy") == "xycdef"
    assert render_cr("done\r") == "done"
    assert render_cr(" 10%|#  |\r 20%|## |\r") == " 20%|## |"
    assert render_cr("\r" * 100_000 + "x") == "x"


def test_a_long_line_is_cut_into_continued_pieces(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p))
    line = bytes(range(32, 127)) * 3000  # 285 KB, no newline
    for i in range(0, len(line), 7000):
        w.write(line[i : i + 7000])
    w.write(b"\nnext\n")
    w.close()
    stored = p.read_bytes().split(b"\n")[:-1]
    assert all(len(s) <= PREFIX_LEN + LINE_MAX for s in stored)
    parsed = [parse_line(s) for s in stored]
    assert [x.cont for x in parsed] == [False] + [True] * (len(parsed) - 2) + [False]
    assert "".join(x.text for x in parsed[:-1]).encode() == line
    assert parsed[-1].text == "next"


def test_output_without_newlines_still_rotates(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=100_000, backups=2)
    for i in range(2000):
        w.write(b"\rprogress %d " % i + b"#" * 2000)
    w.close()
    files = LogStream(p, backups=2).paths()
    assert len(files) == 3
    assert all(os.path.getsize(f) <= 100_001 for f in files)
    assert LogStream(p, backups=2).tail(3) == ["progress 1999 " + "#" * 2000]


def test_a_progress_bar_tails_as_one_line(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=1 << 20, backups=2)
    w.write(b"starting\n")

    def bar(j: int) -> bytes:
        return b"\r%3d%%|%-20s|" % (j // 200, b"#" * (j // 1000))

    for i in range(0, 20_000, 1000):  # 560 KB of redraws, never a newline
        w.write(b"".join(bar(j) for j in range(i, i + 1000)))
    w.write(b"\ndone\n")
    w.close()
    s = LogStream(p, backups=2)
    assert s.tail(3) == ["starting", bar(19_999)[1:].decode(), "done"]
    raw = s.tail(3, raw=True)  # the stored text is kept as written
    assert raw[-1] == "done" and "\r" in raw[-2]


def test_readers_cap_lines_of_files_written_elsewhere(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    p.write_bytes(b"x" * (5 << 20) + b"\nend\n")
    s = LogStream(p, backups=0)
    got = s.tail(2)
    assert got[-1] == "end" and len(got[0]) <= TEXT_CAP + 1
    lines, cursor, skipped = s.read_since({"ino": 0, "off": 0})
    assert [len(x.text) <= TEXT_CAP + 1 for x in lines] == [True, True]
    assert cursor["off"] == p.stat().st_size and skipped == 0
    before, first = s.lines_before(None, 10)
    assert len(before) == 2 and len(before[0].text) <= TEXT_CAP + 1 and first is None
    assert [x.text for x in s.search("end")] == ["end"]


def test_a_long_redraw_is_stored_in_pieces_readers_see_live(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p))
    w.write(b"start\n", now=100.0)
    w.write(b"\rstep 1", now=100.0)
    w.write(b"\rstep 2", now=100.5)  # within a second: the same piece
    w.write(b"\rstep 3\rstep 4", now=101.2)  # past it: the piece ends before "\rstep 4"
    w.write(b"\rstep 5", now=101.4)
    s = LogStream(p)
    complete = s.read_since({"ino": 0, "off": 0}).lines
    assert [(x.text, x.cont) for x in complete] == [
        ("start", False),
        ("\rstep 1\rstep 2\rstep 3", False),
    ]
    assert s.tail(5) == ["start", "step 5"]  # the unfinished piece redraws the line
    w.write(b"\n", now=101.5)
    w.close()
    assert s.tail(5) == ["start", "step 5"]
    lines = s.read_since({"ino": 0, "off": 0}).lines
    assert [x.cont for x in lines] == [False, False, True]
    assert [x.wire() for x in lines][1:] == [
        (lines[1].t, lines[1].text),
        (lines[2].t, lines[2].text, 1),
    ]


BAR = (
    "import sys, time\n"
    "for i in range(60):\n"
    "    sys.stdout.write(f'\\rstep {i}'); sys.stdout.flush(); time.sleep(0.05)\n"
    "print(); print('done')"
)


def test_a_progress_bar_moves_for_line_readers(pm: ProcessManager) -> None:
    h = pm.run("bar", [PY, "-c", BAR])
    cursor = h.stdout.read_since(None).cursor
    got: list[str] = []

    def moved() -> bool:
        nonlocal cursor
        res = h.stdout.read_since(cursor)
        cursor = res.cursor
        got.extend(x.text for x in res.lines)
        return bool(got)

    wait_for(moved, timeout=10, what="a complete piece of the redrawn line")
    first = int(render_cr(got[0]).split()[-1])
    assert first < 50, f"the bar was seen while it ran, not only at its end ({got[0][-30:]!r})"
    assert h.wait(20) == 0


def test_cli_follow_redraws_a_progress_bar_in_place_on_a_terminal(pm: ProcessManager) -> None:
    import pty

    h = pm.run("bar", [PY, "-c", BAR])
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "logs", "bar", "-f"],
        stdout=slave,
        stderr=subprocess.PIPE,
    )
    os.close(slave)
    out = b""
    first_seen = None
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        out += chunk
        if first_seen is None and b"step" in out:
            first_seen = render_cr(out.decode().split("\n")[0].replace("\x1b[K", ""))
    os.close(master)
    assert first_seen is not None and int(first_seen.split()[-1]) < 50, (
        f"the bar was shown while it ran, not only at its end ({first_seen!r})"
    )
    assert proc.wait(30) == 0, proc.stderr.read() if proc.stderr else ""
    assert h.wait(20) == 0
    text = out.decode().replace("\r\n", "\n").replace("\x1b[K", "")
    assert "\r" in text, "the bar was redrawn, in place"
    assert [render_cr(line) for line in text.split("\n") if line] == ["step 59", "done"]


def test_a_removed_log_file_is_started_again(pm: ProcessManager) -> None:
    code = "import time\nfor i in range(400):\n    print(f'tick {i}', flush=True); time.sleep(0.05)"
    h = pm.run("ticker", [PY, "-c", code])
    log = h.record.directory / "stdout.log"
    wait_for(lambda: h.stdout.tail(1), timeout=10, what="the first tick")
    log.unlink()  # rm stdout.log, by hand or by a cleanup script
    wait_for(log.exists, timeout=5, what="the log to be started again")
    wait_for(lambda: h.stdout.tail(1), timeout=5, what="ticks in the new file")
    assert h.stdout.tail(1)[0].startswith("tick ")
    assert h.is_running()


def test_log_readers_do_not_follow_a_planted_config_symlink(tmp_path: Path) -> None:
    d = tmp_path / "proc"
    d.mkdir()
    w = LogWriter(str(d / "stdout.log"), max_bytes=1024, backups=3)
    for i in range(200):
        w.write(b"line %d\n" % i)
    w.close()
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text('{"logs": {"backups": 0}}')
    (d / "config.json").symlink_to(elsewhere)
    s = LogStream(d, "stdout")
    assert s.backups == 5  # the default: the planted file was not read
    assert len(s.paths()) == 4


def test_cli_logs_shows_a_progress_bar_as_one_line(pm: ProcessManager) -> None:
    code = (
        "import sys\n"
        "for i in range(3000): sys.stdout.write(f'\\rprogress {i}')\n"
        "print(); print('done')"
    )
    h = pm.run("bar", [PY, "-c", code])
    assert h.wait(20) == 0
    out = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "logs", "bar", "-n", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.splitlines() == ["progress 2999", "done"]
    followed = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "logs", "bar", "-f", "-n", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "\r" not in followed and followed.splitlines()[-2:] == ["progress 2999", "done"]


def test_snapshot_html_shows_a_progress_bar_as_one_line(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SYFT_PM_HTML_LOGS", "1")  # the static card's log tail is opt-in
    code = "import sys\nfor i in range(3000): sys.stdout.write(f'\\rstep {i}')\nprint()"
    h = pm.run("bar", [PY, "-c", code])
    assert h.wait(20) == 0
    bundle = h._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle  # (data, metadata) or data
    html = data["text/html"]
    assert "step 2999" in html and "step 2998" not in html and "\r" not in html


def test_json_dumps_of_lines_is_bounded(tmp_path: Path) -> None:
    """What travels (read_since, the wire's source) is raw text, each line capped."""
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p))
    w.write(b"\r" + b"z" * (3 * LINE_MAX) + b"\n")
    w.close()
    lines = LogStream(p).read_since({"ino": 0, "off": 0}, max_lines=None, max_bytes=None).lines
    assert len(json.dumps([x.to_dict() for x in lines])) < 4 * (LINE_MAX + 100)
    assert all(len(x.text) <= LINE_MAX for x in lines)
    assert sys.getsizeof(lines) < 10_000
