"""Supervisors forked from one idle template process, instead of each exec'ing Python.

An exec'd CPython owns about 2.5 MiB of private memory before it runs a line of ours
(its heap: interned strings, type and module objects); fifty supervisors paid that fifty
times. The fork server is one small process per user and Python that has imported the
supervisor and waits. A supervisor forked from it shares those pages with it until it
writes them, so each costs only what it touches (the memory figure of
``bench/bench_peers.py``).

What a supervisor used to inherit from its caller, a forked one cannot, so the request
carries it: the environment, the umask, the resource limits and the supervisor log (a
descriptor, as its stdout and stderr). The connection itself becomes the supervisor's
``ready_fd``: the first line on it is the supervisor's own pid and start time, written by
the supervisor (one writer, so the order holds), the second its readiness message.

Trust: an abstract Unix socket (no file that could be planted or left behind) that only
this user's processes may use, and that a caller uses only if this user's process
listens on it (``SO_PEERCRED``, both ways). Its name holds a digest of the Python
and of this package's files, so code that changed gets a new server; an old one ends by
itself once it has had no supervisor and no request for :data:`IDLE_EXIT` seconds.
Anything going wrong here makes run() exec the supervisor as before (:func:`start`
returns None); ``SYFT_PM_FORKSERVER=0`` turns the fork server off.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import sys

from . import jsonlite

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ENV_SWITCH = "SYFT_PM_FORKSERVER"
#: Seconds a fork server with no live supervisor waits for a request before it ends.
IDLE_EXIT = 600.0
#: Seconds a caller waits for a new fork server to listen.
BOOT_TIMEOUT = 5.0
#: Longest request accepted (the environment is most of it).
MAX_REQUEST = 1 << 20
_CRED = struct.Struct("3i")
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))  # noqa: PTH100, PTH120


def enabled() -> bool:
    return os.environ.get(ENV_SWITCH, "1").lower() not in ("0", "false", "no", "off")


def address() -> bytes:
    """The abstract socket name of this user's fork server for this Python and code."""
    import hashlib

    h = hashlib.sha256()
    h.update(f"{sys.executable}\0{sys.version}\0{PACKAGE_DIR}".encode())
    for sub in ("", "runners"):
        d = os.path.join(PACKAGE_DIR, sub)  # noqa: PTH118
        try:
            names = sorted(n for n in os.listdir(d) if n.endswith(".py"))  # noqa: PTH208
        except OSError:
            continue
        for n in names:
            try:
                st = os.stat(os.path.join(d, n))  # noqa: PTH116, PTH118
            except OSError:
                continue
            h.update(f"{sub}/{n}:{st.st_mtime_ns}:{st.st_size}\0".encode())
    return f"\0syft-pm-fork-{os.getuid()}-{h.hexdigest()[:24]}".encode()


# -- caller side ----------------------------------------------------------------------------


class Started:
    """A supervisor the fork server started: its pid and start time (``/proc`` ticks, for
    :func:`procutil.signal_lean`) and the connection its readiness message arrives on."""

    __slots__ = ("fd", "pid", "start")

    def __init__(self, pid: int, start: int, fd: int) -> None:
        self.pid = pid
        self.start = start
        self.fd = fd


class ForkServerError(OSError):
    """The request reached a fork server, which may or may not have forked: run() must
    not start a second supervisor for the same run, so it fails instead."""


def start(
    process_dir: str, run_id: str, env: dict[str, str], log_fd: int, timeout: float
) -> Started | None:
    """Ask the fork server (started if need be) for a supervisor.

    None when no supervisor was started and none will be (no server could be reached, or
    the connection ended before a supervisor said hello): the caller execs one instead.
    Blocking, like the exec it replaces (run() is synchronous); bounded by ``timeout``.
    """
    if not enabled():
        return None
    name = address()
    sock = _connect(name)
    if sock is None:
        if not _boot(name):
            return None
        sock = _connect(name)
        if sock is None:
            return None
    request = {"args": [process_dir, run_id], "env": env, "umask": _umask(), "rlimits": _rlimits()}
    try:
        sock.settimeout(timeout)
        socket.send_fds(sock, [jsonlite.dumps(request).encode() + b"\n"], [log_fd])
    except OSError:
        sock.close()  # nothing was asked of the server yet
        return None
    try:
        line = _read_line(sock)
    except OSError as e:
        sock.close()
        raise ForkServerError(f"the fork server did not answer: {e}") from None
    if not line:
        # Closed before any hello: whatever was forked has already exited.
        sock.close()
        return None
    try:
        hello = jsonlite.loads(line)
        started = Started(int(hello["pid"]), int(hello["start"]), sock.detach())
    except (ValueError, TypeError, KeyError) as e:
        sock.close()
        raise ForkServerError(f"the fork server's answer is not understood: {e}") from None
    return started


def _connect(name: bytes) -> socket.socket | None:
    """A connection to the server on ``name``, if one of this user's processes listens
    there. The abstract namespace is shared by every user of the machine, so another
    could bind the name first: it would be sent the environment (secrets too) and a
    descriptor of the supervisor log. Its credentials are checked before a byte goes."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(BOOT_TIMEOUT)
        sock.connect(name)
        _pid, uid, _gid = _CRED.unpack(
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
        )
    except OSError:
        sock.close()
        return None
    if uid != os.getuid():
        sock.close()
        return None
    return sock


def _boot(name: bytes) -> bool:
    """Start a fork server and wait until it listens (or another one won the name)."""
    import subprocess
    import threading

    from . import procutil

    r, w = os.pipe()
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-s",
                "-S",
                "-E",
                "-c",
                "from syft_pm.forkserver import main; raise SystemExit(main())",
                name[1:].decode(),
                str(w),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=(w,),
            start_new_session=True,
            # Nothing of the caller's: each request brings the environment it needs. The
            # marker makes a stop of some managed tree that happens to contain the fork
            # server (it was started from inside a managed process) pass it by, as it
            # passes nested supervisors.
            env={procutil.ENV_SUPERVISOR: "1"},
            # -c puts the cwd first on sys.path: this very copy of syft_pm.
            cwd=os.path.dirname(PACKAGE_DIR),  # noqa: PTH120
        )
    except OSError:
        os.close(r)
        os.close(w)
        return False
    os.close(w)
    threading.Thread(target=proc.wait, name="syft-pm-reap-forkserver", daemon=True).start()
    try:
        if not procutil.wait_readable([r], BOOT_TIMEOUT):
            return False
        return os.read(r, 16).strip() in (b"ok", b"busy")
    finally:
        os.close(r)


def _read_line(sock: socket.socket) -> bytes:
    """One line, and not a byte of the next (the supervisor's readiness follows)."""
    buf = b""
    while not buf.endswith(b"\n") and len(buf) < 4096:
        peek = sock.recv(4096, socket.MSG_PEEK)
        if not peek:
            break
        cut = peek.find(b"\n")
        buf += sock.recv(cut + 1 if cut >= 0 else len(peek))
    return buf


def _umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _rlimits() -> dict[str, list[int]]:
    import resource

    out = {}
    for key in dir(resource):
        if key.startswith("RLIMIT_"):
            try:
                out[key] = list(resource.getrlimit(getattr(resource, key)))
            except (OSError, ValueError):
                continue
    return out


# -- the fork server ----------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m syft_pm.forkserver <name> <ready_fd>", file=sys.stderr)
        return 2
    name, ready_fd = b"\0" + args[0].encode(), int(args[1])
    # Everything a supervisor needs, imported now so that every fork shares it; and the
    # package's parent by name on sys.path, not as "" (the cwd, which is about to change),
    # for what a supervisor imports later (health probes, the watchdog).
    from . import logwriter, supervisor  # noqa: F401

    sys.path[:] = [os.path.dirname(PACKAGE_DIR) if p == "" else p for p in sys.path]  # noqa: PTH120
    os.chdir("/")  # hold no directory of anyone's (a registry on a tmpfs must unmount)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(name)
    except OSError:
        os.write(ready_fd, b"busy\n")  # another caller's server won the name: use it
        return 0
    sock.listen(128)
    os.write(ready_fd, b"ok\n")
    os.close(ready_fd)
    return Server(sock).serve()


class Server:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.children: set[int] = set()

    def serve(self) -> int:
        import gc
        import signal

        signal.signal(signal.SIGCHLD, self._reap)
        # Objects that exist now are never collected in a fork: a collection writes to
        # every object it visits, which would copy the shared pages.
        gc.freeze()
        self.sock.settimeout(IDLE_EXIT)
        while True:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                self._reap()
                if not self.children:
                    return 0
                continue
            try:
                self._handle(conn)
            except Exception as e:  # noqa: BLE001 - a bad request must not end the server
                _log(f"request failed: {type(e).__name__}: {e}")
            finally:
                conn.close()

    def _reap(self, *_: object) -> None:
        while self.children:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)

    def _handle(self, conn: socket.socket) -> None:
        pid, uid, _gid = _CRED.unpack(
            conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size)
        )
        if uid != os.getuid():
            _log(f"refused a request from uid {uid} (pid {pid})")
            return
        conn.settimeout(5.0)
        data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 1)
        try:
            while not data.endswith(b"\n"):
                if len(data) > MAX_REQUEST:
                    raise ValueError("request too long")
                more = conn.recv(65536)
                if not more:
                    raise ValueError("request cut short")
                data += more
            request = jsonlite.loads(data)
            if len(fds) != 1 or not isinstance(request, dict):
                raise ValueError("malformed request")
            child = os.fork()
            if child == 0:  # pragma: no cover - runs in the fork
                _become_supervisor(self.sock, conn, fds[0], request)
            self.children.add(child)
        finally:
            for fd in fds:
                os.close(fd)


def _become_supervisor(
    listener: socket.socket, conn: socket.socket, log_fd: int, request: dict[str, Any]
) -> None:
    """In the fork: take on what the caller would have given an exec'd supervisor, say
    who we are on the connection, and run the supervisor; never return."""
    import signal

    code = 1
    try:
        listener.close()
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(null)
        os.umask(int(request["umask"]))
        _apply_rlimits(request.get("rlimits") or {})
        os.environ.clear()
        os.environ.update(request["env"])
        fd = conn.detach()
        os.set_blocking(fd, True)
        me = os.getpid()
        with open(f"/proc/{me}/stat", "rb") as f:
            start = int(f.read().rsplit(b")", 1)[1].split()[19])
        os.write(fd, jsonlite.dumps({"pid": me, "start": start}).encode() + b"\n")
        from .supervisor import main as supervise

        process_dir, run_id = request["args"]
        code = supervise([str(process_dir), str(run_id), str(fd)])
    except BaseException as e:  # noqa: BLE001 - report, never return into the server loop
        _log(f"supervisor fork failed: {type(e).__name__}: {e}")
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _apply_rlimits(limits: dict[str, list[int]]) -> None:
    import resource

    for key, (soft, hard) in limits.items():
        res = getattr(resource, key, None)
        if not key.startswith("RLIMIT_") or res is None:
            continue
        try:
            resource.setrlimit(res, (soft, hard))
        except (OSError, ValueError):
            # A hard limit above ours cannot be raised: keep ours, the soft one in it.
            try:
                cur_hard = resource.getrlimit(res)[1]
                cap = (
                    soft
                    if cur_hard == resource.RLIM_INFINITY
                    else min(soft, cur_hard)
                    if soft != resource.RLIM_INFINITY
                    else cur_hard
                )
                resource.setrlimit(res, (cap, cur_hard))
            except (OSError, ValueError):
                continue


def _log(msg: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"syft_pm forkserver: {msg}", file=sys.stderr, flush=True)
