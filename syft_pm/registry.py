"""The on-disk registry: the single source of truth every surface reads.

Layout (all under ``$SYFT_PM_HOME``, default ``~/.syft_pm``, mode 0700)::

    registry.json                   {"id": "<uuid4>", "schema": 1, "created_at": <epoch>}
    locks/<name>.lock               flock target; never deleted, so a lock can't vanish
                                    under a waiter while a process directory is removed
    processes/<name>/config.json    what to run; written once per start
    processes/<name>/state.json     lifecycle record; only the supervisor writes it while
                                    it lives, readers only after verifying it is dead
    processes/<name>/health.json    last health result, with its timestamp
    processes/<name>/stdout.log     + stdout.log.1 ... (rotated), same for stderr
    processes/<name>/supervisor.log the supervisor's own diagnostics

Every write goes through :func:`atomic_write_json` (temporary file, fsync, rename), so a
reader sees either the old or the new file, never half of one. Every read goes through
:func:`read_json`, which turns a missing, corrupt or foreign file into a
:class:`RegistryFileError` with a reason a human can act on; :meth:`Registry.record`
then reports that entry with ``status="error"`` instead of breaking a listing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import logging
import os
import pwd
import stat
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .names import InvalidNameError, validate_name
from .state import SCHEMA_VERSION as SCHEMA_VERSION  # re-exported: every reader checks it
from .state import state_problem
from .status import ERROR_STATUS, STATUSES

_log = logging.getLogger(__name__)


class RegistryError(Exception):
    """Base class of registry problems."""


class RegistryFileError(RegistryError):
    """A registry file is missing, unreadable, corrupt or not ours."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class LockTimeout(RegistryError):
    """Another process held the per-name lock for longer than we were willing to wait."""


class RegistryPermissionError(RegistryError, PermissionError):
    """A registry directory or file belongs to someone else: whoever can write it would
    choose what a restart runs (command, environment), so it is refused, not used."""


def default_home() -> Path:
    """``$SYFT_PM_HOME`` if set, else ``~/.syft_pm``."""
    env = os.environ.get("SYFT_PM_HOME")
    return Path(env).expanduser() if env else Path.home() / ".syft_pm"


def atomic_write_json(path: Path, data: dict[str, Any], *, fsync: bool = True) -> None:
    """Replace ``path`` with ``data`` so that no reader ever sees a partial file.

    The temporary file gets a fresh random name, created with O_EXCL | O_NOFOLLOW and
    mode 0600: a file or symlink planted at a guessable name is never written through.
    Short writes are continued; the data is flushed before the rename, so even a crash
    leaves the old file or the complete new one. ``fsync=False`` is for a caller on a
    latency-critical path that calls :func:`fsync_file` itself a moment later (run()
    does, while the supervisor boots): readers see the file at once either way; only
    crash durability is deferred.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.tmp")
    payload = json.dumps(data, indent=1, sort_keys=True).encode()
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            write_all(fd, payload)
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_all(fd: int, data: bytes) -> None:
    """``os.write`` until everything is written (a write may be short, e.g. near ENOSPC)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:  # pragma: no cover - POSIX reports an error instead
            raise OSError(errno.EIO, "write made no progress")
        view = view[n:]


def fsync_file(path: Path) -> None:
    """Flush ``path`` to disk (after an ``atomic_write_json(..., fsync=False)``).

    Never raises: the file is already visible and in use (run() calls this after the
    supervisor started), so a failed flush (a filesystem that reports ENOSPC at fsync)
    is logged, not turned into a failed start of a running process."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return  # replaced or removed meanwhile: whoever did it syncs their own
    try:
        os.fsync(fd)
    except OSError as e:
        _log.warning("could not flush %s to disk: %s", path, e)
    finally:
        os.close(fd)


def read_json(path: Path) -> dict[str, Any]:
    """Read a registry JSON object, raising RegistryFileError with a clear reason."""
    try:
        # O_NOFOLLOW: a symlink planted in the registry must not make us read elsewhere.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        raise RegistryFileError(path, "file is missing") from None
    except IsADirectoryError:
        raise RegistryFileError(path, "expected a file, found a directory") from None
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise RegistryFileError(path, "is a symbolic link, not a registry file") from None
        raise RegistryFileError(path, f"cannot be read ({e.strerror})") from None
    if not raw.strip():
        raise RegistryFileError(path, "file is empty (half-written?)")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise RegistryFileError(path, f"is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise RegistryFileError(path, f"expected a JSON object, found {type(data).__name__}")
    schema = data.get("schema", SCHEMA_VERSION)
    if schema != SCHEMA_VERSION:
        raise RegistryFileError(path, f"unknown schema version {schema!r}")
    return data


@dataclass
class ProcessRecord:
    """Everything the registry knows about one name, read without touching processes.

    ``error`` is set (and ``status`` is ``"error"``) when the entry's files could not be
    read; ``config``/``state`` then hold whatever could be read.
    """

    name: str
    directory: Path
    config: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] | None = None
    error: str | None = None

    @property
    def status(self) -> str:
        if self.error:
            return ERROR_STATUS
        status = self.state.get("status")
        return status if isinstance(status, str) and status in STATUSES else ERROR_STATUS


class Registry:
    """A registry directory: paths, the registry id, locks and tolerant reads."""

    def __init__(self, home: str | os.PathLike[str] | None = None) -> None:
        self.home = Path(home).expanduser() if home is not None else default_home()
        self.processes_dir = self.home / "processes"
        self.locks_dir = self.home / "locks"
        self._id: str | None = None

    # -- layout ---------------------------------------------------------------------------

    def ensure(self) -> Registry:
        """Create the registry (mode 0700) if needed; safe to call concurrently.

        The registry holds what restarts run and with which environment, so it belongs to
        the user alone: a directory of ours that others could read or write is made 0700,
        one that belongs to someone else is refused (RegistryPermissionError).
        """
        for d in (self.home, self.processes_dir, self.locks_dir):
            try:
                d.mkdir(mode=0o700, parents=True)
            except FileExistsError:
                if not d.is_dir():
                    raise RegistryError(f"{d} exists and is not a directory") from None
            # The home may be a symlink to the user's own directory; inside it, nothing is.
            secure_dir(d, follow_symlinks=d == self.home)
        meta = self.home / "registry.json"
        if not meta.exists():
            with self._raw_lock(self.locks_dir / ".registry.lock", timeout=10):
                if not meta.exists():
                    atomic_write_json(
                        meta,
                        {
                            "schema": SCHEMA_VERSION,
                            "id": str(uuid.uuid4()),
                            "created_at": time.time(),
                        },
                    )
        return self

    @property
    def id(self) -> str:
        """The registry's uuid: how a cell output names the registry it belongs to."""
        if self._id is None:
            self.ensure()
            self._id = self._read_id() or self._repair_id()
        return self._id

    def _read_id(self) -> str | None:
        try:
            rid = read_json(self.home / "registry.json").get("id")
            return str(uuid.UUID(rid)) if isinstance(rid, str) else None
        except (RegistryFileError, ValueError):
            return None

    def _repair_id(self) -> str:
        """registry.json is damaged (truncated, garbage, no id): a server's status page
        and every websocket depend on the id, so it is repaired, never raised. Under the
        registry lock (another process may have repaired it already) the damaged file is
        kept as ``registry.json.damaged`` and a fresh id written; cell outputs saved
        with the old id then no longer offer actions, which is the safe side. If the
        repair cannot be written (full disk, read-only), an id derived from the
        directory stands in until it can."""
        meta = self.home / "registry.json"
        try:
            with self._raw_lock(self.locks_dir / ".registry.lock", timeout=10):
                rid = self._read_id()
                if rid is not None:
                    return rid
                with contextlib.suppress(OSError):
                    meta.replace(meta.with_name("registry.json.damaged"))
                rid = str(uuid.uuid4())
                atomic_write_json(
                    meta, {"schema": SCHEMA_VERSION, "id": rid, "created_at": time.time()}
                )
                _log.warning("%s was damaged; repaired with a new registry id", meta)
                return rid
        except (OSError, RegistryError) as e:
            st = self.home.stat()
            _log.warning("%s is damaged and cannot be repaired (%s)", meta, e)
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"syft-pm:{st.st_dev}:{st.st_ino}"))

    def secure_entry(self, name: str) -> None:
        """Make sure ``name``'s directory and files are the user's alone before anything
        in it is trusted to run: loose modes of ours are tightened (0700 / 0600), anything
        that belongs to someone else is refused. A missing entry is fine."""
        d = self.process_dir(name)
        try:
            fd = secure_dir(d, follow_symlinks=False, keep_open=True)
        except FileNotFoundError:
            return
        try:
            for entry in os.scandir(fd):
                secure_file(d, entry.name, fd)
        finally:
            os.close(fd)

    def process_dir(self, name: str) -> Path:
        """The directory of ``name``; the name is validated so it cannot escape the registry."""
        return self.processes_dir / validate_name(name)

    def names(self) -> list[str]:
        """Names of every entry (valid directory names only), sorted."""
        try:
            entries = os.scandir(self.processes_dir)
        except FileNotFoundError:
            return []
        with entries:
            out = []
            for e in entries:
                try:
                    validate_name(e.name)
                except InvalidNameError:
                    continue
                if e.is_dir(follow_symlinks=False):
                    out.append(e.name)
        return sorted(out)

    def exists(self, name: str) -> bool:
        """An entry is a real directory: a symlink planted in the registry is not one, so
        nothing that serves an entry can be led outside the registry."""
        d = self.process_dir(name)
        return d.is_dir() and not d.is_symlink()

    # -- reads ----------------------------------------------------------------------------

    def record(self, name: str) -> ProcessRecord:
        """Read one entry; a damaged file yields a record with ``error`` set, never raises."""
        d = self.process_dir(name)
        rec = ProcessRecord(name=name, directory=d)
        problems = []
        for attr, fname in (("config", "config.json"), ("state", "state.json")):
            try:
                setattr(rec, attr, read_json(d / fname))
            except RegistryFileError as e:
                problems.append(f"{fname} {e.reason}")
        try:
            rec.health = read_json(d / "health.json")
        except RegistryFileError as e:
            if e.reason != "file is missing":
                problems.append(f"health.json {e.reason}")
        if rec.state and rec.state.get("status") not in STATUSES:
            problems.append(f"state.json has an unknown status {rec.state.get('status')!r}")
        elif rec.state and (problem := state_problem(rec.state)):
            problems.append(problem)
        if problems:
            rec.error = "; ".join(problems)
        return rec

    def records(self) -> list[ProcessRecord]:
        return [self.record(n) for n in self.names()]

    # -- locking --------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float = 30.0) -> Iterator[None]:
        """Hold the per-name lock (an flock, so it is released if the holder dies)."""
        validate_name(name)
        self.ensure()
        with self._raw_lock(self.locks_dir / f"{name}.lock", timeout):
            # Every change of an entry holds this lock, and restarts read the stored
            # command and environment under it: check the entry is ours first.
            self.secure_entry(name)
            yield

    def is_locked(self, name: str) -> bool:
        """Whether someone holds ``name``'s lock right now (a start, stop or restart is
        under way). A probe for readers: it creates nothing and waits for nothing."""
        try:
            fd = os.open(
                self.locks_dir / f"{validate_name(name)}.lock",
                os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC,
            )
        except OSError:
            return False  # never locked (no lock file), or not ours to probe
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return True
            raise
        finally:
            os.close(fd)  # also releases the probe's shared lock
        return False

    @staticmethod
    @contextlib.contextmanager
    def _raw_lock(path: Path, timeout: float) -> Iterator[None]:
        # O_NOFOLLOW: a symlink planted as a lock file must not make us create or open
        # a file elsewhere.
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise RegistryError(f"{path} is a symbolic link, not a lock file") from None
            raise
        try:
            deadline = time.monotonic() + timeout
            delay = 0.001
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as e:
                    if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                        raise
                    if time.monotonic() >= deadline:
                        raise LockTimeout(
                            f"timed out after {timeout:g}s waiting for {path.name}"
                        ) from None
                    # Lock contention is short (a start takes milliseconds); poll with a
                    # small capped backoff rather than blocking uninterruptibly.
                    time.sleep(delay)
                    delay = min(delay * 2, 0.05)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock


# -- ownership and modes ------------------------------------------------------------------


def _owner(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _refuse(path: Path, st: os.stat_result, what: str) -> RegistryPermissionError:
    return RegistryPermissionError(
        f"{path}: this {what} belongs to {_owner(st.st_uid)}, mode "
        f"{stat.S_IMODE(st.st_mode):04o}, not to you ({_owner(os.geteuid())}); syft_pm only "
        "uses a registry that no one else can write, since what is in it decides what a "
        "restart runs. Use another SYFT_PM_HOME, or have the owner remove or chown it."
    )


def secure_dir(path: Path, *, follow_symlinks: bool, keep_open: bool = False) -> int:
    """Check that ``path`` is a directory of ours and make it 0700 if it is looser.

    Works on an open descriptor (fstat, fchmod), so the directory checked is the one
    changed. Returns that descriptor if ``keep_open``, else closes it (and returns -1).
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno in (errno.ELOOP, errno.ENOTDIR):
            raise RegistryError(f"{path} is not a directory (a symbolic link or a file)") from None
        raise
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise _refuse(path, st, "directory")
        if st.st_mode & 0o077:
            if st.st_mode & stat.S_ISVTX:
                # A shared directory such as /tmp: tightening it would break the machine.
                raise RegistryPermissionError(
                    f"{path} is a shared directory (mode {stat.S_IMODE(st.st_mode):04o}, "
                    "sticky bit); a registry needs a directory of its own"
                )
            os.fchmod(fd, 0o700)
    except BaseException:
        os.close(fd)
        raise
    if keep_open:
        return fd
    os.close(fd)
    return -1


def secure_file(directory: Path, name: str, dir_fd: int) -> None:
    """Refuse a file in ``directory`` that someone else owns; make a loose one of ours
    0600. Symbolic links are left alone: registry files are opened with O_NOFOLLOW."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return  # removed meanwhile (a temporary file renamed into place)
    if st.st_uid != os.geteuid():
        raise _refuse(directory / name, st, "file")
    if not stat.S_ISREG(st.st_mode) or not st.st_mode & 0o077:
        return
    try:
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError:
        return  # replaced by a symlink or removed since the stat: nothing to tighten
    try:
        fst = os.fstat(fd)
        if fst.st_uid != os.geteuid():
            raise _refuse(directory / name, fst, "file")
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def write_stop_request(directory: Path, timeout: float, run_id: str | None) -> None:
    """Ask a process's supervisor to stop it: ``control.json``, which the supervisor
    reads when it is woken (a signal locally; its next heartbeat on a cluster)."""
    atomic_write_json(
        directory / "control.json",
        {
            "schema": SCHEMA_VERSION,
            "action": "stop",
            "timeout": timeout,
            "requested_at": time.time(),
            "run_id": run_id,
        },
    )


# Registries this process opened through the public API (``ProcessManager``). The kernel's
# comm target serves only these and the default one: a saved notebook output naming some
# other directory must not make the kernel create or watch it.
_homes_in_use: set[str] = set()


def note_home_in_use(home: Path) -> None:
    _homes_in_use.add(str(home.resolve()))


def homes_in_use() -> frozenset[str]:
    return frozenset(_homes_in_use)
