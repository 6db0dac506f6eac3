"""The supervisor's side of the log files: stamp every line, cut, rotate, survive a full disk.

Format: every stored line starts with a fixed-width UTC timestamp and a separator,
``2024-05-01T12:00:00.123Z hello``, so each line's time is known without a side index.
The writer stamps a whole chunk at once (one ``bytes.replace`` per ``os.read``), never
loops over lines in Python on the common path: that keeps logging overhead small under a
flood.

Output that is not lines: a line of the child's output longer than :data:`LINE_MAX`
bytes (a tqdm bar redrawn with ``\r`` for hours writes no newline at all) is stored as
several lines; each piece after the first has ``+`` instead of the space after its
stamp (``...123Z+``, :data:`CONT_SEP`) and readers know it continues the line before.
A cut is placed just before a carriage return when the piece has one, so a continued
progress bar starts with ``\r`` and renders on its own. Nothing else about the bytes is
changed: the file keeps the ``\r`` characters (rendering is the readers' business, see
:mod:`syft_pm.termtext`).

Rotation: ``stdout.log`` -> ``stdout.log.1`` -> ... -> ``stdout.log.<backups>`` by
renames (a rename keeps the inode, which is how a reader's cursor survives rotation),
at a line boundary when one fits, else mid-line with a continuation piece in the new
file: a file never grows past ``max_bytes + 1``. The supervisor is the only writer.

A full disk (or any write error) never stops the writer: what cannot be written is
counted and dropped (the supervisor keeps draining the child's pipes, so the child
never blocks), and once a write succeeds again one line
``[syft_pm: N bytes dropped, disk full]`` says what is missing. The reader is
:mod:`syft_pm.logs`.
"""

from __future__ import annotations

import errno
import os
import time

# The supervisor imports this module: no typing, pathlib or contextlib at run time
# (they would be most of an idle supervisor's memory); mypy knows the spelling.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5
PREFIX_LEN = 25  # "YYYY-MM-DDTHH:MM:SS.mmmZ "
#: Bytes of the child's output in one stored line; longer lines continue on the next.
LINE_MAX = 64 * 1024
#: The separator after the stamp of a piece that continues the previous stored line.
CONT_SEP = b"+"
DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
#: Free space needed before writing resumes after a full disk.
RESUME_ROOM = 64 * 1024
#: A line redrawn with carriage returns for longer than this is ended (at a ``\r``) and
#: continued in a new piece, so readers that take complete lines (follow, the live
#: views) see a progress bar move instead of waiting for 64 KiB or a newline.
REDRAW_EVERY = 1.0
#: How often the writer checks that its file is still the one at its path (a removed
#: or replaced log is reopened instead of writing into an unlinked file for good).
RECHECK_EVERY = 1.0


def drop_marker(dropped: int, err: int | None) -> bytes:
    """The text of the line that stands for output the disk refused."""
    why = "disk full" if err in DISK_FULL_ERRNOS or err is None else os.strerror(err)
    return b"[syft_pm: %d bytes dropped, %s]" % (dropped, why.encode())


def _cut_point(buf: bytes, start: int, limit: int, carried: int) -> int:
    """Where to end a piece of ``buf`` that may not go past ``limit``: just before the
    last carriage return (a redrawn line then continues with its own redraw), else at
    ``limit`` moved back to a UTF-8 character boundary."""
    r = buf.rfind(b"\r", start, limit)
    if r > start or (r == start and carried):
        return r
    cut = limit
    while cut > start + 1 and cut > limit - 3 and (buf[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut


def validate_logs_config(logs: Any) -> dict[str, int]:
    """Normalise ``logs={"max_bytes": ..., "backups": ...}``; raise ValueError if wrong."""
    if logs is None:
        logs = {}
    if not isinstance(logs, dict):
        raise ValueError(
            f"logs must be a dict like {{'max_bytes': 10485760, 'backups': 5}}, not {logs!r}"
        )
    unknown = set(logs) - {"max_bytes", "backups"}
    if unknown:
        raise ValueError(f"logs: unknown key(s) {sorted(unknown)}; allowed: 'max_bytes', 'backups'")
    max_bytes = logs.get("max_bytes", DEFAULT_MAX_BYTES)
    backups = logs.get("backups", DEFAULT_BACKUPS)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1024:
        raise ValueError(f"logs: 'max_bytes' must be an integer >= 1024, not {max_bytes!r}")
    if isinstance(backups, bool) or not isinstance(backups, int) or not 0 <= backups <= 1000:
        raise ValueError(f"logs: 'backups' must be an integer between 0 and 1000, not {backups!r}")
    return {"max_bytes": max_bytes, "backups": backups}


# ---------------------------------------------------------------------------------------
# writer (the supervisor)


class LogWriter:
    """Appends stamped chunks to ``path`` and rotates it; the only writer of its file."""

    def __init__(
        self, path: str, max_bytes: int = DEFAULT_MAX_BYTES, backups: int = DEFAULT_BACKUPS
    ):
        self.path = path
        self.max_bytes = max_bytes
        self.backups = backups
        self._sec = -1
        self._sec_text = b""
        self._prefix_now = b""
        self._fd = -1
        self._size = 0
        self._line_start = True  # the next byte of the child's output starts a line
        self._line_len = 0  # bytes of the child's current line in the current piece
        self._piece_t = 0.0  # when the current stored piece began
        self._now = 0.0
        self._checked_t = 0.0
        self._ends_line = True  # the file ends at a line boundary
        self.dropped = 0  # bytes refused by the disk since the last marker
        self._drop_errno: int | None = None
        self._written = 0  # bytes written by this writer (for the drop count)
        try:
            self._open()
            if self._size and os.pread(self._fd, 1, self._size - 1) != b"\n":
                # A previous writer died mid-line: finish that line so ours start clean.
                self._write_raw(b"\n")
        except OSError as e:
            self._note_drop(0, e)

    def _open(self) -> None:
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        self._fd = os.open(self.path, flags, 0o600)
        self._size = os.fstat(self._fd).st_size

    def _prefix(self, now: float) -> bytes:
        sec = int(now)
        if sec != self._sec:
            self._sec = sec
            self._sec_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)).encode()
        ms = min(int((now - sec) * 1000), 999)
        return b"%s.%03dZ " % (self._sec_text, ms)

    def write(self, data: bytes, now: float | None = None) -> None:
        """Stamp ``data`` (any chunk of the child's output) and append it."""
        if not data:
            return
        self._now = t = time.time() if now is None else now
        prefix = self._prefix(t)
        self._prefix_now = prefix
        if t - self._checked_t >= RECHECK_EVERY:
            self._checked_t = t
            self._reopen_if_moved()
        if (self.dropped or self._fd < 0) and not self._recover(prefix):
            self.dropped += len(data)
            self._advance(data)
            return
        if not self._line_start and t - self._piece_t >= REDRAW_EVERY:
            data = self._end_redrawn_piece(data, prefix)
        if self._line_start:
            head = prefix
        elif self._ends_line:  # the child is mid-line, the file is not (a marker, a cut)
            head = prefix[:-1] + CONT_SEP
        else:
            head = b""
        n = len(data)
        last = data.rfind(b"\n")
        if last < 0:
            fits = self._line_len + n <= LINE_MAX
        else:
            fits = (
                n - last - 1 <= LINE_MAX
                and self._line_len + data.find(b"\n") <= LINE_MAX
                and (n <= LINE_MAX + 2 or max(map(len, data.split(b"\n"))) <= LINE_MAX)
            )
        if fits:
            ends_line = last == n - 1
            body = data[:-1] if ends_line else data
            out = head + body.replace(b"\n", b"\n" + prefix)
            if ends_line:
                out += b"\n"
            self._advance(data, last)
        else:
            out = head + self._cut(data, prefix)
        self._append_counted(out)

    def _advance(self, data: bytes, last: int | None = None) -> None:
        """Follow the child's line state over ``data`` (written or dropped)."""
        if last is None:
            last = data.rfind(b"\n")
        if last < 0:
            if self._line_start:
                self._piece_t = self._now
            self._line_len += len(data)
            self._line_start = False
        else:
            self._piece_t = self._now
            self._line_len = len(data) - last - 1
            self._line_start = self._line_len == 0

    def _end_redrawn_piece(self, data: bytes, prefix: bytes) -> bytes:
        """The child has been redrawing one line for REDRAW_EVERY: end the stored piece
        just before the last ``\r`` of ``data``'s first line; return what follows."""
        stop = data.find(b"\n")
        r = data.rfind(b"\r", 0, len(data) if stop < 0 else stop)
        if r < 0 or (r == 0 and self._ends_line):
            return data
        head = prefix[:-1] + CONT_SEP if self._ends_line else b""
        self._append_counted(head + data[:r] + b"\n")
        self._line_len = 0
        self._piece_t = self._now
        return data[r:]

    def _cut(self, data: bytes, prefix: bytes) -> bytes:
        """Stamp ``data``, cutting lines longer than LINE_MAX into continued pieces."""
        cont = prefix[:-1] + CONT_SEP
        parts: list[bytes] = []
        pos, n = 0, len(data)
        line_len = self._line_len
        while pos < n:
            nl = data.find(b"\n", pos)
            end = n if nl < 0 else nl
            while end - pos > LINE_MAX - line_len:
                cut = _cut_point(data, pos, pos + LINE_MAX - line_len, line_len)
                parts += (data[pos:cut], b"\n", cont)
                pos, line_len = cut, 0
            parts.append(data[pos:end])
            line_len += end - pos
            if nl < 0:
                break
            pos = nl + 1
            line_len = 0
            parts.append(b"\n" + prefix if pos < n else b"\n")
        self._line_len = line_len
        self._line_start = data.endswith(b"\n")
        self._piece_t = self._now
        return b"".join(parts)

    # -- a full disk --------------------------------------------------------------------

    def _note_drop(self, n: int, err: OSError) -> None:
        self.dropped += n
        self._drop_errno = err.errno

    def _recover(self, prefix: bytes) -> bool:
        """Try to write again: reopen if needed, then the drop marker. True if it worked."""
        try:
            if self._fd < 0:
                self._open()
                self._ends_line = self._size == 0 or (
                    os.pread(self._fd, 1, self._size - 1) == b"\n"
                )
            if self.dropped:
                if not self._has_room():
                    return False
                lead = b"" if self._ends_line else b"\n"
                self._write_raw(lead + prefix + drop_marker(self.dropped, self._drop_errno) + b"\n")
        except OSError as e:
            self._drop_errno = e.errno
            return False
        self.dropped = 0
        self._drop_errno = None
        return True

    def _reopen_if_moved(self) -> None:
        """Someone removed or replaced our file (``rm stdout.log``): start a new one at the
        path, so output keeps reaching readers instead of an unlinked inode."""
        if self._fd < 0:
            return
        try:
            st = os.lstat(self.path)
            if st.st_ino == os.fstat(self._fd).st_ino:
                return
        except FileNotFoundError:
            pass
        except OSError:
            return
        os.close(self._fd)
        self._fd = -1  # the next write reopens it (a full disk is handled there)

    def _has_room(self) -> bool:
        """Resume only with room for more than the marker: a disk hovering at full would
        otherwise collect a marker (or half of one) per chunk. A filesystem that reports
        no sizes (some FUSE ones) is just tried."""
        st = os.fstatvfs(self._fd)
        if st.f_blocks == 0:
            return True
        free = st.f_bfree if os.geteuid() == 0 else st.f_bavail
        return free * st.f_frsize >= RESUME_ROOM

    def _append_counted(self, out: bytes) -> None:
        before = self._written
        try:
            self._append(out)
        except OSError as e:
            self._note_drop(max(0, len(out) - (self._written - before)), e)

    # -- files ----------------------------------------------------------------------------

    def _append(self, out: bytes) -> None:
        # Rotate at the last line boundary that still fits; with none, mid-line: the
        # rest of the line continues, stamped as a continuation, in the new file.
        while out:
            room = self.max_bytes - self._size
            if len(out) <= room:
                self._write_raw(out)
                return
            cut = out.rfind(b"\n", 0, max(room, 0))
            if cut >= 0:
                self._write_raw(out[: cut + 1])
                out = out[cut + 1 :]
            elif self._size and self._ends_line:
                pass  # rotate first; ``out`` starts a line in the new file
            else:
                # No line boundary fits: end this piece here (one byte kept for "\n").
                cut = _cut_point(out, 0, max(room - 1, 1), 1) if room > 1 else 0
                self._write_raw(out[:cut] + b"\n")
                out = (self._prefix_now or self._prefix(time.time()))[:-1] + CONT_SEP + out[cut:]
            self._rotate()

    def _write_raw(self, out: bytes) -> None:
        if self._fd < 0:
            raise OSError(errno.EBADF, "log file is not open")
        n = os.write(self._fd, out)
        if n == len(out):  # the common case: all of it at once
            self._size += n
            self._written += n
            self._ends_line = out.endswith(b"\n")
            return
        view = memoryview(out)
        while True:  # a short write (the disk filling up): account for it, go on
            if n <= 0:  # pragma: no cover - POSIX reports an error instead
                raise OSError(errno.EIO, "write made no progress")
            self._size += n
            self._written += n
            self._ends_line = view[n - 1] == 0x0A
            view = view[n:]
            if not view:
                return
            n = os.write(self._fd, view)

    def _rotate(self) -> None:
        os.close(self._fd)
        self._fd = -1
        if self.backups == 0:
            os.unlink(self.path)  # noqa: PTH108
        else:
            for i in range(self.backups - 1, 0, -1):
                try:  # noqa: SIM105 - no contextlib in the supervisor
                    os.replace(f"{self.path}.{i}", f"{self.path}.{i + 1}")  # noqa: PTH105
                except FileNotFoundError:
                    pass
            os.replace(self.path, f"{self.path}.1")  # noqa: PTH105
        self._open()
        self._ends_line = True

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
