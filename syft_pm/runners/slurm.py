"""The ``slurm`` runner: the supervisor runs as the program of a Slurm job.

Submission is ``sbatch`` (the job's name carries the process name; the job's own stdout
and stderr go to ``job.out``/``job.err`` in the process directory). The supervisor on
the node writes the same registry files as a local one, plus a heartbeat
(``heartbeat.json``: time, node, job id, the tree's metrics). Readers on any host judge a
Slurm process by that heartbeat and by the scheduler's state (``squeue``, then
``scontrol``, then ``sacct``), never by a pid, which means nothing on another host;
nothing on the submit host is ever signalled for it: control goes through the control
file the supervisor reads, and ``scancel``.

Scheduler queries are cached for a second and batched (one ``squeue`` for every job a
scan asks about), so a watcher over many Slurm processes costs one call a second.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: States in which the job still holds (or waits for) an allocation.
PENDING_STATES = frozenset({"PENDING", "CONFIGURING", "REQUEUED", "RESIZING", "SUSPENDED"})
RUNNING_STATES = frozenset({"RUNNING", "STAGE_OUT", "SIGNALING"})
CACHE_SECONDS = 1.0
CALL_TIMEOUT = 20.0


class SlurmError(RuntimeError):
    """A Slurm command failed; the message carries what it said."""


@dataclass(frozen=True)
class JobInfo:
    job_id: str
    state: str
    reason: str | None = None
    node: str | None = None
    partition: str | None = None
    exit_code: str | None = None

    @property
    def pending(self) -> bool:
        return self.state in PENDING_STATES

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def ended(self) -> bool:
        return not (self.pending or self.running) and self.state != "UNKNOWN"


def _call(argv: list[str], *, env: dict[str, str] | None = None) -> str:
    try:
        out = subprocess.run(
            argv, capture_output=True, text=True, timeout=CALL_TIMEOUT, env=env, check=False
        )
    except FileNotFoundError:
        raise SlurmError(f"{argv[0]} not found: is Slurm installed on this host?") from None
    except subprocess.TimeoutExpired:
        raise SlurmError(f"{argv[0]} did not answer within {CALL_TIMEOUT:g}s") from None
    if out.returncode != 0:
        raise SlurmError(f"{shlex.join(argv[:2])}: {out.stderr.strip() or out.stdout.strip()}")
    return out.stdout


# -- submission ---------------------------------------------------------------------------


def sbatch_argv(name: str, pdir: Path, run_id: str, runner: dict[str, Any]) -> list[str]:
    """The ``sbatch`` command that runs this process's supervisor in an allocation."""
    res, opts = runner.get("resources") or {}, runner.get("options") or {}
    from ..supervisor import SUPERVISOR_ARGS

    package_parent = Path(__file__).resolve().parent.parent.parent
    # Started as run() starts a local one (lean: -s -E -c), from the package's parent
    # (--chdir), so it runs this very copy of syft_pm (the nodes share the filesystem).
    program = shlex.join([sys.executable, *SUPERVISOR_ARGS, str(pdir), run_id, "-1"])
    argv = [
        "sbatch",
        "--parsable",
        f"--job-name=syft_pm:{name}",
        f"--output={pdir / 'job.out'}",
        f"--error={pdir / 'job.err'}",
        f"--chdir={package_parent}",
        "--export=ALL",
        "--ntasks=1",
    ]
    if "cpus" in res:
        argv.append(f"--cpus-per-task={res['cpus']}")
    if "memory" in res:
        argv.append(f"--mem={res['memory']}")
    if res.get("gpus"):
        argv.append(f"--gres=gpu:{res['gpus']}")
    if "time" in res:
        argv.append(f"--time={res['time']}")
    for key in ("partition", "account", "qos"):
        if key in opts:
            argv.append(f"--{key}={opts[key]}")
    argv += list(opts.get("sbatch_args") or [])
    argv += ["--wrap", f"exec {program}"]
    return argv


def submit(argv: list[str], env: dict[str, str]) -> str:
    """Submit; returns the job id. Raises SlurmError with sbatch's own message."""
    out = _call(argv, env=env).strip()
    job_id = out.split(";", 1)[0]
    if not job_id.isdigit():
        raise SlurmError(f"sbatch answered {out!r}, not a job id")
    _cache.forget(job_id)
    return job_id


def cancel(job_id: str, signal: str | None = None) -> None:
    """``scancel`` (with ``signal``: deliver it to the job's processes first, as a polite
    stop; without: end the job)."""
    argv = ["scancel"]
    if signal:
        argv.append(f"--signal={signal}")
        argv.append("--full")
    _call([*argv, job_id])
    _cache.forget(job_id)


# -- queries ------------------------------------------------------------------------------


class _Cache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._info: dict[str, tuple[float, JobInfo]] = {}

    def get(self, job_ids: list[str]) -> dict[str, JobInfo]:
        now = time.monotonic()
        with self._lock:
            fresh = {
                j: info
                for j in job_ids
                if (hit := self._info.get(j)) and now - hit[0] < CACHE_SECONDS
                for info in (hit[1],)
            }
        missing = [j for j in job_ids if j not in fresh]
        if missing:
            found = _query(missing)
            with self._lock:
                for j, info in found.items():
                    self._info[j] = (now, info)
            fresh.update(found)
        return fresh

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._info.pop(job_id, None)


_cache = _Cache()


def jobs(job_ids: list[str]) -> dict[str, JobInfo]:
    """What the scheduler says about these jobs (cached for a second, batched)."""
    return _cache.get([j for j in job_ids if j])


def job(job_id: str, *, fresh: bool = False) -> JobInfo:
    """What the scheduler says about one job (``fresh``: ask now, not from the cache)."""
    if fresh:
        _cache.forget(job_id)
    return jobs([job_id]).get(job_id) or JobInfo(job_id, "UNKNOWN")


def _query(job_ids: list[str]) -> dict[str, JobInfo]:
    out: dict[str, JobInfo] = {}
    try:
        text = _call(["squeue", "-h", "-j", ",".join(job_ids), "-o", "%i|%T|%r|%N|%P"])
    except SlurmError:
        text = ""  # squeue refuses ids it no longer knows: ask scontrol below
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) == 5 and parts[0] in job_ids:
            jid, state, reason, node, part = parts
            if state == "COMPLETING":
                continue  # ending: scontrol says how (TIMEOUT, CANCELLED...), below
            out[jid] = JobInfo(jid, state, _clean(reason), node or None, part or None)
    for jid in job_ids:
        if jid not in out:
            out[jid] = _finished(jid)
    return out


def _finished(job_id: str) -> JobInfo:
    """A job squeue no longer lists: scontrol keeps it for MinJobAge, sacct longer."""
    try:
        fields = dict(
            kv.split("=", 1)
            for kv in _call(["scontrol", "show", "job", "-o", job_id]).split()
            if "=" in kv
        )
        return JobInfo(
            job_id,
            fields.get("JobState", "UNKNOWN"),
            _clean(fields.get("Reason")),
            _clean(fields.get("NodeList")),
            fields.get("Partition"),
            fields.get("ExitCode"),
        )
    except SlurmError:
        pass
    try:
        line = _call(
            ["sacct", "-n", "-P", "-X", "-j", job_id, "-o", "State,Reason,NodeList,Partition"]
        ).strip()
    except SlurmError:
        return JobInfo(job_id, "UNKNOWN")
    parts = (line.splitlines() or [""])[0].split("|")
    if len(parts) < 4:
        return JobInfo(job_id, "UNKNOWN")
    state = parts[0].split()[0] if parts[0] else "UNKNOWN"
    return JobInfo(job_id, state, _clean(parts[1]), _clean(parts[2]), parts[3] or None)


def _clean(value: str | None) -> str | None:
    if not value or value in ("None", "(null)", "(None)"):
        return None
    return value


#: While a job is COMPLETING, Slurm's reason says why it is ending.
_REASON_STATES = {
    "TimeLimit": "TIMEOUT",
    "Preempted": "PREEMPTED",
    "NodeDown": "NODE_FAIL",
    "NodeFail": "NODE_FAIL",
    "OutOfMemory": "OUT_OF_MEMORY",
}


def ended_reason(info: JobInfo) -> str:
    """A human reason for a job that ended without its supervisor saying why."""
    state = info.state
    reason = info.reason
    if state == "COMPLETING" and reason in _REASON_STATES:
        state, reason = _REASON_STATES[reason], None
    what = {
        "TIMEOUT": "its time limit was reached",
        "PREEMPTED": "it was preempted",
        "NODE_FAIL": "its node failed",
        "OUT_OF_MEMORY": "it ran out of memory",
        "CANCELLED": "it was cancelled",
        "FAILED": "it failed",
        "BOOT_FAIL": "its node failed to boot",
        "DEADLINE": "its deadline passed",
        "COMPLETED": "it ended",
    }.get(state, f"it ended ({state})")
    detail = f"; {reason}" if reason and reason not in _REASON_STATES else ""
    return f"Slurm job {info.job_id}: {what}{detail}"


# -- the node's side ------------------------------------------------------------------------


def job_environment() -> dict[str, str | None]:
    """What the supervisor records about its allocation (from Slurm's job environment)."""
    return {
        "job_id": os.environ.get("SLURM_JOB_ID"),
        "node": os.environ.get("SLURMD_NODENAME") or os.uname().nodename,
        "partition": os.environ.get("SLURM_JOB_PARTITION"),
    }
