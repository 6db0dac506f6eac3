"""Starting a run: the files of a new run, its supervisor and the wait for its word.

The manager decides whether a run may start (validation, ``if_exists``, the entry's
lock); this module carries the start out, with the lock held by the caller: it writes
the run's files (``config.json``, ``state.json``, the environment it is started with,
a function's payload), starts its supervisor (forked from the fork server, exec'd where
there is none, or handed to a scheduler) and waits for the supervisor's one readiness
line, so that ``run()`` returns once the command has a live pid or a clear error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from . import procutil, provenance, runners
from .errors import ProcessStartError
from .observe import log_hint
from .registry import (
    SCHEMA_VERSION,
    Registry,
    RegistryFileError,
    atomic_write_json,
    fsync_file,
    read_json,
)
from .state import initial_state
from .supervisor import SUPERVISOR_ARGS

#: Seconds a supervisor has to report that its command started.
READY_TIMEOUT = 30.0
#: The environment a process was first started with (see :func:`stored_environ`).
ENVIRON_FILE = "environ.json"
#: A run_function payload, beside the entry's config.
FUNCTION_FILE = "function.pkl"
#: Variables that name one run: never inherited by a run started from inside another.
_CHILD_ONLY_ENV = frozenset(
    {
        procutil.ENV_RUN_ID,
        procutil.ENV_PROCESS_NAME,
        procutil.ENV_PROCESS_DIR,
        procutil.ENV_SUPERVISOR,
    }
)


def start_run(
    registry: Registry,
    config: dict[str, Any],
    payload: bytes | None,
    *,
    base_env: dict[str, str] | None = None,
    origin: dict[str, Any] | None = None,
) -> None:
    """Start a run of ``config`` (its entry's lock held by the caller). ``base_env`` and
    ``origin`` carry a restarted process's original environment and provenance; a fresh
    start takes this process's own. Raises :class:`ProcessStartError` when the command
    could not be started; the entry then records why."""
    from . import forkserver

    name = config["name"]
    pdir = registry.process_dir(name)
    pdir.mkdir(mode=0o700, exist_ok=True)
    run_id = uuid.uuid4().hex
    if origin is None:
        prov = provenance.collect()
    else:
        prov = {**origin, "restarted_by": provenance.collect()}
    config = {
        **config,
        "run_id": run_id,
        "provenance": prov,
        "created_at": time.time(),
    }
    for stale in ("control.json", "health.json"):
        with contextlib.suppress(FileNotFoundError):
            (pdir / stale).unlink()
    if payload is not None:
        write_payload(pdir / FUNCTION_FILE, payload)
    # No fsync yet: the files are flushed below while the supervisor boots, which
    # keeps two disk flushes off run()'s latency (readers see the files at once).
    atomic_write_json(pdir / "config.json", config, fsync=False)
    for stream in ("stdout.log", "stderr.log"):
        # Present from the start, so readers and info() never see a missing log.
        os.close(os.open(pdir / stream, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
    now = time.time()
    atomic_write_json(pdir / "state.json", initial_state(run_id, now), fsync=False)
    base = dict(os.environ) if base_env is None else base_env
    env = {k: v for k, v in base.items() if k not in _CHILD_ONLY_ENV}
    # The environment the process was first started with, so that a restart from
    # anywhere (the sidebar runs in the server) gives it the same one, as pm2 does.
    # Mode 0600 in a 0700 directory: it may hold secrets, like the user's shell.
    atomic_write_json(pdir / ENVIRON_FILE, {"schema": SCHEMA_VERSION, "environ": env}, fsync=False)
    env[procutil.ENV_SUPERVISOR] = "1"
    if runners.is_remote(config):
        _submit(registry, config, env)
        return
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
    slog_fd = os.open(pdir / "supervisor.log", flags, 0o600)
    try:
        try:
            forked = forkserver.start(str(pdir), run_id, env, slog_fd, READY_TIMEOUT)
        except forkserver.ForkServerError as e:
            record_failure(registry, name, run_id, str(e))
            raise ProcessStartError(f"{name}: {e}") from None
        if forked is None:
            sup, r = _exec_supervisor(pdir, run_id, env, slog_fd)
        else:
            sup, r = (forked.pid, forked.start), forked.fd
    finally:
        os.close(slog_fd)
    fsync_file(pdir / "config.json")
    fsync_file(pdir / "state.json")
    try:
        msg = read_ready(r, READY_TIMEOUT)
    finally:
        os.close(r)
    if msg is None:
        import signal

        # Only the supervisor we started (pid and start time), never a reused pid.
        procutil.signal_lean([sup], signal.SIGKILL)
        reason = "supervisor did not report readiness" + log_hint(pdir / "supervisor.log")
        record_failure(registry, name, run_id, reason)
        raise ProcessStartError(f"{name}: {reason}")
    if not msg.get("ok"):
        raise ProcessStartError(f"{name}: {msg.get('error') or 'could not start'}")


def _exec_supervisor(
    pdir: Path, run_id: str, env: dict[str, str], slog_fd: int
) -> tuple[tuple[int, int], int]:
    """Start a supervisor as its own Python (where no fork server can be had):
    ``((pid, start), fd its readiness arrives on)``."""
    import subprocess
    import threading

    r, w = os.pipe()
    try:
        proc = subprocess.Popen(
            [sys.executable, *SUPERVISOR_ARGS, str(pdir), run_id, str(w)],
            stdin=subprocess.DEVNULL,
            stdout=slog_fd,
            stderr=slog_fd,
            pass_fds=(w,),
            start_new_session=True,
            env=env,
            # -c puts the cwd first on sys.path: the supervisor runs this very copy
            # of syft_pm, installed or not.
            cwd=str(Path(__file__).resolve().parent.parent),
        )
    except BaseException:
        os.close(r)
        raise
    finally:
        os.close(w)
    # Reap the supervisor whenever it ends, so a long-lived kernel collects no zombies.
    threading.Thread(target=proc.wait, name=f"syft-pm-reap-{proc.pid}", daemon=True).start()
    st = procutil.proc_stat(proc.pid)
    return (proc.pid, st[1] if st else -1), r


def _submit(registry: Registry, config: dict[str, Any], env: dict[str, str]) -> None:
    """Hand the supervisor to the scheduler; the process is ``queued`` until its
    allocation starts (the supervisor then writes ``starting``/``running``)."""
    from .runners import slurm

    name, run_id = config["name"], config["run_id"]
    pdir = registry.process_dir(name)
    argv = slurm.sbatch_argv(name, pdir, run_id, config["runner"])
    try:
        job_id = slurm.submit(argv, env)
    except slurm.SlurmError as e:
        record_failure(registry, name, run_id, f"the job was not submitted: {e}")
        raise ProcessStartError(f"{name}: the job was not submitted: {e}") from None
    state = initial_state(
        run_id,
        time.time(),
        status="queued",
        reason="submitted to Slurm",
        runner={"kind": "slurm", "job_id": job_id},
    )
    atomic_write_json(pdir / "state.json", state)


def record_failure(registry: Registry, name: str, run_id: str, reason: str) -> None:
    """Record a run that never started as ``failed``, with why."""
    now = time.time()
    state = {
        **initial_state(run_id, now),
        "status": "failed",
        "reason": reason,
        "ended_at": now,
    }
    atomic_write_json(registry.process_dir(name) / "state.json", state)


def stored_environ(pdir: Path) -> dict[str, str] | None:
    """The environment a process was first started with (None for entries that predate
    environ.json, or a damaged file: the restarting process's own is used then)."""
    try:
        env = read_json(pdir / ENVIRON_FILE).get("environ")
    except RegistryFileError:
        return None
    if isinstance(env, dict) and all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        return env
    return None


def write_payload(path: Path, payload: bytes) -> None:
    """Write a run_function payload 0600 at a fresh temporary name, then rename.

    O_EXCL | O_NOFOLLOW: a file or symlink planted at the temporary name is never
    written through. The payload's sha256 is in config.json; function_runner checks it
    before unpickling, so a payload swapped afterwards is refused, never run.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)  # a buffered file writes everything (it loops on short writes)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def read_ready(fd: int, timeout: float) -> dict[str, Any] | None:
    """The supervisor's one-line JSON readiness message, or None (EOF / timeout)."""
    deadline = time.monotonic() + timeout
    buf = b""
    while not buf.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if not procutil.wait_readable([fd], left):
            return None
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
    try:
        msg = json.loads(buf)
    except ValueError:
        return None
    return msg if isinstance(msg, dict) else None
