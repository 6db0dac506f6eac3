"""Reading log files: everyone's side (the writer is :mod:`syft_pm.logwriter`; what a
stored line is, :mod:`syft_pm.logline`; walking a file's bytes, :mod:`syft_pm.logscan`).

Lines carry a fixed-width UTC timestamp prefix; files rotate by renames, so a reader's
``{"ino", "off"}`` cursor survives rotation.

Readers never read a whole file to show a few lines (the earlier package did, every
second): :meth:`LogStream.tail` reads backwards in blocks, :meth:`LogStream.read_since`
costs one ``os.stat`` when nothing changed, and a flood is coalesced to the last
``max_lines`` lines with a count of the skipped ones.

Output that is not lines: every line a reader returns is capped (:data:`TEXT_CAP`
bytes; the writer already cuts the child's lines at 64 KiB, the cap guards files from
elsewhere), and walking backwards never joins an unbounded run of bytes without a
newline, so reading costs what is returned. A stored piece that continues the line
before it (``+`` after its stamp) is a :class:`LogLine` with ``cont=True``.
:meth:`LogStream.tail` shows lines as a terminal would (carriage returns rendered by
:func:`syft_pm.termtext.render_cr`, a progress bar once); the cursor reads
(:meth:`~LogStream.read_since`, :meth:`~LogStream.lines_before`, which feed the wire)
return the raw text.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Callable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, overload

from .logline import (
    TEXT_CAP,
    LogLine,
    WireLine,
    is_continuation,
    parse_line,
    stamp_epoch,
    wire_line,
)
from .logscan import (
    MAX_BLOCK,
    OPEN_FLAGS,
    count_lines,
    last_newline_end,
    rchunks,
    starts_with_piece,
)
from .logwriter import DEFAULT_BACKUPS, PREFIX_LEN
from .termtext import render_cr

if TYPE_CHECKING:
    from .filewatch import DirWatch

#: What other modules import from here (a line's parsing lives in logline.py).
__all__ = ["TEXT_CAP", "LogLine", "LogStream", "ReadResult", "WireLine", "parse_line", "wire_line"]

#: How many bytes of a redrawn line's overwritten pieces tail() walks past looking for
#: older lines; past that it stops (a bar redrawn for more than 1 MiB hides the rest).
_SUPERSEDED_BUDGET = 1 << 20
#: With inotify, how long follow() sleeps at most before looking again anyway.
_WATCH_TICK = 1.0


class ReadResult(NamedTuple):
    """What :meth:`LogStream.read_since` returns; unpacks as ``lines, cursor, skipped``.

    ``cursor`` may carry ``"reset": "truncated"`` (the file was truncated; reading
    restarted at its start) or ``"reset": "lost"`` (the cursor's file was rotated away;
    reading restarted at the oldest retained line). :attr:`reset` exposes it.
    """

    lines: list[LogLine]
    cursor: dict[str, Any]
    skipped: int

    @property
    def reset(self) -> str | None:
        r = self.cursor.get("reset")
        return r if isinstance(r, str) else None


def _parse_cursor(cursor: Any) -> tuple[int, int]:
    if (
        isinstance(cursor, dict)
        and isinstance(cursor.get("ino"), (int, type(None)))
        and isinstance(cursor.get("off"), int)
        and cursor["off"] >= 0
    ):
        # ino None/0: "from the start of the oldest retained file" (a file not seen yet).
        return cursor["ino"] or 0, cursor["off"]
    raise ValueError(f"invalid log cursor {cursor!r}: expected {{'ino': int, 'off': int}} or None")


def _configured_backups(log_path: str) -> int:
    try:
        from .jsonlite import loads  # not json: `syft-pm logs` starts faster without it

        config = os.path.join(os.path.dirname(log_path), "config.json")  # noqa: PTH118, PTH120
        fd = os.open(config, OPEN_FLAGS)  # no symlinks
        with os.fdopen(fd, "rb") as f:
            n = (loads(f.read()).get("logs") or {}).get("backups", DEFAULT_BACKUPS)
    except (OSError, ValueError, AttributeError):
        return DEFAULT_BACKUPS
    return n if isinstance(n, int) and n >= 0 else DEFAULT_BACKUPS


class _File(NamedTuple):
    fd: int
    ino: int
    size: int


class LogStream:
    """Reader of one stream (stdout or stderr) of a process, across rotated files.

    ``LogStream("/path/stdout.log")`` or ``LogStream(process_dir, "stdout")``.
    ``backups`` defaults to the process's ``logs.backups`` (from its config.json when
    it can be read, else 5). ``finished`` (given by the handle) tells :meth:`follow`
    when the process is over.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        stream: str | None = None,
        *,
        backups: int | None = None,
        finished: Callable[[], bool] | None = None,
    ) -> None:
        if stream is not None:
            if stream not in ("stdout", "stderr"):
                raise ValueError(f"stream must be 'stdout' or 'stderr', not {stream!r}")
            path = os.path.join(path, f"{stream}.log")  # noqa: PTH118
        self.path = os.fspath(path)
        self.backups = _configured_backups(self.path) if backups is None else backups
        self._finished = finished

    def __repr__(self) -> str:
        return f"LogStream({self.path!r})"

    # -- files -----------------------------------------------------------------------

    def paths(self) -> list[str]:
        """The existing files, newest first (the live file, then .1, .2, ...)."""
        cands = [self.path] + [f"{self.path}.{i}" for i in range(1, self.backups + 1)]
        return [p for p in cands if os.path.exists(p)]  # noqa: PTH110

    def _chain(self, opened: list[int]) -> Iterator[_File]:
        """Open the files newest first, lazily; duplicates (a rotation mid-walk) skipped.

        Every fd is appended to ``opened`` so the caller closes them all.
        """
        seen: set[int] = set()
        for i in range(self.backups + 1):
            path = self.path if i == 0 else f"{self.path}.{i}"
            try:
                fd = os.open(path, OPEN_FLAGS)
            except OSError as e:
                if e.errno in (errno.ENOENT, errno.ELOOP):  # missing, or a planted symlink
                    continue
                raise
            opened.append(fd)
            st = os.fstat(fd)
            if st.st_ino in seen:
                continue
            seen.add(st.st_ino)
            yield _File(fd, st.st_ino, st.st_size)

    # -- tail ------------------------------------------------------------------------

    @overload
    def tail(
        self, n: int = 20, *, timestamps: Literal[False] = False, raw: bool = False
    ) -> list[str]: ...
    @overload
    def tail(
        self, n: int = 20, *, timestamps: Literal[True], raw: bool = False
    ) -> list[tuple[float | None, str]]: ...

    def tail(
        self, n: int = 20, *, timestamps: bool = False, raw: bool = False
    ) -> list[str] | list[tuple[float | None, str]]:
        """The last ``n`` lines, oldest first; reads backwards, so cost grows with ``n`` only.

        Continues into rotated files when the live one has fewer than ``n`` lines. A final
        line still being written (no newline yet) is included. Lines are shown as a
        terminal would show them: carriage returns rendered (a progress bar is one line,
        its last state), and the pieces of a long redrawn line that a later redraw
        overwrote are left out. ``raw=True`` returns the stored text as it is.
        """
        lines = self._last_lines(n) if not raw else [parse_line(r) for r in self._last_raw(n)]
        if timestamps:
            return [(p.t, p.text) for p in lines]
        return [p.text for p in lines]

    def _last_lines(self, n: int) -> list[LogLine]:
        out: list[LogLine] = []  # newest first
        if n <= 0:
            return out
        last = self._last_raw(n)
        if not any(len(r) > PREFIX_LEN and r[24] == 0x2B for r in last):
            # The common case: no cut lines among them, so nothing can be superseded.
            lines = [parse_line(r) for r in last]
            return [
                LogLine(ln.t, render_cr(ln.text), ln.cont) if "\r" in ln.text else ln
                for ln in lines
            ]
        superseded = False  # a newer piece redrew this line: its older pieces are hidden
        walked = 0
        raws = self._iter_raw_rev()
        try:
            for raw in raws:
                if superseded:  # skipped without decoding it
                    superseded = is_continuation(raw)
                    walked += len(raw)
                    if walked > _SUPERSEDED_BUDGET:
                        break
                    continue
                line = parse_line(raw)
                out.append(LogLine(line.t, render_cr(line.text), line.cont))
                if len(out) >= n:
                    break
                superseded = line.cont and line.text.startswith("\r")
        finally:
            raws.close()  # closes the files now, not whenever the generator is collected
        out.reverse()
        return out

    def _iter_raw_rev(self) -> Generator[bytes, None, None]:
        """Every stored line, newest first, across the rotated files."""
        opened: list[int] = []
        try:
            for f in self._chain(opened):
                for _, chunk in rchunks(f.fd, 0, f.size):
                    yield from reversed(chunk.split(b"\n"))
        finally:
            for fd in opened:
                os.close(fd)

    def _last_raw(self, n: int) -> list[bytes]:
        if n <= 0:
            return []
        out: list[bytes] = []  # newest first
        opened: list[int] = []
        try:
            for f in self._chain(opened):
                for _, chunk in rchunks(f.fd, 0, f.size):
                    parts = chunk.split(b"\n")
                    need = n - len(out)
                    out.extend(reversed(parts[-need:]))
                    if len(out) >= n:
                        break
                if len(out) >= n:
                    break
        finally:
            for fd in opened:
                os.close(fd)
        out.reverse()
        return out

    # -- cursors ---------------------------------------------------------------------

    def read_since(
        self,
        cursor: dict[str, Any] | None,
        *,
        max_lines: int | None = 1000,
        max_bytes: int | None = 1 << 20,
    ) -> ReadResult:
        """Complete lines written after ``cursor``: ``(lines, new_cursor, skipped_lines)``.

        ``cursor`` is ``{"ino": int, "off": int}`` from a previous call, or None for "from
        the end, now" (returns no lines, only a cursor). When more than ``max_lines``
        lines (or ``max_bytes`` bytes) are pending, the LAST ones are returned and the
        others are counted in ``skipped_lines``: a flood is coalesced, never queued.
        Survives rotation (the old inode is found among the backups and finished first)
        and truncation (``new_cursor["reset"] == "truncated"``). When nothing changed this
        costs one ``os.stat``.
        """
        try:
            st = os.lstat(self.path)  # the hot path: one syscall, no Path
        except FileNotFoundError:
            st = None
        if st is None or stat.S_ISLNK(st.st_mode):  # a symlink is never followed
            return ReadResult([], dict(cursor) if cursor is not None else {"ino": 0, "off": 0}, 0)
        if cursor is None:
            fd = os.open(self.path, OPEN_FLAGS)
            try:
                fst = os.fstat(fd)
                return ReadResult(
                    [], {"ino": fst.st_ino, "off": last_newline_end(fd, 0, fst.st_size)}, 0
                )
            finally:
                os.close(fd)
        ino, off = _parse_cursor(cursor)
        if st.st_ino == ino and st.st_size == off:
            return ReadResult([], cursor, 0)
        opened: list[int] = []
        try:
            segs, reset = self._segments(ino, off, opened)
            if not segs:  # removed between the stat and the open
                return ReadResult([], cursor, 0)
            return self._collect(segs, reset, max_lines, max_bytes)
        finally:
            for fd in opened:
                os.close(fd)

    def _segments(
        self, ino: int, off: int, opened: list[int]
    ) -> tuple[list[tuple[_File, int]], str | None]:
        """Unread ranges as ``(file, start)`` oldest first (each runs to ``file.size``)."""
        chain: list[_File] = []
        for f in self._chain(opened):
            chain.append(f)
            if f.ino == ino:
                break
        else:
            # Not found: the file was rotated out (or never existed: ino 0 = from the start).
            chain.reverse()
            return [(f, 0) for f in chain], (None if ino == 0 else "lost")
        chain.reverse()
        head, rest = chain[0], chain[1:]
        if off > head.size:
            if rest:  # a rotated file never shrinks; treat as lost rather than guess
                return [(head, 0)] + [(f, 0) for f in rest], "lost"
            return [(head, 0)], "truncated"
        return [(head, off)] + [(f, 0) for f in rest], None

    def _collect(
        self,
        segs: list[tuple[_File, int]],
        reset: str | None,
        max_lines: int | None,
        max_bytes: int | None,
    ) -> ReadResult:
        newest, newest_start = segs[-1]
        end = last_newline_end(newest.fd, newest_start, newest.size)
        cursor: dict[str, Any] = {"ino": newest.ino, "off": end}
        if reset:
            cursor["reset"] = reset
        limit_lines = max_lines if max_lines is not None else 1 << 62
        limit_bytes = max_bytes if max_bytes is not None else 1 << 62
        got: list[bytes] = []  # newest first
        nbytes = 0
        full = False
        # Where the earliest returned line starts: (segment index, offset).
        boundary = (len(segs) - 1, end)
        ranges = [(f, s, f.size) for f, s in segs[:-1]] + [(newest, newest_start, end)]
        for idx in range(len(ranges) - 1, -1, -1):
            f, start, stop = ranges[idx]
            boundary = (idx, stop)
            for off, chunk in rchunks(f.fd, start, stop):
                parts = chunk.split(b"\n")
                pos = off + len(chunk) + 1
                for raw in reversed(parts):
                    pos -= len(raw) + 1
                    if len(got) >= limit_lines or (got and nbytes + len(raw) + 1 > limit_bytes):
                        full = True
                        break
                    got.append(raw if len(raw) < limit_bytes else raw[:limit_bytes])
                    nbytes += len(raw) + 1
                    boundary = (idx, pos)
                if full:
                    break
            if full:
                break
            boundary = (idx, start)
        skipped = 0
        if full:
            bidx, boff = boundary
            for idx in range(bidx + 1):
                f, start, stop = ranges[idx]
                skipped += count_lines(f.fd, start, boff if idx == bidx else stop)
                if idx and starts_with_piece(f.fd, start):
                    # The writer rotates mid-line: this file's first piece ends the line
                    # whose first part (and its newline) closed the file before.
                    skipped -= 1
        got.reverse()
        return ReadResult([parse_line(r) for r in got], cursor, skipped)

    def lines_before(
        self, cursor: dict[str, Any] | None, n: int = 100
    ) -> tuple[list[LogLine], dict[str, Any] | None]:
        """Up to ``n`` complete lines before ``cursor`` (oldest first), for paging back.

        Returns ``(lines, cursor_of_the_first_line)``; the second item is None once the
        oldest retained line has been returned. ``cursor=None`` means the end, now.
        """
        raws, first = self._raw_before(cursor, n)
        return [parse_line(raw) for raw in raws], first

    def wire_before(self, cursor: dict[str, Any] | None, n: int = 100) -> list[WireLine]:
        """:meth:`lines_before`'s lines as the protocol carries them (:meth:`LogLine.wire`),
        made straight from the stored bytes: a snapshot of a thousand processes reads
        200,000 lines, and skipping a LogLine per line halves what that costs."""
        return [wire_line(raw) for raw in self._raw_before(cursor, n)[0]]

    def _raw_before(
        self, cursor: dict[str, Any] | None, n: int
    ) -> tuple[list[bytes], dict[str, Any] | None]:
        opened: list[int] = []
        try:
            chain = list(self._chain(opened))
            if not chain:
                return [], None
            if cursor is None:
                idx, off = 0, last_newline_end(chain[0].fd, 0, chain[0].size)
            else:
                ino, off = _parse_cursor(cursor)
                idx = next((i for i, f in enumerate(chain) if f.ino == ino), -1)
                if idx < 0:
                    return [], None
                off = min(off, chain[idx].size)
            got: list[tuple[int, int, bytes]] = []  # (ino, offset, raw), newest first
            for i in range(idx, len(chain)):
                f = chain[i]
                for coff, chunk in rchunks(f.fd, 0, off if i == idx else f.size):
                    parts = chunk.split(b"\n")
                    pos = coff + len(chunk) + 1
                    for raw in reversed(parts):
                        pos -= len(raw) + 1
                        got.append((f.ino, pos, raw))
                    if len(got) > n:
                        break
                if len(got) > n:
                    break
        finally:
            for fd in opened:
                os.close(fd)
        more = len(got) > n
        got = got[:n]
        got.reverse()
        raws = [raw for _, _, raw in got]
        if not more or not got:
            return raws, None
        return raws, {"ino": got[0][0], "off": got[0][1]}

    # -- search ----------------------------------------------------------------------

    def search(self, text: str, limit: int = 100) -> list[LogLine]:
        """Lines containing ``text`` (plain text, case-insensitive), newest first.

        Blocks without a match are skipped without splitting them into lines, so a
        search over all rotated files stays fast.
        """
        return self.search_bounded(text, limit)[0]

    def search_bounded(
        self,
        text: str,
        limit: int = 100,
        *,
        max_bytes: int | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[list[LogLine], bool]:
        """:meth:`search` that gives up after reading ``max_bytes`` or once
        ``cancelled()`` says the asker is gone; returns ``(lines, complete)``, where
        ``complete`` is False if it stopped before the oldest retained line. A server
        answers one request with a bounded amount of work this way."""
        if not text or limit <= 0:
            return [], True
        scanned = 0
        ascii_needle = text.isascii()
        needle_b = text.lower().encode()
        needle_s = text.casefold()
        found: list[LogLine] = []
        opened: list[int] = []
        try:
            for f in self._chain(opened):
                for _, chunk in rchunks(f.fd, 0, f.size):
                    scanned += len(chunk)
                    if (max_bytes is not None and scanned > max_bytes) or (
                        cancelled is not None and cancelled()
                    ):
                        return found, False
                    if ascii_needle and needle_b not in chunk.lower():
                        continue
                    for raw in reversed(chunk.split(b"\n")):
                        if ascii_needle:
                            body = raw[PREFIX_LEN:] if stamp_epoch(raw) is not None else raw
                            if needle_b not in body.lower():
                                continue
                            line = parse_line(raw)
                        else:
                            line = parse_line(raw)
                            if needle_s not in line.text.casefold():
                                continue
                        found.append(line)
                        if len(found) >= limit:
                            return found, True
        finally:
            for fd in opened:
                os.close(fd)
        return found, True

    # -- follow ----------------------------------------------------------------------

    @overload
    def follow(
        self,
        *,
        lines: int = 0,
        timestamps: Literal[False] = False,
        stop_when_exited: bool = True,
        timeout: float | None = None,
        poll_interval: float = 0.1,
    ) -> Iterator[str]: ...
    @overload
    def follow(
        self,
        *,
        lines: int = 0,
        timestamps: Literal[True],
        stop_when_exited: bool = True,
        timeout: float | None = None,
        poll_interval: float = 0.1,
    ) -> Iterator[tuple[float | None, str]]: ...

    def follow(
        self,
        *,
        lines: int = 0,
        timestamps: bool = False,
        stop_when_exited: bool = True,
        timeout: float | None = None,
        poll_interval: float = 0.1,
    ) -> Iterator[str] | Iterator[tuple[float | None, str]]:
        """Yield lines as they are written (after the last ``lines`` existing ones).

        Stops once the process has finished and everything it wrote was yielded
        (``stop_when_exited``), or after ``timeout`` seconds; otherwise runs until the
        caller stops iterating. Rotation is handled through the cursor. A new line
        wakes the reader at once (inotify); ``poll_interval`` is the tick used only
        where inotify is not available.
        """
        gen = self.follow_lines(
            lines=lines,
            stop_when_exited=stop_when_exited,
            timeout=timeout,
            poll_interval=poll_interval,
        )
        if timestamps:
            return ((ln.t, ln.text) for ln in gen)
        return (ln.text for ln in gen)

    def follow_lines(
        self,
        *,
        lines: int = 0,
        stop_when_exited: bool = True,
        timeout: float | None = None,
        poll_interval: float = 0.1,
    ) -> Iterator[LogLine]:
        """:meth:`follow` as :class:`LogLine` objects: the stored text, its time, and
        whether it continues the line before (how a viewer redraws a progress bar in
        place: a ``cont`` piece that starts with ``\r`` overwrites the previous one)."""
        # The starting point is fixed now, not at the first next(): lines written between
        # this call and the first iteration are not missed.
        start = self.read_since(None).cursor
        return self._follow(start, lines, stop_when_exited, timeout, poll_interval)

    def _follow(
        self,
        cursor: dict[str, Any],
        lines: int,
        stop_when_exited: bool,
        timeout: float | None,
        poll: float,
    ) -> Iterator[LogLine]:
        deadline = None if timeout is None else time.monotonic() + timeout
        if lines > 0:
            yield from self.lines_before(cursor, lines)[0]
        # A line wakes us within a millisecond (inotify on the log's directory: writes,
        # rotations, a recreated log, the state.json that says the process ended); where
        # inotify is missing, poll every ``poll`` seconds as before.
        from .filewatch import open_dir_watch

        watch = open_dir_watch(os.path.dirname(self.path) or ".")  # noqa: PTH120
        try:
            yield from self._follow_loop(cursor, stop_when_exited, deadline, poll, watch)
        finally:
            if watch is not None:
                watch.close()

    def _follow_loop(
        self,
        cursor: dict[str, Any],
        stop_when_exited: bool,
        deadline: float | None,
        poll: float,
        watch: DirWatch | None,
    ) -> Iterator[LogLine]:
        while True:
            res = self.read_since(cursor, max_lines=None, max_bytes=None)
            cursor = res.cursor
            yield from res.lines
            if res.lines:
                continue
            if stop_when_exited and self._finished is not None and self._finished():
                # The supervisor writes every log byte before it records the end, so one
                # more read gets the rest, plus a last line that had no newline.
                res = self.read_since(cursor, max_lines=None, max_bytes=None)
                yield from res.lines
                partial = self._partial_after(res.cursor)
                if partial is not None:
                    yield partial
                return
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return
            if watch is None:
                time.sleep(poll if left is None else min(poll, left))
            else:
                # The tick is only a safety net for what inotify cannot see (a supervisor
                # killed outright writes nothing; some network file systems send nothing).
                watch.wait(_WATCH_TICK if left is None else min(_WATCH_TICK, left))

    def _partial_after(self, cursor: dict[str, Any]) -> LogLine | None:
        try:
            with os.fdopen(os.open(self.path, OPEN_FLAGS), "rb") as f:
                if os.fstat(f.fileno()).st_ino != cursor.get("ino"):
                    return None
                f.seek(int(cursor.get("off", 0)))
                rest = f.read(MAX_BLOCK)
        except OSError:
            return None
        return parse_line(rest) if rest else None
