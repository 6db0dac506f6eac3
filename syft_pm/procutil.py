"""Process identity, tree discovery and tree killing: the only place that signals anything.

The earlier package killed a stored pid without checking that it still belonged to its
process. Here a process is identified by ``(pid, create_time)``: a pid alone can be
reused by an unrelated process minutes later, the pair cannot. Every signal goes through
a :class:`psutil.Process` obtained from a verified pair (psutil re-checks the identity
before each signal), so nothing that is not ours is ever touched.

The cheap checks (:func:`create_time`, :func:`is_alive`) read ``/proc`` directly so the
supervisor can use them before paying for the psutil import; psutil is imported lazily.
The supervisor never imports it: it finds and signals its tree with the ``/proc`` and
pidfd functions at the end of this module (:func:`kill_tree_lean`), which keep it small
(psutil, ``signal`` with its enum and ``ctypes`` cost it more memory than the
interpreter itself).
"""

from __future__ import annotations

import os
import time

# Not typing.TYPE_CHECKING: the supervisor imports this module on its startup path,
# where importing typing alone would cost several milliseconds (mypy knows the idiom).
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal
    from collections.abc import Callable, Iterable

    import psutil
else:
    import _signal  # the signal module without its enum (imported by the supervisor)

#: Two create times closer than this are the same process. psutil derives create_time
#: from clock ticks (10 ms) plus the boot time; 50 ms absorbs rounding and JSON floats.
CREATE_TIME_TOLERANCE = 0.05

#: Environment variables the supervisor gives the managed command.
ENV_RUN_ID = "SYFT_PM_RUN_ID"
ENV_PROCESS_NAME = "SYFT_PM_PROCESS_NAME"
ENV_PROCESS_DIR = "SYFT_PM_PROCESS_DIR"
#: Set on a supervisor itself: tree discovery treats another run's supervisor (and what
#: it manages) as independent, so stopping one process never stops a nested one.
ENV_SUPERVISOR = "SYFT_PM_SUPERVISOR"

_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36

_boot_time: float | None = None
_clk_tck: int | None = None


def _btime() -> float:
    global _boot_time
    if _boot_time is None:
        with open("/proc/stat", "rb") as f:
            for line in f:
                if line.startswith(b"btime"):
                    _boot_time = float(line.split()[1])
                    break
            else:  # pragma: no cover - every Linux has it
                raise RuntimeError("btime not found in /proc/stat")
    return _boot_time


def create_time(pid: int) -> float | None:
    """The create time of ``pid`` (epoch seconds, psutil's formula), None if it is gone.

    Zombies count as gone: a process that has exited is not alive, whether or not its
    parent has reaped it yet.
    """
    global _clk_tck
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses: split after the last ")".
    fields = raw[raw.rfind(b")") + 2 :].split()
    if not fields or fields[0] in (b"Z", b"X"):
        return None
    if _clk_tck is None:
        _clk_tck = os.sysconf("SC_CLK_TCK")
    return int(fields[19]) / _clk_tck + _btime()


def is_alive(pid: int | None, ctime: float | None) -> bool:
    """True if ``pid`` is alive and is the process that was created at ``ctime``."""
    if not pid or ctime is None:
        return False
    actual = create_time(pid)
    return actual is not None and abs(actual - ctime) <= CREATE_TIME_TOLERANCE


def is_ours(pid: int | None, ctime: float | None) -> bool:
    """Alias of :func:`is_alive` that reads well at the call sites that signal."""
    return is_alive(pid, ctime)


def verified(pid: int | None, ctime: float | None) -> psutil.Process | None:
    """A psutil handle for ``pid`` only if it is still the process created at ``ctime``."""
    import psutil

    if not pid or ctime is None:
        return None
    try:
        p = psutil.Process(pid)
        if abs(p.create_time() - ctime) > CREATE_TIME_TOLERANCE:
            return None
        if p.status() == psutil.STATUS_ZOMBIE:
            return None
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    return p


def _libc_prctl() -> Callable[..., int]:
    """libc's prctl through ``_ctypes`` alone: the ``ctypes`` package costs the
    supervisor about half a MiB of memory for the two calls it makes."""
    import _ctypes

    class CInt(_ctypes._SimpleCData):  # type: ignore[type-arg]
        _type_ = "i"

    class CFunc(_ctypes.CFuncPtr):
        _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_USE_ERRNO
        _restype_ = CInt

    handle = _ctypes.dlopen(None, os.RTLD_NOW)  # type: ignore[arg-type]  # None: the program
    func: Callable[..., int] = CFunc(_ctypes.dlsym(handle, "prctl"))
    return func


def _prctl(option: int, arg: int) -> None:
    import _ctypes

    if _libc_prctl()(option, arg, 0, 0, 0) != 0:
        err = _ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def make_child_subreaper() -> None:
    """Orphans of our descendants reparent to us instead of init, so we can find them."""
    _prctl(_PR_SET_CHILD_SUBREAPER, 1)


def pdeathsig_setter(sig: int = _signal.SIGKILL) -> Callable[[], None]:
    """Return a function that, called in a forked child, makes it die with its parent.

    The libc lookup is done here, before the fork, so the child only makes one call.
    Note the kernel sends the signal when the parent *thread* that forked exits, so the
    caller must fork from a thread that lives as long as the process (the main thread).
    """
    prctl = _libc_prctl()

    def setter() -> None:
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)

    return setter


def _has_env(p: psutil.Process, key: str, value: str | None = None) -> bool:
    import psutil

    try:
        env = p.environ()
    except (psutil.Error, OSError):
        return False
    return key in env if value is None else env.get(key) == value


def processes_with_run_id(run_id: str) -> list[psutil.Process]:
    """Every process of ours whose environment carries ``SYFT_PM_RUN_ID=run_id``.

    This is how leftovers are found after the supervisor died: descendants inherit the
    variable, whatever session or parent they ended up with.
    """
    import psutil

    me = os.getpid()
    uid = os.getuid()
    needle = f"\0{ENV_RUN_ID}={run_id}\0".encode()
    out = []
    for pid in psutil.pids():
        if pid == me:
            continue
        # Reading /proc/<pid>/environ directly is several times cheaper than psutil's
        # parsed dict; this runs over every process on the machine.
        try:
            st = os.stat(f"/proc/{pid}")  # noqa: PTH116 - runs per process, keep it cheap
            if uid != 0 and st.st_uid != uid:
                continue
            with open(f"/proc/{pid}/environ", "rb") as f:
                raw = f.read()
        except OSError:
            continue
        if needle in b"\0" + raw + b"\0":
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    out.append(p)
            except psutil.Error:
                continue
    return out


def descendants(roots: Iterable[psutil.Process], skip: Iterable[int] = ()) -> list[psutil.Process]:
    """``roots`` plus all their descendants, minus other runs' supervisors and their trees.

    Descendants that started their own session or process group are still children of
    their parent in the process tree, so psutil finds them; orphans reparent to the
    supervisor (a child subreaper), which is why the supervisor passes its own children.
    """
    import psutil

    skip_set = set(skip)
    seen: dict[int, psutil.Process] = {}
    stack = list(roots)
    while stack:
        p = stack.pop()
        if p.pid in seen or p.pid in skip_set:
            continue
        if _has_env(p, ENV_SUPERVISOR):
            continue
        seen[p.pid] = p
        try:
            stack.extend(p.children())
        except psutil.Error:
            continue
    return list(seen.values())


def _gone(p: psutil.Process) -> bool:
    import psutil

    try:
        return not p.is_running() or p.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def wait_gone(
    procs: list[psutil.Process], timeout: float, idle: Callable[[float], None] | None = None
) -> list[psutil.Process]:
    """Wait until every process in ``procs`` has exited; return those still alive.

    Never reaps: the supervisor's own loop must get its children's exit statuses.
    Without ``idle`` it waits on pidfds (no polling); ``idle(seconds)`` lets the
    supervisor keep pumping logs while it waits.
    """
    deadline = time.monotonic() + timeout
    alive = [p for p in procs if not _gone(p)]
    pidfds: dict[int, int] = {}
    try:
        if idle is None:
            for p in alive:
                try:
                    pidfds[os.pidfd_open(p.pid)] = p.pid
                except OSError:
                    continue
        while alive:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if idle is not None:
                idle(min(left, 0.05))
            elif pidfds and len(pidfds) == len(alive):
                wait_readable(list(pidfds), left)
            else:
                time.sleep(min(left, 0.02))  # pidfd unavailable: poll
            alive = [p for p in alive if not _gone(p)]
    finally:
        for fd in pidfds:
            os.close(fd)
    return alive


def _signal_all(procs: Iterable[psutil.Process], sig: int) -> None:
    import psutil

    for p in procs:
        # psutil re-verifies (pid, create_time) before sending, so a process that died
        # and whose pid was reused in the meantime raises instead of being signalled.
        try:
            p.send_signal(sig)
        except psutil.Error:
            continue


def kill_tree(
    find: Callable[[], list[psutil.Process]],
    timeout: float = 5.0,
    idle: Callable[[float], None] | None = None,
) -> None:
    """SIGTERM everything ``find()`` returns, SIGKILL what is left after ``timeout``.

    ``find`` is called again after each round so that processes forked while we were
    killing are caught too; returns when ``find()`` comes back empty (or after a few
    SIGKILL rounds, which only a fork bomb outruns).
    """
    procs = [p for p in find() if not _gone(p)]
    if not procs:
        return
    _signal_all(procs, _signal.SIGTERM)
    left = wait_gone(procs, timeout, idle)
    for _ in range(20):
        more = [p for p in find() if not _gone(p)]
        todo = {p.pid: p for p in [*left, *more]}
        if not todo:
            return
        _signal_all(todo.values(), _signal.SIGKILL)
        left = wait_gone(list(todo.values()), 5.0, idle)


_signal_names: dict[int, str] = {}


def signal_name(sig: int) -> str:
    """``9`` -> ``"SIGKILL"``; unknown numbers become ``"SIG<n>"``. The names of
    ``signal.Signals`` (of aliases, the alphabetically first, as the enum picks), built
    without importing the enum."""
    if not _signal_names:
        for name, value in sorted(vars(_signal).items(), reverse=True):
            if name.startswith("SIG") and not name.startswith("SIG_") and isinstance(value, int):
                _signal_names[value] = name
    return _signal_names.get(sig, f"SIG{sig}")


def wait_readable(fds: list[int], timeout: float | None) -> list[int]:
    """The descriptors of ``fds`` that became readable within ``timeout`` seconds.

    poll(2), never select(2): the Jupyter server raises its open-files limit to 4096 and
    select() fails on any descriptor numbered 1024 or more, which a busy server reaches.
    """
    import select

    poller = select.poll()
    for fd in fds:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    ms = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
    return [fd for fd, _ in poller.poll(ms)]


# -- psutil-free, for the supervisor ----------------------------------------------------
# A process is ``(pid, start)``, ``start`` its start time in clock ticks since boot (the
# create time before conversion): the same identity psutil checks, read from /proc.


def _stat(pid: int) -> tuple[int, int] | None:
    """``(ppid, start)`` of a live ``pid``; None if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rfind(b")") + 2 :].split()
    if len(fields) < 20 or fields[0] in (b"Z", b"X"):
        return None
    return int(fields[1]), int(fields[19])


def proc_stat(pid: int) -> tuple[int, int] | None:
    """``(ppid, start)`` of a live ``pid`` (start in clock ticks since boot, as
    :func:`signal_lean` wants it); None if it is gone or a zombie."""
    return _stat(pid)


def _pids() -> list[int]:
    return [int(n) for n in os.listdir("/proc") if n.isdigit()]  # noqa: PTH208


def proc_table() -> dict[int, tuple[int, int]]:
    """``pid -> (ppid, start)`` for every live process, from one pass over /proc."""
    out = {}
    for pid in _pids():
        st = _stat(pid)
        if st is not None:
            out[pid] = st
    return out


def _environ(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            return b"\0" + f.read() + b"\0"
    except OSError:
        return b""


def lean_tree(me: int, run_id: str, skip: Iterable[int] = ()) -> list[tuple[int, int]]:
    """What :func:`descendants` of ``me``'s children plus :func:`processes_with_run_id`
    find, as ``(pid, start)`` pairs, without psutil: the children of ``me`` (orphans
    reparent to a subreaper) and their descendants, minus ``skip`` and other runs'
    supervisors with their trees, plus every process carrying ``run_id``."""
    table = proc_table()
    kids: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    skip_set = set(skip)
    nested = f"\0{ENV_SUPERVISOR}=".encode()
    found: dict[int, int] = {}
    stack = [p for p in kids.get(me, ()) if p not in skip_set]
    while stack:
        pid = stack.pop()
        if pid in found or pid in skip_set or pid not in table:
            continue
        if nested in _environ(pid):
            continue
        found[pid] = table[pid][1]
        stack.extend(kids.get(pid, ()))
    needle = f"\0{ENV_RUN_ID}={run_id}\0".encode()
    uid = os.getuid()
    # The run id is new with our run: a process started before us cannot carry it, so
    # only younger processes' environments are read (most of a machine is older).
    born = table[me][1] if me in table else 0
    for pid, (_, start) in table.items():
        if pid == me or pid in found or start < born:
            continue
        try:
            if uid != 0 and os.stat(f"/proc/{pid}").st_uid != uid:  # noqa: PTH116
                continue
        except OSError:
            continue
        if needle in _environ(pid):
            found[pid] = start
    return list(found.items())


def _alive(proc: tuple[int, int]) -> bool:
    st = _stat(proc[0])
    return st is not None and st[1] == proc[1]


def signal_lean(procs: Iterable[tuple[int, int]], sig: int) -> None:
    """Send ``sig`` to each ``(pid, start)`` that is still that process: through a
    pidfd opened before the identity check, so a reused pid is never signalled."""
    for pid, start in procs:
        try:
            fd = os.pidfd_open(pid)
        except (AttributeError, OSError) as e:
            if isinstance(e, ProcessLookupError):
                continue  # gone
            # No pidfds (Linux < 5.3): check, then signal; the window is a few µs.
            if _alive((pid, start)):
                try:  # noqa: SIM105 - no contextlib in the supervisor
                    os.kill(pid, sig)
                except OSError:
                    pass
            continue
        try:
            if _alive((pid, start)):
                _signal.pidfd_send_signal(fd, sig)
        except OSError:
            pass
        finally:
            os.close(fd)


def kill_tree_lean(
    find: Callable[[], list[tuple[int, int]]],
    timeout: float,
    idle: Callable[[float], None],
) -> None:
    """:func:`kill_tree` for ``(pid, start)`` pairs: SIGTERM what ``find()`` returns,
    SIGKILL what is left after ``timeout`` (and what was forked meanwhile); ``idle``
    waits (the supervisor keeps pumping logs in it)."""

    def wait(procs: list[tuple[int, int]], seconds: float) -> list[tuple[int, int]]:
        deadline = time.monotonic() + seconds
        alive = [p for p in procs if _alive(p)]
        while alive:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            idle(min(left, 0.05))
            alive = [p for p in alive if _alive(p)]
        return alive

    procs = find()
    if not procs:
        return
    signal_lean(procs, _signal.SIGTERM)
    left = wait(procs, timeout)
    for _ in range(20):
        todo = dict([*left, *find()])
        if not todo:
            return
        signal_lean(todo.items(), _signal.SIGKILL)
        left = wait(list(todo.items()), 5.0)
