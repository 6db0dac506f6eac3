"""Readiness: when a started process can be used ("start a server in one cell, use it in
the next").

``run(..., ready={"port": 8000} | {"http": url} | {"log": regex} | {"health": True})``.
The supervisor probes (:class:`ReadyProbe`, in its watchdog thread) and records
``ready_at`` in state.json; until then the status is ``starting`` with the reason
"waiting until ready (...)", so every surface (cell output, sidebar, CLI, REST) shows it
without a probe of its own. :func:`wait_ready` is the caller's side: it reads the
registry until ``ready_at`` is set, and raises :class:`ProcessNotReadyError` with the last
log lines if the process ends or the timeout passes first.

The probing part imports only the standard library (the supervisor imports this module).
"""

from __future__ import annotations

import os
import time

# The supervisor's watchdog imports this module: no typing, no re unless a log probe
# needs it (``TYPE_CHECKING = False`` is the spelling mypy understands; see supervisor.py).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .handle import ProcessHandle

READY_KINDS = ("port", "http", "log", "health")
DEFAULT_READY_TIMEOUT = 60.0
_STAMP = 24  # "2024-05-01T12:00:00.123Z" then " " or "+" (see logwriter)


class ProcessNotReadyError(RuntimeError):
    """The process ended, or the timeout passed, before it was ready."""


def validate_ready(spec: Any, health: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ready spec with defaults, or ValueError saying what is wrong. None stays None."""
    if spec is None:
        return None
    example = "{'port': 8000}, {'http': 'http://127.0.0.1:8000/'}, {'log': 'regex'}"
    if not isinstance(spec, dict):
        raise ValueError(f"ready must be a dict like {example} or {{'health': True}}, not {spec!r}")
    kinds = [k for k in READY_KINDS if k in spec]
    extra = sorted(set(spec) - set(READY_KINDS) - {"host"})
    if len(kinds) != 1 or extra or ("host" in spec and kinds != ["port"]):
        raise ValueError(
            f"ready must have exactly one of {', '.join(READY_KINDS)} (and 'host' with "
            f"'port'), like {example}; got {spec!r}"
        )
    kind = kinds[0]
    value = spec[kind]
    if kind == "port":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
            raise ValueError(f"ready: 'port' must be an integer 1-65535, not {value!r}")
        host = spec.get("host", "127.0.0.1")
        if not isinstance(host, str) or not host:
            raise ValueError(f"ready: 'host' must be a host name, not {host!r}")
        return {"port": value, "host": host}
    if kind == "http":
        if not isinstance(value, str) or not value.startswith(("http://", "https://")):
            raise ValueError(f"ready: 'http' must be an http:// or https:// URL, not {value!r}")
        return {"http": value}
    if kind == "log":
        import re

        if not isinstance(value, str) or not value:
            raise ValueError(f"ready: 'log' must be a regular expression, not {value!r}")
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"ready: 'log' is not a valid regular expression: {e}") from None
        return {"log": value}
    if value is not True:
        raise ValueError(f"ready: 'health' must be True, not {value!r}")
    if health is None:
        raise ValueError("ready={'health': True} needs a health check (health={...})")
    return {"health": True}


def validate_timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"ready_timeout must be a number of seconds > 0, not {value!r}")
    return float(value)


def describe(spec: dict[str, Any]) -> str:
    """``port 8000``, ``http://... answers``, ``a log line matches 'x'``, ``healthy``."""
    if "port" in spec:
        return f"port {spec['port']}" + (
            f" on {spec['host']}" if spec.get("host") not in (None, "127.0.0.1") else ""
        )
    if "http" in spec:
        return f"{spec['http']} answers"
    if "log" in spec:
        return f"a log line matches {spec['log']!r}"
    return "the health check passes"


# -- probing (the supervisor's watchdog thread) ------------------------------------------------


class ReadyProbe:
    """One run's readiness check; ``check()`` is cheap enough to call a few times a second.

    A log probe reads only what the run wrote after it started (offsets taken at the
    start), from both streams, and carries a partial last line over to the next check.
    """

    def __init__(
        self,
        spec: dict[str, Any],
        process_dir: str,
        health_verdict: Callable[[], str | None] | None = None,
    ) -> None:
        self.spec = spec
        self.dir = process_dir
        self.health_verdict = health_verdict
        self._pattern = None
        if "log" in spec:
            import re

            self._pattern = re.compile(spec["log"])
        self._offsets: dict[str, int] = {}
        self._partial: dict[str, bytes] = {}
        if self._pattern is not None:
            for stream in ("stdout", "stderr"):
                try:
                    self._offsets[stream] = os.stat(f"{process_dir}/{stream}.log").st_size  # noqa: PTH116
                except OSError:
                    self._offsets[stream] = 0
                self._partial[stream] = b""

    def check(self) -> tuple[bool, str]:
        if "port" in self.spec:
            return _tcp(self.spec["host"], int(self.spec["port"]))
        if "http" in self.spec:
            return _http(self.spec["http"])
        if self._pattern is not None:
            return self._check_log()
        verdict = self.health_verdict() if self.health_verdict is not None else None
        return verdict == "healthy", f"health check: {verdict or 'no result yet'}"

    def _check_log(self) -> tuple[bool, str]:
        assert self._pattern is not None
        for stream in ("stdout", "stderr"):
            path = f"{self.dir}/{stream}.log"
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                size = os.fstat(fd).st_size
                off = self._offsets[stream]
                if size < off:  # rotated or truncated: the new file is all new output
                    off, self._partial[stream] = 0, b""
                data = os.pread(fd, min(size - off, 1 << 20), off) if size > off else b""
            finally:
                os.close(fd)
            self._offsets[stream] = off + len(data)
            lines = (self._partial[stream] + data).split(b"\n")
            self._partial[stream] = lines.pop()[-65536:]
            for raw in lines:
                text = raw.decode(errors="replace")
                if len(text) > _STAMP and text[_STAMP] in " +":
                    text = text[_STAMP + 1 :]
                if self._pattern.search(text):
                    return True, f"{stream} line matched: {text[:200]}"
        return False, f"no log line matches {self._pattern.pattern!r} yet"


def _tcp(host: str, port: int) -> tuple[bool, str]:
    import socket

    try:
        socket.create_connection((host, port), timeout=1.0).close()
    except OSError as e:
        return False, f"{host}:{port} does not accept connections yet ({e.strerror or e})"
    return True, f"{host}:{port} accepts connections"


def _http(url: str) -> tuple[bool, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2.0) as resp:  # noqa: S310 - the user's URL
            code = int(resp.status)
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code} from {url}"
    except (OSError, ValueError) as e:
        return False, f"{url}: {getattr(e, 'reason', e)}"
    return 200 <= code < 400, f"HTTP {code} from {url}"


# -- waiting (the caller's side) ----------------------------------------------------------------


def _log_excerpt(handle: ProcessHandle, n: int = 10) -> str:
    parts = []
    for which in ("stdout", "stderr"):
        try:
            lines = handle.stdout.tail(n) if which == "stdout" else handle.stderr.tail(n)
        except Exception:  # noqa: BLE001, S112 - the error message must not fail on its excerpt
            continue
        if lines:
            parts.append(f"last {which} lines:\n" + "\n".join(f"  {ln}" for ln in lines))
    return ("\n" + "\n".join(parts)) if parts else " (no output)"


def _first_port(handle: ProcessHandle) -> int | None:
    from . import metrics

    st = handle.record.state
    m = metrics.tree_metrics(st.get("pid"), st.get("create_time"))
    ports = (m or {}).get("ports") or []
    return int(ports[0]) if ports else None


def wait_ready(handle: ProcessHandle, timeout: float | None = None) -> ProcessHandle:
    """Block until ``handle``'s current run is ready; see :meth:`ProcessHandle.wait_ready`."""
    from .status import ACTIVE_STATUSES

    rec = handle.refresh().record
    spec = rec.config.get("ready")
    if timeout is None:
        raw = rec.config.get("ready_timeout")
        timeout = float(raw) if isinstance(raw, (int, float)) else DEFAULT_READY_TIMEOUT
    if spec is None and rec.config.get("health"):
        what = "its health check to pass"
    elif spec is None:
        what = "it to listen on a port"
    else:
        what = describe(spec)
        what = f"{what} (ready spec)"
    deadline = time.monotonic() + timeout
    run_id = rec.state.get("run_id")
    delay = 0.01
    while True:
        rec = handle.refresh().record
        st = rec.state
        if rec.status not in ACTIVE_STATUSES or rec.error:
            why = rec.error or st.get("reason") or rec.status
            raise ProcessNotReadyError(
                f"process {handle.name!r} is {rec.status} ({why}) and was never ready; "
                f"waited for {what}" + _log_excerpt(handle)
            )
        if st.get("run_id") != run_id:
            run_id = st.get("run_id")  # restarted by someone: wait for the new run
        ended = st.get("ended_at")
        if rec.status == "starting" and isinstance(ended, (int, float)) and st.get("started_at"):
            raise ProcessNotReadyError(
                f"process {handle.name!r} exited before it was ready ({st.get('reason')}); "
                f"waited for {what}" + _log_excerpt(handle)
            )
        if spec is not None:
            if st.get("ready_at") is not None and rec.status in ("running", "unhealthy"):
                return handle
        elif rec.config.get("health"):
            if (rec.health or {}).get("status") == "healthy" and rec.status == "running":
                return handle
        elif rec.status in ("running", "unhealthy") and _first_port(handle) is not None:
            return handle
        left = deadline - time.monotonic()
        if left <= 0:
            raise ProcessNotReadyError(
                f"process {handle.name!r} is not ready after {timeout:g}s "
                f"({rec.status}: {st.get('reason') or 'no reason recorded'}); waited for {what}"
                + _log_excerpt(handle)
            )
        time.sleep(min(delay, left))
        delay = min(delay * 1.5, 0.1)
