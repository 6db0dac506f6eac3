"""Health: probe specs, probe execution, self-reports and the ``health.json`` record.

A process is healthy when its probe says so (``http`` answers 2xx, ``tcp`` accepts,
``command`` exits 0) or when it keeps reporting on itself (``report``) with
:func:`report_health`. ``failures`` consecutive failed probes, or a self-report older
than ``stale_after``, make the process ``unhealthy``; the supervisor turns that into the
process status and back to ``running`` once healthy again.

``health.json``::

    {"schema": 1, "status": "healthy" | "unhealthy", "message": str, "details": {...},
     "checked_at": epoch, "source": "probe:http" | "probe:tcp" | "probe:command" | "report",
     "consecutive_failures": int, "reported_at": epoch (self-reports only)}

This module is imported by the supervisor only after the child runs, and by the manager
to validate specs; its network imports are lazy.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .registry import SCHEMA_VERSION, RegistryFileError, atomic_write_json, read_json

PROBE_TYPES = ("http", "tcp", "command", "report")
HEALTH_STATUSES = ("healthy", "unhealthy")
_COMMON = {"type": None, "interval": 10.0, "timeout": 5.0, "failures": 3, "grace": 0.0}
_SPECIFIC: dict[str, dict[str, Any]] = {
    "http": {"url": None},
    "tcp": {"port": None, "host": "127.0.0.1"},
    "command": {"cmd": None},
    "report": {"stale_after": 60.0},
}


class HealthSpecError(ValueError):
    """A health spec that cannot work; the message says which field and why."""


class NotManagedError(RuntimeError):
    """:func:`report_health` was called outside a process started by syft_pm."""


def _positive(spec: dict[str, Any], key: str) -> float:
    v = spec[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise HealthSpecError(f"health: {key!r} must be a positive number of seconds, not {v!r}")
    return float(v)


def validate_health(spec: Any) -> dict[str, Any] | None:
    """Return ``spec`` with defaults filled in, or raise HealthSpecError. None stays None."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise HealthSpecError(
            f"health must be a dict like {{'type': 'http', 'url': ...}}, not {spec!r}"
        )
    kind = spec.get("type")
    if kind not in PROBE_TYPES:
        raise HealthSpecError(
            f"health: 'type' must be one of {', '.join(PROBE_TYPES)}; got {kind!r}"
        )
    allowed = {**_COMMON, **_SPECIFIC[kind]}
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise HealthSpecError(
            f"health: unknown key(s) {unknown} for type {kind!r}; allowed: {sorted(allowed)}"
        )
    out: dict[str, Any] = {**allowed, **spec}
    for key in ("interval", "timeout"):
        out[key] = _positive(out, key)
    grace = out["grace"]
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        raise HealthSpecError(f"health: 'grace' must be >= 0 seconds, not {grace!r}")
    out["grace"] = float(grace)
    f = out["failures"]
    if isinstance(f, bool) or not isinstance(f, int) or f < 1:
        raise HealthSpecError(f"health: 'failures' must be an integer >= 1, not {f!r}")
    if kind == "http":
        url = out["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise HealthSpecError(f"health: 'url' must be an http:// or https:// URL, not {url!r}")
    elif kind == "tcp":
        port = out["port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise HealthSpecError(f"health: 'port' must be an integer 1-65535, not {port!r}")
        if not isinstance(out["host"], str) or not out["host"]:
            raise HealthSpecError(f"health: 'host' must be a host name, not {out['host']!r}")
    elif kind == "command":
        cmd = out["cmd"]
        if not isinstance(cmd, list) or not cmd or not all(isinstance(c, str) for c in cmd):
            raise HealthSpecError(f"health: 'cmd' must be a non-empty list of strings, not {cmd!r}")
    else:
        out["stale_after"] = _positive(out, "stale_after")
    return out


# -- probes (run in the supervisor's health thread) -------------------------------------------

#: ``spawn(argv) -> exit status or None on timeout``; the supervisor provides it so that
#: its own reaper, not this thread, collects the probe's exit status.
CommandRunner = Callable[[list[str], float], "int | None"]


def probe(spec: dict[str, Any], run_command: CommandRunner | None = None) -> tuple[bool, str]:
    """Run one probe: ``(ok, message)``. Never raises for a failing target."""
    kind = spec["type"]
    timeout = float(spec["timeout"])
    if kind == "http":
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(spec["url"], timeout=timeout) as resp:  # noqa: S310 - user-configured URL
                code = int(resp.status)
        except urllib.error.HTTPError as e:
            return False, f"HTTP {e.code} from {spec['url']}"
        except (OSError, ValueError) as e:
            return False, f"{spec['url']}: {getattr(e, 'reason', e)}"
        if 200 <= code < 300:
            return True, f"HTTP {code}"
        return False, f"HTTP {code} from {spec['url']}"
    if kind == "tcp":
        import socket

        try:
            socket.create_connection((spec["host"], spec["port"]), timeout=timeout).close()
        except OSError as e:
            return (
                False,
                f"{spec['host']}:{spec['port']} refused or unreachable ({e.strerror or e})",
            )
        return True, f"{spec['host']}:{spec['port']} accepts connections"
    if kind == "command":
        if run_command is None:
            raise RuntimeError("command probes need a runner")
        try:
            rc = run_command(list(spec["cmd"]), timeout)
        except OSError as e:
            return False, f"cannot run {spec['cmd'][0]!r}: {e.strerror or e}"
        if rc is None:
            return False, f"command timed out after {timeout:g}s"
        if rc == 0:
            return True, "command exited 0"
        return False, f"command exited {rc}" if rc > 0 else f"command killed by signal {-rc}"
    raise ValueError(f"not a probe type: {kind!r}")


def health_record(
    status: str,
    message: str,
    *,
    source: str,
    failures: int,
    details: dict[str, Any] | None = None,
    now: float | None = None,
    reported_at: float | None = None,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "status": status,
        "message": message,
        "details": details or {},
        "checked_at": time.time() if now is None else now,
        "source": source,
        "consecutive_failures": failures,
    }
    if reported_at is not None:
        rec["reported_at"] = reported_at
    return rec


def read_health(process_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The health record, or None if there is none (a damaged one is None too)."""
    try:
        return read_json(Path(process_dir) / "health.json")
    except RegistryFileError:
        return None


def report_health(
    status: str | bool, details: dict[str, Any] | None = None, message: str = ""
) -> dict[str, Any]:
    """Report this process's own health (call it regularly from the managed process).

    ``status`` is ``"healthy"``/``"unhealthy"`` (or a bool). ``details`` must be
    JSON-serialisable. With a ``{"type": "report", "stale_after": s}`` health spec, a
    report older than ``s`` seconds makes the process ``unhealthy``.
    """
    if isinstance(status, bool):
        status = "healthy" if status else "unhealthy"
    if status not in HEALTH_STATUSES:
        raise ValueError(f"status must be 'healthy' or 'unhealthy' (or a bool), not {status!r}")
    if details is not None and not isinstance(details, dict):
        raise TypeError(f"details must be a dict, not {type(details).__name__}")
    try:
        json.dumps(details)
    except (TypeError, ValueError) as e:
        raise TypeError(f"details must be JSON-serialisable: {e}") from None
    pdir = os.environ.get("SYFT_PM_PROCESS_DIR")
    if not pdir:
        raise NotManagedError(
            "report_health() only works inside a process started by syft_pm "
            "(SYFT_PM_PROCESS_DIR is not set in this environment)"
        )
    if not Path(pdir).is_dir():
        raise NotManagedError(f"SYFT_PM_PROCESS_DIR={pdir} does not exist (was the entry removed?)")
    prev = read_health(pdir) or {}
    failures = 0
    if status == "unhealthy":
        failures = (
            int(prev.get("consecutive_failures") or 0) + 1
            if prev.get("status") == "unhealthy"
            else 1
        )
    now = time.time()
    rec = health_record(
        status,
        message,
        source="report",
        failures=failures,
        details=details,
        now=now,
        reported_at=now,
    )
    atomic_write_json(Path(pdir) / "health.json", rec)
    return rec


class HealthMonitor:
    """The supervisor's health thread: probes on a schedule, keeps the verdict.

    The main thread tells it when a child starts or stops (so a new run starts with a
    clean slate and its grace period) and reads :meth:`verdict` when woken through
    ``on_change``; only the main thread writes ``state.json``.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        process_dir: str,
        on_change: Callable[[], None],
        run_command: CommandRunner,
    ) -> None:
        import threading

        self.spec = spec
        self.path = Path(process_dir) / "health.json"
        self.dir = process_dir
        self._on_change = on_change
        self._run_command = run_command
        self._lock = threading.Lock()
        self._event = threading.Event()
        self._closed = False
        self._started: float | None = None
        self._generation = 0
        self._status: str | None = None
        self._message = ""
        self._failures = 0
        self._thread = threading.Thread(target=self._loop, name="syft-pm-health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def child_started(self, at: float) -> None:
        with self._lock:
            self._started = at
            self._generation += 1
            self._status, self._message, self._failures = None, "", 0
        self._event.set()

    def child_stopped(self) -> None:
        with self._lock:
            self._started = None
            self._generation += 1
            self._status, self._message, self._failures = None, "", 0
        self._event.set()

    def close(self) -> None:
        """Stop checking. Does not wait for a probe in flight (stop() must not wait on
        an HTTP timeout): its result is discarded, the thread is a daemon."""
        with self._lock:
            self._closed = True
            self._generation += 1
        self._event.set()

    def verdict(self) -> tuple[str | None, str]:
        with self._lock:
            return self._status, self._message

    def _loop(self) -> None:
        seen = -1
        next_at = float("inf")
        while True:
            with self._lock:
                if self._closed:
                    return
                started, gen = self._started, self._generation
            if gen != seen:
                seen = gen
                next_at = float("inf") if started is None else started + float(self.spec["grace"])
            now = time.time()
            if started is None or now < next_at:
                self._event.wait(None if started is None else next_at - now)
                self._event.clear()
                continue
            try:
                self._check(started, gen)
            except Exception as e:  # noqa: BLE001 - a probe bug must not kill supervision
                # Nor a full disk: writing health.json failed, and so may this message.
                with contextlib.suppress(OSError, ValueError):
                    print(f"health check error: {e!r}", flush=True)
            next_at = time.time() + float(self.spec["interval"])

    def _set(
        self,
        gen: int,
        status: str | None,
        message: str,
        failures: int,
        record: Callable[[], object] | None = None,
    ) -> bool:
        """Take a verdict of generation ``gen`` (False if a restart made it stale).

        ``record`` writes health.json first: whoever sees the status the supervisor
        then writes (``unhealthy``) finds the record that explains it.
        """
        with self._lock:
            if gen != self._generation:
                return False
            changed = status != self._status
            self._status, self._message, self._failures = status, message, failures
        try:
            if record is not None:
                record()
        finally:
            if changed:
                self._on_change()
        return True

    def _check(self, started: float, gen: int) -> None:
        kind = self.spec["type"]
        if kind == "report":
            self._check_report(started, gen)
            return
        ok, message = probe(self.spec, self._run_command)
        with self._lock:
            failures = 0 if ok else self._failures + 1
            prev = self._status
        if ok:
            status: str | None = "healthy"
        elif failures >= int(self.spec["failures"]):
            status = "unhealthy"
        else:
            status = prev  # below the threshold: keep the last verdict
            message = f"{message} ({failures} of {self.spec['failures']} failures)"
        verdict = status

        def record() -> None:
            if verdict is not None:
                atomic_write_json(
                    self.path,
                    health_record(verdict, message, source=f"probe:{kind}", failures=failures),
                )

        self._set(gen, status, message, failures, record)

    def _check_report(self, started: float, gen: int) -> None:
        stale_after = float(self.spec["stale_after"])
        rec = read_health(self.dir)
        reported_at = None
        if rec is not None and rec.get("source") == "report":
            r = rec.get("reported_at")
            if isinstance(r, (int, float)) and r >= started - 1.0:
                reported_at = float(r)
        now = time.time()
        age = now - (reported_at if reported_at is not None else started)
        if age <= stale_after:
            if reported_at is None or rec is None:
                self._set(gen, None, "", 0)
                return
            status = "unhealthy" if rec.get("status") == "unhealthy" else "healthy"
            self._set(
                gen,
                status,
                str(rec.get("message") or ""),
                int(rec.get("consecutive_failures") or 0),
            )
            return
        if reported_at is None:
            message = f"no health report received within {stale_after:g}s"
        else:
            message = f"last health report is {age:.0f}s old (stale after {stale_after:g}s)"
        failures = int((rec or {}).get("consecutive_failures") or 0) + 1

        def record() -> None:
            latest = read_health(self.dir)
            if latest is not None and latest.get("reported_at") != (rec or {}).get("reported_at"):
                return  # a fresh report landed meanwhile; don't overwrite it
            details = (rec or {}).get("details")
            atomic_write_json(
                self.path,
                health_record(
                    "unhealthy",
                    message,
                    source="report",
                    failures=failures,
                    details=details if isinstance(details, dict) else None,
                    reported_at=reported_at,
                ),
            )

        self._set(gen, "unhealthy", message, failures, record)
