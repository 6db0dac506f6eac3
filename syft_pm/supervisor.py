"""The supervisor: one small detached process per managed process.

``python -m syft_pm.supervisor <process_dir> <run_id> <ready_fd>``, started by
:meth:`syft_pm.manager.ProcessManager.run` in a session of its own, so the kernel or
server that asked for it can die at any time. It

- makes itself a child subreaper, so orphans of the command's tree reparent to it and
  can be found and terminated (no unmanaged leftovers);
- starts the command in its own session, stdin from /dev/null, stdout/stderr into pipes,
  with ``PR_SET_PDEATHSIG=SIGKILL`` so killing the supervisor cannot leave it unmanaged;
- reports the child's pid (or the exec error) on ``ready_fd``: run() returns as soon as
  the child has a live pid, without polling;
- pumps the pipes into timestamped, rotated log files; reaps every child; records the
  exit code or signal; applies the restart policy with exponential backoff, the TTL and
  health probes; honours stop requests (``control.json`` + SIGTERM).

While it lives it is the only writer of ``state.json``. It runs one thread (the main
one: it forks the child, so PDEATHSIG stays tied to a thread that lives as long as the
supervisor) plus a health thread when probes are configured. Its startup imports are
kept light: run() until a live pid must stay well under 100 ms.
"""

from __future__ import annotations

import os
import select
import sys
import time

from . import jsonlite, procutil
from .state import SCHEMA_VERSION, initial_state

# Startup matters here (run() waits for this process to start the command), so the
# module avoids typing, pathlib, contextlib and the registry module on its start path;
# ``TYPE_CHECKING = False`` is the mypy-recognised spelling that costs no import.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal
    import threading
    from collections.abc import Callable
    from typing import Any

    from .logwriter import LogWriter
else:
    # ``signal`` without its enum, ``jsonlite`` for ``json``, no psutil, no ctypes: an
    # idle supervisor's memory is mostly what it imported.
    import _signal as signal

#: How run() starts a supervisor, before ``<process_dir> <run_id> <ready_fd>``: without
#: ``site`` or PYTHON* variables (``-s -S -E``; everything it runs is the standard
#: library and this package) and through ``-c`` rather than ``-m`` (runpy alone would
#: bring contextlib, collections and importlib.util). Its cwd is the package's parent,
#: which ``-c`` puts first on sys.path. The command line still names
#: ``syft_pm.supervisor``, which is how running supervisors are recognised.
SUPERVISOR_ARGS = (
    "-s",
    "-S",
    "-E",
    "-c",
    "from syft_pm.supervisor import main; raise SystemExit(main())",
)
DEFAULT_BACKOFF = {"initial": 1.0, "factor": 2.0, "max": 30.0, "reset_after": 10.0}
DEFAULT_STOP_TIMEOUT = 5.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
#: "Stop on request" when the manager cannot write control.json (a full disk).
REQUEST_STOP_SIGNAL = signal.SIGUSR1
#: "Write your state again": state.json was found damaged while we live.
REWRITE_SIGNAL = signal.SIGUSR2
_HEALTH_WAKE = b"\0"
#: Held (flock) by the supervisor for its whole life; holds its pid, create time and run
#: id, so an entry whose state.json cannot be read is still known to be alive.
LOCK_FILE = "supervisor.lock"
#: Space set aside so the final state can be recorded on a full disk.
RESERVE_FILE = ".reserve"
LOCK_PATIENCE = 5.0  # seconds to wait for an earlier supervisor's lifetime lock
RESERVE_BYTES = 64 * 1024
STATE_RETRY = 0.5  # seconds between attempts to write a state the disk refused
FINAL_STATE_PATIENCE = 5.0  # how long an exiting supervisor keeps trying


class _suppress:
    """contextlib.suppress without importing contextlib on the start path."""

    def __init__(self, *exceptions: type[BaseException]) -> None:
        self.exceptions = exceptions

    def __enter__(self) -> None:
        return None

    def __exit__(self, et: type[BaseException] | None, ev: object, tb: object) -> bool:
        return et is not None and issubclass(et, self.exceptions)


def write_json(
    path: str, data: dict[str, Any], before_sync: Callable[[], None] | None = None
) -> None:
    """registry.atomic_write_json without importing the registry (the same rules:
    a fresh random temporary name opened O_EXCL | O_NOFOLLOW 0600, short writes
    continued, fsync, rename; compact JSON), because it is needed before the child is
    ready."""
    base = f"{os.path.dirname(path)}/.{os.path.basename(path)}"  # noqa: PTH119, PTH120
    tmp = f"{base}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600)
    try:
        try:
            view = memoryview(jsonlite.dumps(data).encode())
            while view:
                view = view[os.write(fd, view) :]
            if before_sync is None:
                os.fsync(fd)
                os.replace(tmp, path)  # noqa: PTH105
            else:
                # Visible first, flushed a moment later: ``before_sync`` (readiness) is
                # not delayed by the disk; the record is durable before anything else.
                os.replace(tmp, path)  # noqa: PTH105
                before_sync()
                os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with _suppress(OSError):
            os.unlink(tmp)  # noqa: PTH108
        raise


def _log(msg: str) -> None:
    """Diagnostics go to the supervisor's stderr, which run() points at supervisor.log.
    Never raises: a full disk must not turn a diagnostic into a crash."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with _suppress(OSError, ValueError):
        print(f"{stamp} [{os.getpid()}] {msg}", file=sys.stderr, flush=True)


def spawn(
    argv: list[str],
    env: dict[str, str],
    cwd: str | None,
    fds: tuple[int, int, int],
    *,
    pdeathsig: Callable[[], None] | None = None,
) -> int:
    """fork + exec ``argv`` in a new session; raise OSError if it cannot be executed.

    Hand-rolled rather than subprocess.Popen: importing subprocess costs more than the
    whole fork, Popen would try to reap the child itself (the supervisor reaps all its
    children in one place), and PDEATHSIG has to be set between fork and exec.
    """
    parent = os.getpid()
    err_r, err_w = os.pipe()  # close-on-exec: EOF on success, a message on failure
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            os.setsid()
            if pdeathsig is not None:
                pdeathsig()
                if os.getppid() != parent:  # the supervisor died before prctl
                    os._exit(127)
            for sig in (*_STOP_SIGNALS, signal.SIGCHLD, signal.SIGPIPE, signal.SIGXFSZ):
                signal.signal(sig, signal.SIG_DFL)
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
            if cwd:
                os.chdir(cwd)
            os.execvpe(argv[0], argv, env)  # noqa: S606 - argv is the user's command
        except BaseException as e:  # noqa: BLE001 - anything must reach the parent as an error
            code = getattr(e, "errno", None) or 0
            msg = getattr(e, "strerror", None) or str(e)
            with _suppress(BaseException):
                os.write(err_w, f"{code}\0{msg}".encode())
        os._exit(127)
    os.close(err_w)
    data = b""
    while chunk := os.read(err_r, 4096):
        data += chunk
    os.close(err_r)
    if data:
        with _suppress(ChildProcessError):
            os.waitpid(pid, 0)
        code, _, msg = data.decode(errors="replace").partition("\0")
        raise OSError(int(code or 0), msg, argv[0])
    return pid


class _NullLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class Supervisor:
    def __init__(self, process_dir: str, run_id: str, ready_fd: int) -> None:
        self.dir = process_dir
        self.run_id = run_id
        self.ready_fd = ready_fd
        with open(f"{process_dir}/config.json", "rb") as f:
            self.config: dict[str, Any] = jsonlite.loads(f.read())
        self.name = str(self.config.get("name", os.path.basename(process_dir)))  # noqa: PTH119
        self.pid = os.getpid()
        ct = procutil.create_time(self.pid)
        carry = self.config.get("carry")  # what a resurrection keeps (see resurrect.py)
        carry = carry if isinstance(carry, dict) else {}
        self.state: dict[str, Any] = initial_state(
            run_id,
            None,
            supervisor_pid=self.pid,
            supervisor_create_time=ct,
            restarts=int(carry.get("restarts") or 0),
            restart_reason=carry.get("restart_reason"),
        )
        self.child: int | None = None
        self.child_status: int | None = None
        self.child_started_mono = 0.0
        self.first_start = time.time()
        ttl = self.config.get("ttl")
        self.ttl_deadline = self.first_start + float(ttl) if ttl else None
        self.restart_at: float | None = None
        self.consecutive = 0
        self.backoff = {**DEFAULT_BACKOFF, **(self.config.get("backoff") or {})}
        self.stop_requested = False
        self.stop_by_request = False
        self.closing = False
        self.state_dirty = False  # the disk refused the last state write; retry it
        self.state_retry_at = 0.0
        self.lock_fd = -1
        self.health_dirty = False
        self.spawn_lock: Any = _NullLock()
        self.probe_cond: threading.Condition | None = None
        self.probe_results: dict[int, int | None] = {}
        self.monitor: Any = None
        self.watchdog: Any = None  # ready / max_memory / bind (watchdog.py), when configured
        self.writers: dict[int, LogWriter] = {}
        # A scheduler's job (runner "slurm"): readers elsewhere cannot see our pids, so
        # we record where we run and keep a heartbeat (syft_pm.runners.heartbeat).
        self.heartbeat: Any = None
        runner = self.config.get("runner")
        if isinstance(runner, dict) and runner.get("kind") not in (None, "local"):
            from .runners.heartbeat import Heartbeat
            from .runners.slurm import job_environment

            where = {"kind": runner.get("kind"), **job_environment()}
            self.state["runner"] = where
            self.heartbeat = Heartbeat(process_dir, where)
        self.env = self._child_env()
        self.devnull = os.open(os.devnull, os.O_RDWR)
        self.out_r, self.out_w = self._pipe()
        self.err_r, self.err_w = self._pipe()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        self.poller = select.poll()
        for fd in (self.wake_r, self.out_r, self.err_r):
            self.poller.register(fd, select.POLLIN)

    # -- setup ------------------------------------------------------------------------

    @staticmethod
    def _pipe() -> tuple[int, int]:
        r, w = os.pipe()
        try:
            # A bigger pipe absorbs bursts without blocking the child.
            import fcntl

            fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 1 << 20)
        except (OSError, AttributeError):
            pass
        os.set_blocking(r, False)
        return r, w

    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop(procutil.ENV_SUPERVISOR, None)
        env.update(self.config.get("env") or {})
        env[procutil.ENV_PROCESS_NAME] = self.name
        env[procutil.ENV_PROCESS_DIR] = self.dir
        env[procutil.ENV_RUN_ID] = self.run_id
        env.setdefault("PYTHONUNBUFFERED", "1")
        return env

    def _argv(self) -> list[str]:
        cmd = self.config["cmd"]
        if self.config.get("shell"):
            return ["/bin/sh", "-c", cmd if isinstance(cmd, str) else " ".join(cmd)]
        return [str(c) for c in cmd]

    def _install_signals(self) -> None:
        def noop(signum: int, frame: object) -> None:
            return None

        # The C-level handler writes the signal number to wake_w; the loop reads it there.
        signal.set_wakeup_fd(self.wake_w, warn_on_full_buffer=False)
        for sig in (*_STOP_SIGNALS, signal.SIGCHLD, REQUEST_STOP_SIGNAL, REWRITE_SIGNAL):
            signal.signal(sig, noop)

    def _hold_lock(self) -> None:
        """Take the lifetime lock and say who holds it (see :data:`LOCK_FILE`)."""
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(f"{self.dir}/{LOCK_FILE}", flags, 0o600)
        # A replaced supervisor may still be exiting: wait for it, but not forever (one
        # stuck in the kernel must not keep this run from starting).
        deadline = time.monotonic() + LOCK_PATIENCE
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    _log(f"{LOCK_FILE} is still held by an earlier supervisor; going on without it")
                    return
                time.sleep(0.01)
        self.lock_fd = fd
        who = {
            "pid": self.pid,
            "create_time": self.state["supervisor_create_time"],
            "run_id": self.run_id,
        }
        with _suppress(OSError):  # on a full disk the lock alone still says "alive"
            os.ftruncate(self.lock_fd, 0)
            os.pwrite(self.lock_fd, jsonlite.dumps(who).encode(), 0)

    def _make_reserve(self) -> None:
        """Set space aside (see :data:`RESERVE_FILE`); silently skipped on a full disk."""
        path = f"{self.dir}/{RESERVE_FILE}"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError:
            return
        try:
            if os.fstat(fd).st_size < RESERVE_BYTES:
                os.posix_fallocate(fd, 0, RESERVE_BYTES)
        except OSError:
            with _suppress(OSError):
                os.unlink(path)  # noqa: PTH108
        finally:
            os.close(fd)

    # -- state ------------------------------------------------------------------------

    def write_state(self, before_sync: Callable[[], None] | None = None, **changes: Any) -> None:
        """Record ``changes``. If the disk refuses (full), the state stays in memory and
        the loop writes the latest one when it can: supervision never stops for it."""
        self.state.update(changes)
        self.state["updated_at"] = time.time()
        pending = [before_sync] if before_sync is not None else []

        def once() -> None:
            while pending:
                pending.pop()()

        try:
            write_json(f"{self.dir}/state.json", self.state, once if pending else None)
            self.state_dirty = False
        except OSError as e:
            if not self.state_dirty:
                _log(f"cannot write state.json ({e.strerror or e}); keeping it in memory")
            self.state_dirty = True
            self.state_retry_at = time.time() + STATE_RETRY
        once()

    def flush_state(self) -> None:
        """Retry a state write the disk refused (the state may have changed since)."""
        self.state_retry_at = time.time() + STATE_RETRY
        try:
            write_json(f"{self.dir}/state.json", self.state)
        except OSError:
            return
        self.state_dirty = False
        _log("state.json written again")
        if not self.closing:
            self._make_reserve()

    def final_state(self, **changes: Any) -> None:
        """Record the last state before exiting; on a full disk, use the reserved space,
        then keep trying for a while: an exit must not leave a stale record behind."""
        self.write_state(**changes)
        if not self.state_dirty:
            return
        with _suppress(OSError):
            os.unlink(f"{self.dir}/{RESERVE_FILE}")  # noqa: PTH108
        deadline = time.monotonic() + FINAL_STATE_PATIENCE
        while True:
            self.flush_state()
            if not self.state_dirty or time.monotonic() >= deadline:
                break
            time.sleep(0.1)
        if self.state_dirty:
            _log(f"could not record the final state {self.state.get('status')!r}: disk full")

    def _ready(self, payload: dict[str, Any]) -> None:
        if self.ready_fd < 0:
            return
        with _suppress(OSError):
            os.write(self.ready_fd, jsonlite.dumps(payload).encode() + b"\n")
        with _suppress(OSError):
            os.close(self.ready_fd)
        self.ready_fd = -1

    # -- children ---------------------------------------------------------------------

    def start_child(self) -> bool:
        """Fork the command; on failure record it and return False."""
        try:
            pid = spawn(
                self._argv(),
                self.env,
                self.config.get("cwd"),
                (self.devnull, self.out_w, self.err_w),
                pdeathsig=procutil.pdeathsig_setter(),
            )
        except OSError as e:
            reason = f"cannot start {self._argv()[0]!r}: {e.strerror or e}"
            _log(reason)
            self.final_state(status="failed", reason=reason, ended_at=time.time())
            self._ready({"ok": False, "error": reason})
            return False
        now = time.time()
        self.child, self.child_status = pid, None
        self.child_started_mono = time.monotonic()
        self.restart_at = None
        with _suppress(OSError):
            os.unlink(f"{self.dir}/health.json")  # noqa: PTH108
        ctime = procutil.create_time(pid)
        ready = {
            "ok": True,
            "pid": pid,
            "create_time": ctime,
            "supervisor_pid": self.pid,
            "supervisor_create_time": self.state["supervisor_create_time"],
        }
        waits = bool(self.config.get("ready"))  # "starting" until the watchdog says ready
        self.write_state(
            lambda: self._ready(ready),
            status="starting" if waits else "running",
            reason="waiting until ready" if waits else None,
            ready_at=None,
            pid=pid,
            create_time=ctime,
            exit_code=None,
            signal=None,
            started_at=now,
            ended_at=None,
            next_restart_at=None,
        )
        if self.monitor is not None:
            self.monitor.child_started(now)
        if self.watchdog is not None:
            self.watchdog.child_started(pid, ctime, now)
        return True

    def reap(self) -> None:
        """Reap every exited child; keep the main child's and the probes' statuses."""
        with self.spawn_lock:
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    return
                if pid == 0:
                    return
                if pid == self.child:
                    self.child_status = status
                elif self.probe_cond is not None and pid in self.probe_results:
                    with self.probe_cond:
                        self.probe_results[pid] = os.waitstatus_to_exitcode(status)
                        self.probe_cond.notify_all()

    def run_probe_command(self, argv: list[str], timeout: float) -> int | None:
        """Run a command probe from the health thread; the main loop reaps it."""
        assert self.probe_cond is not None
        with self.spawn_lock:
            pid = spawn(argv, self.env, self.config.get("cwd"), (self.devnull,) * 3)
            with self.probe_cond:
                self.probe_results[pid] = None
        os.write(self.wake_w, b"\x11")  # SIGCHLD may have come before registration
        deadline = time.monotonic() + timeout
        with self.probe_cond:
            while self.probe_results[pid] is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.probe_cond.wait(left)
            code = self.probe_results[pid]
        if code is None:
            # Still our unreaped child, so its pid (and group) cannot have been reused.
            with _suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            with self.probe_cond:
                while self.probe_results[pid] is None:
                    self.probe_cond.wait(1.0)
        with self.probe_cond:
            self.probe_results.pop(pid, None)
        return code

    def _tree(self) -> list[tuple[int, int]]:
        """Everything of ours as ``(pid, start)``: our children (orphans come to us) and
        their descendants, and whatever carries our run id (from /proc, no psutil)."""
        # A running health probe is left alone between runs, but not when we are going away.
        probe_pids = set() if self.closing else set(self.probe_results)
        return procutil.lean_tree(self.pid, self.run_id, skip=probe_pids)

    def kill_tree(self, timeout: float) -> None:
        procutil.kill_tree_lean(self._tree, timeout, idle=self._idle)
        self.reap()

    # -- the loop -----------------------------------------------------------------------

    def _pump(self, fd: int) -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        if data:
            self.writers[fd].write(data)

    def drain(self) -> None:
        """Copy everything still in the pipes to the logs (the writers hold the write ends)."""
        for fd in (self.out_r, self.err_r):
            while True:
                try:
                    data = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if not data:
                    break
                self.writers[fd].write(data)

    def _poll(self, timeout: float | None) -> None:
        ms = -1 if timeout is None else max(0, int(timeout * 1000) + 1)
        for fd, _ in self.poller.poll(ms):
            if fd == self.wake_r:
                try:
                    data = os.read(self.wake_r, 512)
                except BlockingIOError:
                    data = b""
                if any(b in data for b in _STOP_SIGNALS):
                    self.stop_requested = True
                if REQUEST_STOP_SIGNAL in data:
                    self.stop_requested = self.stop_by_request = True
                if REWRITE_SIGNAL in data:
                    self.state_dirty = True
                    self.state_retry_at = 0.0
                if _HEALTH_WAKE[0] in data:
                    self.health_dirty = True
            else:
                self._pump(fd)
        self.reap()

    def _idle(self, seconds: float) -> None:
        """Wait while killing, but keep logging: shutdown messages are often the useful ones."""
        self._poll(seconds)

    def _next_timeout(self) -> float | None:
        deadlines = [d for d in (self.ttl_deadline, self.restart_at) if d is not None]
        if self.heartbeat is not None:
            deadlines.append(self.heartbeat.due())
        if self.state_dirty:
            deadlines.append(self.state_retry_at)
        if not deadlines:
            return None
        return max(0.0, min(deadlines) - time.time())

    def loop(self) -> int:
        while True:
            self._poll(self._next_timeout())
            if self.stop_requested:
                return self.stop()
            if self.ttl_deadline is not None and time.time() >= self.ttl_deadline:
                return self.stop(ttl=True)
            child_done = self.child is not None and self.child_status is not None
            if child_done and self.on_child_exit():
                return 0
            if self.health_dirty:
                self.health_dirty = False
                self.apply_health()
            if self.state_dirty and time.time() >= self.state_retry_at:
                self.flush_state()
            if self.heartbeat is not None and time.time() >= self.heartbeat.due():
                self.heartbeat.beat(self.child, self.state.get("create_time"))
                # On a cluster nobody can signal us: a stop request is the control file,
                # looked for at every heartbeat.
                if self._read_control() is not None:
                    return self.stop()
            if self.watchdog is not None and self.watchdog.pending():
                code = self.watchdog.apply()
                if code is not None:
                    return int(code)
            if self.restart_at is not None and time.time() >= self.restart_at:
                self.state["restarts"] = int(self.state["restarts"]) + 1
                if not self.start_child():
                    return 1

    def apply_health(self) -> None:
        if (
            self.monitor is None
            or self.child is None
            or self.state["status"] not in ("running", "unhealthy")
        ):
            return
        status, message = self.monitor.verdict()
        if status == "unhealthy" and self.state["status"] != "unhealthy":
            self.write_state(status="unhealthy", reason=f"health check failing: {message}")
        elif status != "unhealthy" and self.state["status"] == "unhealthy":
            self.write_state(status="running", reason=None)

    def _exit_fields(self, status: int | None) -> dict[str, Any]:
        if status is None:
            return {}
        code = os.waitstatus_to_exitcode(status)
        if code < 0:
            return {"exit_code": None, "signal": procutil.signal_name(-code)}
        return {"exit_code": code, "signal": None}

    def on_child_exit(self) -> bool:
        """The main child exited: clean up its tree, record, maybe schedule a restart."""
        status = self.child_status
        ran_for = time.monotonic() - self.child_started_mono
        if self.monitor is not None:
            self.monitor.child_stopped()
        if self.watchdog is not None:
            self.watchdog.child_stopped()
        self.kill_tree(float(self.config.get("stop_timeout") or DEFAULT_STOP_TIMEOUT))
        self.drain()
        fields = self._exit_fields(status)
        self.child = None
        now = time.time()
        code = fields.get("exit_code")
        desc = f"exit code {code}" if code is not None else f"killed by {fields.get('signal')}"
        policy = self.config.get("restart", "no")
        success = code == 0
        if policy == "no" or (policy == "on-failure" and success):
            self.final_state(
                status="exited" if success else "failed",
                reason=None if success else desc,
                ended_at=now,
                **fields,
            )
            return True
        if ran_for >= float(self.backoff["reset_after"]):
            self.consecutive = 0
        max_restarts = self.config.get("max_restarts", 10)
        if max_restarts is not None and self.consecutive >= int(max_restarts):
            self.final_state(
                status="failed",
                reason=f"gave up after {self.consecutive} restarts (last: {desc})",
                ended_at=now,
                **fields,
            )
            return True
        delay = min(
            float(self.backoff["initial"]) * float(self.backoff["factor"]) ** self.consecutive,
            float(self.backoff["max"]),
        )
        self.consecutive += 1
        self.restart_at = now + delay
        self.write_state(
            status="starting",
            reason=f"restarting in {delay:g}s after {desc}",
            ended_at=now,
            next_restart_at=self.restart_at,
            **fields,
        )
        return False

    def stop(self, ttl: bool = False) -> int:
        """Stop by request, signal or TTL: kill the whole tree, record ``stopped``, exit."""
        timeout = DEFAULT_STOP_TIMEOUT
        stop_reason, reason = "signal", "supervisor received a termination signal"
        if ttl:
            stop_reason, reason = "ttl", f"TTL of {float(self.config['ttl']):g}s reached"
        else:
            control = self._read_control()
            if control is not None or self.stop_by_request:
                stop_reason, reason = "requested", "stopped on request"
                timeout = float(self.config.get("stop_timeout") or timeout)
                with _suppress(TypeError, ValueError):
                    timeout = float((control or {}).get("timeout", timeout))
            elif self.heartbeat is not None:
                # Nobody asked (no control file): the scheduler ended the job, and it
                # says why (time limit, preemption...); readers ask again if it could not.
                stop_reason, reason = "scheduler", "the scheduler ended the job"
                with _suppress(Exception):
                    from .runners import slurm

                    job_id = self.heartbeat.where.get("job_id")
                    info = slurm.job(str(job_id)) if job_id else None
                    if info is not None and info.ended:
                        reason = slurm.ended_reason(info)
        self.write_state(
            status="stopping", reason=reason, stop_reason=stop_reason, next_restart_at=None
        )
        self.closing = True
        if self.monitor is not None:
            self.monitor.close()
        self.kill_tree(timeout)
        self.drain()
        fields = self._exit_fields(self.child_status) if self.child is not None else {}
        final = "failed" if stop_reason == "scheduler" else "stopped"
        self.final_state(status=final, ended_at=time.time(), **fields)
        return 0

    def _read_control(self) -> dict[str, Any] | None:
        try:
            with open(f"{self.dir}/control.json", "rb") as f:
                data = jsonlite.loads(f.read())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("action") != "stop":
            return None
        if data.get("run_id") not in (None, self.run_id):
            return None
        return data

    def main(self) -> int:
        self._install_signals()
        try:
            procutil.make_child_subreaper()
        except OSError as e:  # pragma: no cover - Linux >= 3.4 always has it
            _log(f"cannot become a child subreaper: {e}")
        try:
            self._hold_lock()
        except OSError as e:  # a full disk must not keep the command from starting
            _log(f"cannot take {LOCK_FILE}: {e}")
        if not self.start_child():
            return 1
        self._make_reserve()
        # Imported only now: the child is running and its output waits in the pipes.
        from .logwriter import LogWriter

        logs_cfg = self.config.get("logs") or {}
        for fd, stream in ((self.out_r, "stdout"), (self.err_r, "stderr")):
            self.writers[fd] = LogWriter(
                f"{self.dir}/{stream}.log",
                int(logs_cfg.get("max_bytes", 10 * 1024 * 1024)),
                int(logs_cfg.get("backups", 5)),
            )
        if self.config.get("health"):
            self._start_health()
        if self.config.get("ready") or self.config.get("max_memory") or self.config.get("bind"):
            from .watchdog import start_watchdog

            self.watchdog = start_watchdog(self)
        try:
            return self.loop()
        finally:
            if self.monitor is not None:
                self.monitor.close()
            if self.watchdog is not None:
                self.watchdog.close()
            for w in self.writers.values():
                w.close()
            with _suppress(OSError):  # only needed while we live
                os.unlink(f"{self.dir}/{RESERVE_FILE}")  # noqa: PTH108

    def _start_health(self) -> None:
        import threading

        from .health import HealthMonitor

        self.spawn_lock = threading.Lock()
        self.probe_cond = threading.Condition()

        def wake() -> None:
            with _suppress(OSError):
                os.write(self.wake_w, _HEALTH_WAKE)

        self.monitor = HealthMonitor(self.config["health"], self.dir, wake, self.run_probe_command)
        self.monitor.child_started(float(self.state["started_at"]))
        self.monitor.start()


def _fail_hard(sup: Supervisor | None, process_dir: str, run_id: str, err: BaseException) -> None:
    """Last resort: record why the supervisor is going away and leave nothing behind."""
    reason = f"supervisor error: {type(err).__name__}: {err}"
    _log(reason)
    try:
        if sup is not None:
            sup.kill_tree(1.0)
            sup.write_state(status="failed", reason=reason, ended_at=time.time())
            sup._ready({"ok": False, "error": reason})
        else:
            now = time.time()
            state = {
                "schema": SCHEMA_VERSION,
                "run_id": run_id,
                "status": "failed",
                "reason": reason,
                "supervisor_pid": os.getpid(),
                "supervisor_create_time": procutil.create_time(os.getpid()),
                "restarts": 0,
                "ended_at": now,
                "updated_at": now,
            }
            write_json(f"{process_dir}/state.json", state)
    except BaseException as e:  # noqa: BLE001 - nothing more can be done; say so
        _log(f"could not record the failure: {e!r}")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(
            "usage: python -m syft_pm.supervisor <process_dir> <run_id> <ready_fd>", file=sys.stderr
        )
        return 2
    process_dir, run_id, ready = args
    ready_fd = int(ready)
    if ready_fd >= 0:
        os.set_inheritable(ready_fd, False)
    sup: Supervisor | None = None
    try:
        sup = Supervisor(process_dir, run_id, ready_fd)
        return sup.main()
    except BaseException as e:  # noqa: BLE001 - record any failure before dying
        _fail_hard(sup, process_dir, run_id, e)
        return 1


if __name__ == "__main__":
    sys.exit(main())
