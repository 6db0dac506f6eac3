"""The supervisor's side of the log files: stamp every line, rotate at line boundaries.

Format: every line starts with a fixed-width UTC timestamp and a space,
``2024-05-01T12:00:00.123Z hello``, so each line's time is known without a side index.
The writer stamps a whole chunk at once (one ``bytes.replace`` per ``os.read``), never
loops over lines in Python: that is what keeps logging overhead small under a flood.

Rotation: ``stdout.log`` -> ``stdout.log.1`` -> ... -> ``stdout.log.<backups>``, only
ever at a line boundary, by renames (a rename keeps the inode, which is how a reader's
cursor survives rotation). The supervisor is the only writer, so nothing is lost.
The reader is :mod:`syft_pm.logs`.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_BACKUPS = 5
PREFIX_LEN = 25  # "YYYY-MM-DDTHH:MM:SS.mmmZ "


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
        self._fd = -1
        self._size = 0
        self._line_start = True  # the next byte of the child's output starts a line
        self._ends_line = True  # the file ends at a line boundary
        self._open()
        if self._size and os.pread(self._fd, 1, self._size - 1) != b"\n":
            # A previous writer died mid-line: finish that line so ours start clean.
            self._write_raw(b"\n")

    def _open(self) -> None:
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
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
        prefix = self._prefix(time.time() if now is None else now)
        ends_line = data.endswith(b"\n")
        body = data[:-1] if ends_line else data
        out = body.replace(b"\n", b"\n" + prefix)
        if self._line_start:
            out = prefix + out
        if ends_line:
            out += b"\n"
        self._line_start = ends_line
        self._append(out)

    def _append(self, out: bytes) -> None:
        # Rotate only at line boundaries: cut ``out`` after the last newline that still
        # fits; a single line longer than max_bytes is kept whole.
        at_line_start = self._ends_line
        while out:
            room = self.max_bytes - self._size
            if len(out) <= room:
                self._write_raw(out)
                return
            cut = out.rfind(b"\n", 0, max(room, 0))
            if cut < 0 and self._size and at_line_start:
                self._rotate()
                at_line_start = True
                continue
            if cut < 0:
                cut = out.find(b"\n")
                if cut < 0:
                    self._write_raw(out)
                    return
            self._write_raw(out[: cut + 1])
            out = out[cut + 1 :]
            self._rotate()
            at_line_start = True

    def _write_raw(self, out: bytes) -> None:
        view = memoryview(out)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self._size += len(out)
        self._ends_line = out.endswith(b"\n")

    def _rotate(self) -> None:
        os.close(self._fd)
        path = Path(self.path)
        if self.backups == 0:
            path.unlink()
        else:
            for i in range(self.backups - 1, 0, -1):
                with contextlib.suppress(FileNotFoundError):
                    Path(f"{self.path}.{i}").replace(f"{self.path}.{i + 1}")
            path.replace(f"{self.path}.1")
        self._open()
        self._ends_line = True

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
