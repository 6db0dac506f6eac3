"""Judging and controlling a process whose supervisor runs elsewhere (a Slurm job).

The local rules (a verified pid, the supervisor's lock) mean nothing for a supervisor on
another host, so these take their place for every reader and writer in the core:

* :func:`observe`: what a reader reports, without writing: ``queued`` with Slurm's
  reason while the job waits; the supervisor's own record while its heartbeat is fresh
  or the scheduler says the job runs; ``failed`` with the scheduler's reason when the
  job ended without the supervisor recording it (time limit, node failure...).
* :func:`stop`: the control file the supervisor reads; ``scancel`` (a polite TERM, then
  the end of the job) only when the supervisor does not answer in time. Nothing on this
  host is ever signalled.
* :func:`repair`: records what :func:`observe` derived, for write paths.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

from ..registry import (
    ProcessRecord,
    RegistryFileError,
    atomic_write_json,
    read_json,
    write_stop_request,
)
from ..status import ACTIVE_STATUSES, FINAL_STATUSES
from . import HEARTBEAT_INTERVAL, heartbeat, slurm

#: How long an unanswered heartbeat may be trusted when the scheduler cannot be asked.
UNREACHABLE_GRACE = 300.0
#: Extra seconds a stop waits for the supervisor beyond the stop timeout (it reads the
#: control file at its next wake-up, at least every heartbeat).
STOP_GRACE = HEARTBEAT_INTERVAL + 5.0


def job_id(rec: ProcessRecord) -> str | None:
    runner = rec.state.get("runner")
    if isinstance(runner, dict) and isinstance(runner.get("job_id"), str):
        return str(runner["job_id"])
    return None


def _with(rec: ProcessRecord, **changes: Any) -> ProcessRecord:
    return replace(rec, state={**rec.state, **changes})


def observe(rec: ProcessRecord) -> ProcessRecord:
    if rec.error:
        return rec
    jid = job_id(rec)
    status = rec.status
    if status in FINAL_STATUSES:
        if rec.state.get("stop_reason") == "scheduler" and jid:
            info = _ask(jid)
            if info is not None and info.ended:
                return _with(rec, reason=slurm.ended_reason(info))
        return rec
    if status not in ACTIVE_STATUSES or jid is None:
        return rec
    beat = heartbeat.read(rec.directory)
    if status == "queued" or beat is None:
        info = _ask(jid)
        if info is None:
            return rec
        where = {**(rec.state.get("runner") or {}), "partition": info.partition}
        if info.pending:
            reason = f"waiting for Slurm ({info.reason})" if info.reason else "waiting for Slurm"
            return _with(rec, status="queued", reason=reason, runner=where)
        if info.running:
            return _with(
                rec,
                status="starting",
                reason="the job started",
                runner={**where, "node": info.node},
            )
        if info.ended:
            return _ended(rec, info)
        return rec
    if heartbeat.fresh(beat):
        return rec
    info = _ask(jid)
    if info is None or info.pending or info.running:
        return rec  # a late heartbeat (a busy or full filesystem) is not a death
    if info.ended:
        return _ended(rec, info)
    # The scheduler has forgotten the job and the heartbeat stopped long ago.
    age = time.time() - float(beat.get("time") or 0)
    if age > UNREACHABLE_GRACE:
        return _with(
            rec,
            status="failed",
            reason=f"no heartbeat for {age:.0f}s and Slurm no longer knows job {jid}",
            ended_at=float(beat.get("time") or time.time()),
        )
    return rec


def _ended(rec: ProcessRecord, info: slurm.JobInfo) -> ProcessRecord:
    return _with(
        rec,
        status="failed",
        reason=slurm.ended_reason(info),
        stop_reason="scheduler",
        ended_at=rec.state.get("ended_at") or time.time(),
    )


def _ask(jid: str, *, fresh: bool = False) -> slurm.JobInfo | None:
    try:
        return slurm.job(jid, fresh=fresh)
    except slurm.SlurmError:
        return None


def repair(rec: ProcessRecord) -> ProcessRecord:
    """Record what :func:`observe` derived when it is final (write paths only)."""
    seen = observe(rec)
    if seen.status in FINAL_STATUSES and rec.status not in FINAL_STATUSES:
        atomic_write_json(rec.directory / "state.json", {**seen.state, "updated_at": time.time()})
    return seen


def stop(rec: ProcessRecord, timeout: float) -> None:
    """Stop a Slurm process; returns once its record is final."""
    jid = job_id(rec)
    seen = observe(rec)
    if seen.status in FINAL_STATUSES:
        repair(rec)
        return
    if jid is None:
        _record_stopped(rec, "stopped on request (it was never submitted)")
        return
    if rec.status == "queued":
        # The supervisor has not written yet: if Slurm still holds the job, cancel it
        # (asked afresh, not from the cache: it may have started a moment ago).
        info = _ask(jid, fresh=True)
        if info is not None and info.pending:
            slurm.cancel(jid)
            _record_stopped(rec, f"stopped on request (Slurm job {jid} cancelled while queued)")
            return
    # Running, or about to: the supervisor reads the request at its first loop and then
    # at every heartbeat.
    write_stop_request(rec.directory, timeout, rec.state.get("run_id"))
    if _wait_final(rec, timeout + STOP_GRACE):
        return
    # The supervisor did not answer: ask Slurm, politely first.
    try:
        slurm.cancel(jid, signal="TERM")
        if _wait_final(rec, 5.0):
            return
        slurm.cancel(jid)
    except slurm.SlurmError:
        pass  # already gone: the record below says what happened
    _wait_job_end(jid, 15.0)
    if not _wait_final(rec, 1.0):
        _record_stopped(rec, f"stopped on request (Slurm job {jid} cancelled)")


def _wait_final(rec: ProcessRecord, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    delay = 0.05
    while True:
        try:
            status = read_json(rec.directory / "state.json").get("status")
        except RegistryFileError:  # damaged or missing: keep waiting, then decide
            status = None
        if status in FINAL_STATUSES:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def _wait_job_end(jid: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        info = _ask(jid)
        if info is None or info.ended or info.state == "UNKNOWN":
            return
        time.sleep(0.25)


def _record_stopped(rec: ProcessRecord, reason: str) -> None:
    now = time.time()
    try:
        state = read_json(rec.directory / "state.json")
    except RegistryFileError:  # a damaged record is replaced by the final one
        state = dict(rec.state)
    atomic_write_json(
        rec.directory / "state.json",
        {
            **state,
            "status": "stopped",
            "reason": reason,
            "stop_reason": "requested",
            "ended_at": state.get("ended_at") or now,
            "updated_at": now,
            "next_restart_at": None,
        },
    )
