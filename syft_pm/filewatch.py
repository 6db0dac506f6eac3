"""Sleep until a directory changes: inotify (ctypes, Linux), else a polling tick.

Core code that follows a log (:meth:`syft_pm.logs.LogStream.follow`, ``syft-pm logs
-f``) must wake when a line is written, not on the next tick of a poll: a poll every
100 ms made a line reach the terminal 50 ms late on average. The core cannot import the
live layer, so this is the core's own small wrapper (the live watcher has a larger one).
Anything that goes wrong here (no inotify, the per-user instance limit reached) makes
:func:`open_dir_watch` return None and the caller polls: an optimisation, never a
requirement.
"""

from __future__ import annotations

import contextlib
import os

from .procutil import wait_readable

IN_MODIFY = 0x00000002
IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_FROM = 0x00000040
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_DELETE = 0x00000200
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
#: A log line (modify), a rotation (moves), a recreated or removed log, a state.json
#: rewrite (a rename over it) in the watched directory all wake the waiter.
DIR_MASK = (
    IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
)


class DirWatch:
    """One inotify instance watching one directory; ``wait(timeout)`` is True on a change."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c") or "libc.so.6"
        libc = ctypes.CDLL(name, use_errno=True)
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        if libc.inotify_add_watch(fd, os.fsencode(directory), DIR_MASK) < 0:
            err = ctypes.get_errno()
            os.close(fd)
            raise OSError(err, f"inotify_add_watch: {os.strerror(err)}")
        self.fd: int = fd

    def wait(self, timeout: float | None) -> bool:
        """Block until something in the directory changes or ``timeout`` passes; the
        pending events are consumed (one wake covers a burst)."""
        if self.fd < 0 or not wait_readable([self.fd], timeout):
            return False
        self.drain()
        return True

    def drain(self) -> None:
        while True:
            try:
                if not os.read(self.fd, 65536):
                    return
            except (BlockingIOError, OSError):
                return

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


def open_dir_watch(directory: str | os.PathLike[str]) -> DirWatch | None:
    """A :class:`DirWatch` on ``directory``, or None where inotify cannot be had."""
    try:
        return DirWatch(directory)
    except (OSError, AttributeError, ImportError):
        return None
