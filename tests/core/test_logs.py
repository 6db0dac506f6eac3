"""Log writer and reader, without processes: stamping, rotation, tail, cursors, search."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from syft_pm.logs import TEXT_CAP, LogStream, parse_line, wire_line
from syft_pm.logwriter import LogWriter, validate_logs_config

STAMP = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


def all_lines(path: Path, backups: int) -> list[bytes]:
    out: list[bytes] = []
    for i in range(backups, 0, -1):
        p = Path(f"{path}.{i}")
        if p.exists():
            out.extend(p.read_bytes().splitlines())
    if path.exists():
        out.extend(path.read_bytes().splitlines())
    return out


def test_stamps_every_line_once_across_chunks(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p))
    w.write(b"one\ntw", now=0.0)
    w.write(b"o\nthree\n", now=1.5)
    w.write(b"\n", now=2.0)
    w.close()
    raw = p.read_bytes().splitlines()
    assert raw == [
        b"1970-01-01T00:00:00.000Z one",
        b"1970-01-01T00:00:00.000Z two",
        b"1970-01-01T00:00:01.500Z three",
        b"1970-01-01T00:00:02.000Z ",
    ]
    ln = parse_line(raw[2])
    assert ln.t == pytest.approx(1.5) and ln.text == "three"
    assert parse_line(b"no stamp here").t is None


def test_writer_finishes_a_dangling_line(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    p.write_bytes(b"half")
    w = LogWriter(str(p))
    w.write(b"next\n")
    w.close()
    assert p.read_bytes().splitlines()[0] == b"half"
    assert STAMP.match(p.read_bytes().splitlines()[1])


def test_rotation_keeps_every_line_and_cuts_at_line_boundaries(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=16384, backups=100)
    n = 20000
    data = b"".join(b"line %d\n" % i for i in range(n))
    # Feed in odd-sized chunks so lines straddle chunk boundaries.
    for i in range(0, len(data), 777):
        w.write(data[i : i + 777])
    w.close()
    lines = all_lines(p, 100)
    assert [ln[25:] for ln in lines] == [b"line %d" % i for i in range(n)]
    assert all(STAMP.match(ln) for ln in lines)
    for f in tmp_path.iterdir():
        assert f.read_bytes().endswith(b"\n")
        assert f.stat().st_size <= 16384 + 100


def test_backups_zero_and_validation(tmp_path: Path) -> None:
    p = tmp_path / "x.log"
    w = LogWriter(str(p), max_bytes=1024, backups=0)
    for i in range(500):
        w.write(b"%d\n" % i)
    w.close()
    assert not Path(f"{p}.1").exists()
    assert p.stat().st_size <= 1024
    assert validate_logs_config(None) == {"max_bytes": 10 * 1024 * 1024, "backups": 5}
    with pytest.raises(ValueError, match="max_bytes"):
        validate_logs_config({"max_bytes": 10})
    with pytest.raises(ValueError, match="unknown"):
        validate_logs_config({"size": 10})


def make_log(tmp_path: Path, n: int, max_bytes: int = 4096, backups: int = 50) -> Path:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=max_bytes, backups=backups)
    for i in range(n):
        w.write(b"line %d\n" % i)
    w.close()
    return p


def test_tail_across_rotated_files(tmp_path: Path) -> None:
    p = make_log(tmp_path, 3000)
    s = LogStream(p, backups=50)
    assert len(s.paths()) > 5
    assert s.tail(3) == ["line 2997", "line 2998", "line 2999"]
    live_lines = len(p.read_bytes().splitlines())
    got = s.tail(live_lines + 50)
    assert got == [f"line {i}" for i in range(3000 - live_lines - 50, 3000)]
    assert s.tail(10**6) == [f"line {i}" for i in range(3000)]
    stamped = s.tail(2, timestamps=True)
    assert stamped[-1][1] == "line 2999" and abs(stamped[-1][0] - time.time()) < 60
    assert s.tail(0) == []


def test_tail_includes_a_partial_last_line(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p))
    w.write(b"a\nb\npartial")
    assert LogStream(p).tail(2) == ["b", "partial"]
    w.close()


def test_tail_of_missing_file(tmp_path: Path) -> None:
    assert LogStream(tmp_path / "nope.log").tail(5) == []


def test_read_since_basic_and_cheap_when_idle(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=1 << 20)
    s = LogStream(p)
    lines, cur, skipped = s.read_since(None)
    assert lines == [] and skipped == 0
    w.write(b"a\nb\nc")  # "c" is incomplete
    lines, cur2, skipped = s.read_since(cur)
    assert [ln.text for ln in lines] == ["a", "b"] and skipped == 0
    assert s.read_since(cur2).lines == []
    w.write(b"c\n")
    res = s.read_since(cur2)
    assert [ln.text for ln in res.lines] == ["cc"]
    assert res.reset is None
    # idle: same cursor back
    assert s.read_since(res.cursor).cursor == res.cursor
    w.close()


def test_read_since_coalesces_a_flood(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=1 << 20)
    s = LogStream(p)
    cur = s.read_since(None).cursor
    for i in range(5000):
        w.write(b"%d\n" % i)
    lines, cur, skipped = s.read_since(cur, max_lines=100)
    assert [ln.text for ln in lines] == [str(i) for i in range(4900, 5000)]
    assert skipped == 4900
    w.write(b"x" * 5000 + b"\n" + b"y\n")
    lines, cur, skipped = s.read_since(cur, max_lines=100, max_bytes=1000)
    assert [ln.text for ln in lines] == ["y"] and skipped == 1
    w.close()


def test_read_since_across_rotation(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=2048, backups=20)
    s = LogStream(p, backups=20)
    cur = s.read_since(None).cursor
    seen: list[str] = []
    n = 0
    for _ in range(10):
        for _ in range(137):
            w.write(b"n%d\n" % n)
            n += 1
        lines, cur, skipped = s.read_since(cur, max_lines=None)
        assert skipped == 0
        seen.extend(ln.text for ln in lines)
    assert seen == [f"n{i}" for i in range(n)]
    # A flood through several rotations still counts exactly.
    for _ in range(1000):
        w.write(b"n%d\n" % n)
        n += 1
    lines, cur, skipped = s.read_since(cur, max_lines=10)
    assert [ln.text for ln in lines] == [f"n{i}" for i in range(n - 10, n)]
    assert skipped == 990
    w.close()


def test_read_since_truncation_and_lost(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=1 << 20)
    s = LogStream(p)
    w.write(b"a\nb\n")
    cur = s.read_since(None).cursor
    os.truncate(p, 0)
    w.close()
    w = LogWriter(str(p))
    w.write(b"c\n")
    res = s.read_since(cur)
    assert [ln.text for ln in res.lines] == ["c"] and res.reset == "truncated"
    # A cursor whose file is gone entirely.
    res = s.read_since({"ino": 1, "off": 5})
    assert res.reset == "lost" and [ln.text for ln in res.lines] == ["c"]
    with pytest.raises(ValueError, match="cursor"):
        s.read_since({"bogus": 1})
    w.close()


def test_lines_before_pages_back_through_rotations(tmp_path: Path) -> None:
    p = make_log(tmp_path, 1000, max_bytes=2048)
    s = LogStream(p, backups=50)
    cur = s.read_since(None).cursor
    pages: list[str] = []
    while cur is not None:
        lines, cur = s.lines_before(cur, 64)
        pages[:0] = [ln.text for ln in lines]
    assert pages == [f"line {i}" for i in range(1000)]
    lines, cur = s.lines_before(None, 2)
    assert [ln.text for ln in lines] == ["line 998", "line 999"] and cur is not None


def test_wire_lines_are_the_parsed_lines_as_the_protocol_carries_them(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p))
    w.write(b"plain\n" + "Grüße\n".encode() + b"bad \xff utf-8\n" + b"x" * (3 * TEXT_CAP) + b"\n")
    w.write(b"no newline yet")
    w.write(b" - done\n")
    w.close()
    with open(p, "rb") as f:
        stored = f.read().split(b"\n")[:-1]
    raws = [*stored, b"", b"unstamped line", b"2026-13-01T00:00:00.000Z broken stamp"]
    assert any(parse_line(r).cont for r in raws), "a cut line's continuation is covered"
    assert [wire_line(r) for r in raws] == [parse_line(r).wire() for r in raws]
    s = LogStream(p)
    for n in (1, 3, 100):
        lines, _ = s.lines_before(None, n)
        assert s.wire_before(None, n) == [ln.wire() for ln in lines]


def test_search_newest_first_case_insensitive(tmp_path: Path) -> None:
    p = tmp_path / "stdout.log"
    w = LogWriter(str(p), max_bytes=2048, backups=50)
    for i in range(2000):
        w.write(b"Request %d ok\n" % i if i % 500 else b"ERROR at %d\n" % i)
    w.write("Grüße Ünïcode\n".encode())
    w.close()
    s = LogStream(p, backups=50)
    hits = s.search("error")
    assert [h.text for h in hits] == [
        "ERROR at 1500",
        "ERROR at 1000",
        "ERROR at 500",
        "ERROR at 0",
    ]
    assert [h.text for h in s.search("error", limit=2)] == ["ERROR at 1500", "ERROR at 1000"]
    assert [h.text for h in s.search("ünï")] == ["Grüße Ünïcode"]
    assert s.search("Z ") == []  # never matches inside the timestamp prefix
    assert hits[0].t is not None


def test_search_stops_at_its_byte_budget_and_when_cancelled(tmp_path):
    path = tmp_path / "stdout.log"
    w = LogWriter(str(path))
    w.write(b"needle at the start\n" + b"hay\n" * 2_000_000)
    w.close()
    ls = LogStream(path)
    found, complete = ls.search_bounded("needle", 10)
    assert complete and [x.text for x in found] == ["needle at the start"]
    found, complete = ls.search_bounded("needle", 10, max_bytes=1 << 20)
    assert not complete and found == []
    calls = {"n": 0}

    def gone() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    found, complete = ls.search_bounded("needle", 10, cancelled=gone)
    assert not complete and found == [] and calls["n"] == 3


def test_skipped_counts_lines_not_the_pieces_of_cut_ones(tmp_path):
    """A line stored in pieces (cut at 64 KiB here) is one skipped line, not three."""
    from syft_pm.logwriter import LINE_MAX

    path = tmp_path / "stdout.log"
    w = LogWriter(str(path))
    w.write(b"x" * (2 * LINE_MAX + 10) + b"\n")
    w.write(b"".join(b"line %d\n" % i for i in range(10)))
    w.close()
    ls = LogStream(path)
    lines, _, skipped = ls.read_since({"ino": 0, "off": 0}, max_lines=5)
    assert [x.text for x in lines] == [f"line {i}" for i in range(5, 10)]
    assert skipped == 1 + 5


def test_skipped_counts_a_line_cut_by_rotation_once(tmp_path):
    """The writer rotates at max_bytes even mid-line: the line's two pieces sit in two
    files, and a reader skipping past both counts one line."""
    path = tmp_path / "stdout.log"
    w = LogWriter(str(path), max_bytes=300, backups=5)
    w.write(b"first " + b"x" * 400)  # no newline yet: cut by the rotation
    w.write(b" end\n")
    w.write(b"".join(b"line %d\n" % i for i in range(3)))
    w.close()
    assert (tmp_path / "stdout.log.1").exists(), "the test needs a rotation mid-line"
    lines, _, skipped = LogStream(path).read_since({"ino": 0, "off": 0}, max_lines=2)
    assert [x.text for x in lines] == ["line 1", "line 2"]
    assert skipped == 2
