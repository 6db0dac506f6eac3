"""A minimal inotify wrapper (ctypes, Linux only) so the watcher can sleep until a file
in the registry changes instead of polling: a log line wakes it within a millisecond,
and an idle fleet costs no CPU at all. Anything that goes wrong here makes the watcher
fall back to polling; it is an optimisation, never a requirement.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import struct
from pathlib import Path

from ..procutil import wait_readable

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_DELETE_SELF = 0x00000400
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")

DIR_MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE


class Inotify:
    """Watches directories; ``wait(timeout)`` returns True when something changed."""

    def __init__(self) -> None:
        name = ctypes.util.find_library("c")
        if not name:
            raise OSError("libc not found")
        self._libc = ctypes.CDLL(name, use_errno=True)
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd: int = fd
        self._watches: dict[str, int] = {}

    def watch(self, path: Path, mask: int = DIR_MASK) -> bool:
        key = str(path)
        if key in self._watches:
            return True
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(key), mask)
        if wd < 0:
            return False
        self._watches[key] = wd
        return True

    def forget(self, path: Path) -> None:
        wd = self._watches.pop(str(path), None)
        if wd is not None:
            # The kernel drops the watch itself when the directory is deleted.
            self._libc.inotify_rm_watch(self.fd, wd)

    def watched(self) -> set[str]:
        return set(self._watches)

    def wait(self, timeout: float | None) -> bool:
        """Block until an event arrives or ``timeout`` passes; drain pending events."""
        if not wait_readable([self.fd], timeout):
            return False
        self.drain()
        return True

    def drain(self) -> None:
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            if not data:
                return

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self._watches.clear()


def open_inotify() -> Inotify | None:
    try:
        return Inotify()
    except (OSError, AttributeError):
        return None
