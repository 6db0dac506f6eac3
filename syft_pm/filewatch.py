"""Sleep until a directory changes: inotify (ctypes, Linux), else the caller polls.

One wrapper for the whole package: the live watcher watches every process directory of
a registry with one :class:`Inotify`, and core code that follows a log
(:meth:`syft_pm.logs.LogStream.follow`, ``syft-pm logs -f``) watches one directory with
:func:`open_dir_watch`, so a written line wakes it at once instead of at a polling tick
(a poll every 100 ms made a line reach the terminal 50 ms late on average). It lives in
the core because the core follows logs and may not import the live layer. Anything that
goes wrong here (no inotify, the per-user instance limit reached) returns None and the
caller polls: an optimisation, never a requirement.
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
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
#: A log line (modify), a rotation (moves), a recreated or removed log, a state.json
#: rewrite (a rename over it) in the watched directory all wake the waiter.
DIR_MASK = (
    IN_MODIFY | IN_ATTRIB | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE | IN_DELETE
)


class Inotify:
    """One inotify instance watching any number of directories; ``wait(timeout)`` is True
    when something in one of them changed (the pending events are consumed: one wake
    covers a burst)."""

    def __init__(self) -> None:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("c") or "libc.so.6"
        self._libc = ctypes.CDLL(name, use_errno=True)
        self._errno = ctypes.get_errno
        fd = self._libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"inotify_init1: {os.strerror(err)}")
        self.fd: int = fd
        self._watches: dict[str, int] = {}

    def watch(self, path: str | os.PathLike[str], mask: int = DIR_MASK) -> bool:
        key = os.fspath(path)
        if key in self._watches:
            return True
        wd = self._libc.inotify_add_watch(self.fd, os.fsencode(key), mask)
        if wd < 0:
            return False
        self._watches[key] = wd
        return True

    def forget(self, path: str | os.PathLike[str]) -> None:
        wd = self._watches.pop(os.fspath(path), None)
        if wd is not None:
            # The kernel drops the watch itself when the directory is deleted.
            self._libc.inotify_rm_watch(self.fd, wd)

    def watched(self) -> set[str]:
        return set(self._watches)

    def wait(self, timeout: float | None) -> bool:
        if self.fd < 0 or not wait_readable([self.fd], timeout):
            return False
        self.drain()
        return True

    def changed(self) -> set[str] | None:
        """The watched directories with pending events (consuming them), or None when
        the kernel's queue overflowed and any of them may have changed."""
        import struct

        paths = {wd: path for path, wd in self._watches.items()}
        found: set[str] = set()
        overflow = False
        while True:
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # BlockingIOError: nothing more pending
                break
            if not data:
                break
            pos = 0
            while pos + 16 <= len(data):
                wd, mask, _cookie, size = struct.unpack_from("iIII", data, pos)
                pos += 16 + size
                if mask & IN_Q_OVERFLOW or wd not in paths:
                    overflow = overflow or bool(mask & IN_Q_OVERFLOW)
                    continue
                found.add(paths[wd])
        return None if overflow else found

    def drain(self) -> None:
        while True:
            try:
                if not os.read(self.fd, 65536):
                    return
            except OSError:  # BlockingIOError: nothing more pending
                return

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1
        self._watches.clear()


#: What a log follower holds: an :class:`Inotify` on the log's directory.
DirWatch = Inotify


def open_inotify() -> Inotify | None:
    """An :class:`Inotify`, or None where inotify cannot be had."""
    try:
        return Inotify()
    except (OSError, AttributeError, ImportError):
        return None


def open_dir_watch(directory: str | os.PathLike[str]) -> Inotify | None:
    """An :class:`Inotify` watching ``directory``, or None where that cannot be had."""
    ino = open_inotify()
    if ino is not None and not ino.watch(directory):
        ino.close()
        return None
    return ino
