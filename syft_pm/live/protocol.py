"""Wire protocol v1 between the Python side (kernel comm, server websocket) and views.

The Python side is the source of truth. A subscriber gets one ``snapshot``, then
``delta`` messages numbered by ``seq`` that carry only what changed. Anything that
breaks the chain (a gap in ``seq``, a reconnect, a reopened comm) is repaired by a fresh
snapshot, never by replaying history, so neither side keeps a backlog.

``docs/protocol.md`` is the human description and ``labextension/src/live/protocol.ts``
the TypeScript mirror; ``tests/test_protocol_sync.py`` fails when the three drift apart. The
constants below are what that test reads, so keep them the single list of names.
"""

from __future__ import annotations

import json
import shlex
import threading
from typing import TYPE_CHECKING, Any

from .. import runners
from ..logs import WireLine as WireLine
from ..names import InvalidNameError, validate_name

# The status vocabulary is defined once in the core (the registry needs it too) and is
# part of the wire protocol: re-exported here so the protocol module names everything
# a view may receive.
from ..status import ACTIVE_STATUSES as ACTIVE_STATUSES
from ..status import ERROR_STATUS as ERROR_STATUS
from ..status import FINAL_STATUSES as FINAL_STATUSES
from ..status import STATUSES as STATUSES
from .gil import Courtesy

if TYPE_CHECKING:
    from ..registry import ProcessRecord

PROTOCOL_VERSION = 1

#: Server/kernel -> view.
SERVER_MESSAGES = ("snapshot", "delta", "heartbeat", "action_result", "error")
#: View -> server/kernel.
CLIENT_MESSAGES = ("subscribe", "resync", "poll", "action")
#: Actions a view may ask for.
ACTIONS = ("stop", "restart", "start", "remove")

#: Fields of a process's state on the wire (see ``process_state``). Metrics and health
#: are nested objects that are replaced whole when any part of them changes.
STATE_FIELDS = (
    "name",
    "status",
    "reason",
    "pid",
    "exit_code",
    "signal",
    "restarts",
    "started_at",
    "ended_at",
    "stop_reason",
    "next_restart_at",
    "command",
    "cwd",
    "restart_policy",
    "ttl",
    "labels",
    "origin",
    "health",
    "metrics",
    "error",
    "runner",
    "ready_at",
    "restart_reason",
    "bind",
    "max_memory",
)

LOG_STREAMS = ("stdout", "stderr")

JSON = dict[str, Any]


def process_state(rec: ProcessRecord, metrics: JSON | None = None) -> JSON:
    """Project a registry record onto the wire fields (every key always present)."""
    cfg, st = rec.config, rec.state
    cmd = cfg.get("cmd")
    if isinstance(cmd, list):
        command = shlex.join(str(c) for c in cmd)
    elif isinstance(cmd, str):
        command = cmd
    else:
        command = None
    raw_prov = cfg.get("provenance")
    prov: JSON = raw_prov if isinstance(raw_prov, dict) else {}
    origin = {
        k: prov.get(k) for k in ("kernel_id", "notebook", "user", "host", "source") if prov.get(k)
    }
    return {
        "name": rec.name,
        "status": rec.status,
        "reason": st.get("reason"),
        "pid": st.get("pid"),
        "exit_code": st.get("exit_code"),
        "signal": st.get("signal"),
        "restarts": st.get("restarts", 0),
        "started_at": st.get("started_at"),
        "ended_at": st.get("ended_at"),
        "stop_reason": st.get("stop_reason"),
        "next_restart_at": st.get("next_restart_at"),
        "command": command,
        "cwd": cfg.get("cwd"),
        "restart_policy": cfg.get("restart"),
        "ttl": cfg.get("ttl"),
        "labels": cfg.get("labels") or {},
        "origin": origin,
        "health": _health(rec.health),
        "metrics": metrics,
        "error": rec.error,
        "runner": _runner(cfg, st),
        "ready_at": _number(st.get("ready_at")),
        "restart_reason": _text(st.get("restart_reason")),
        "bind": _bind(cfg, st),
        "max_memory": _number(cfg.get("max_memory")),
    }


def _number(v: Any) -> float | int | None:
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _text(v: Any) -> str | None:
    return v[:HEALTH_MESSAGE_MAX] if isinstance(v, str) else None


def _bind(cfg: JSON, st: JSON) -> JSON | None:
    """The kernel a ``bind="kernel"`` process follows: its id, its current pid (a restarted
    kernel's, once found) and since when it is gone (``lost_at``), else null."""
    bind = cfg.get("bind")
    if not isinstance(bind, dict):
        return None
    raw = st.get("bound_to")
    now: JSON = raw if isinstance(raw, dict) else {}
    pid = now.get("pid", bind.get("pid")) if now else bind.get("pid")
    return {
        "to": _text(bind.get("to")) or "kernel",
        "kernel_id": _text(bind.get("kernel_id")),
        "pid": pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        "lost_at": _number(now.get("lost_at")),
        "grace": _number(bind.get("grace")),
    }


def _runner(cfg: JSON, st: JSON) -> JSON | None:
    """Where it runs, for a process not run by this host's supervisor (null: local)."""
    return runners.where(cfg, st) if runners.is_remote(cfg) else None


#: Longest health message sent to views (a process writes its own health report).
HEALTH_MESSAGE_MAX = 500


def _health(raw: JSON | None) -> JSON | None:
    """The health record as views may rely on it. ``health.json`` can be written by the
    managed process itself (``report_health``), so every field is checked: a wrong type
    becomes null and the message is capped, instead of junk reaching every view."""
    if not raw:
        return None
    status = raw.get("status")
    message = raw.get("message")
    checked_at = raw.get("checked_at")
    failures = raw.get("consecutive_failures")
    source = raw.get("source")
    return {
        "status": status if status in ("healthy", "unhealthy") else None,
        "message": message[:HEALTH_MESSAGE_MAX] if isinstance(message, str) else None,
        "checked_at": checked_at
        if isinstance(checked_at, (int, float)) and not isinstance(checked_at, bool)
        else None,
        "source": source[:40] if isinstance(source, str) else None,
        "consecutive_failures": failures
        if isinstance(failures, int) and not isinstance(failures, bool)
        else None,
    }


def diff_state(old: JSON, new: JSON) -> JSON:
    """Fields of ``new`` that differ from ``old`` (nested objects compared whole)."""
    return {k: v for k, v in new.items() if old.get(k) != v}


def log_lines_payload(lines: list[WireLine]) -> list[WireLine]:
    """Lines travel as ``[t, text]`` pairs (``[t, text, 1]`` for the piece of a line the
    writer cut, which continues the line before): compact, a TS tuple on the other side.

    Kept as Python tuples of a float and a str, which the garbage collector stops tracking
    after one pass: snapshot tails of a thousand processes stay cached without making
    every full collection (which stops the server's event loop) scan them.
    """
    return lines


def snapshot(
    *,
    seq: int,
    registry_id: str,
    time: float,
    processes: dict[str, JSON],
    logs: dict[str, dict[str, JSON]],
    scope: list[str] | None,
) -> JSON:
    return {
        "type": "snapshot",
        "protocol": PROTOCOL_VERSION,
        "seq": seq,
        "registry_id": registry_id,
        "time": time,
        "scope": scope,
        "processes": processes,
        "logs": logs,
    }


def delta(
    *,
    seq: int,
    time: float,
    added: dict[str, JSON] | None = None,
    changed: dict[str, JSON] | None = None,
    removed: list[str] | None = None,
    logs: dict[str, dict[str, JSON]] | None = None,
) -> JSON:
    return {
        "type": "delta",
        "seq": seq,
        "time": time,
        "added": added or {},
        "changed": changed or {},
        "removed": removed or [],
        "logs": logs or {},
    }


def heartbeat(*, seq: int, time: float) -> JSON:
    """``seq`` is the last one sent: a heartbeat lets a view detect a lost delta."""
    return {"type": "heartbeat", "seq": seq, "time": time}


def action_result(
    request_id: Any, ok: bool, *, error: str | None = None, result: Any = None
) -> JSON:
    return {"type": "action_result", "id": request_id, "ok": ok, "error": error, "result": result}


def error(message: str, code: str = "bad_request") -> JSON:
    return {"type": "error", "code": code, "message": message}


class ProtocolError(ValueError):
    """A client message that does not follow protocol v1."""


def parse_client_message(msg: object) -> JSON:
    """Validate a view's message; raise ProtocolError with a reason a developer can act on."""
    if not isinstance(msg, dict):
        raise ProtocolError("message must be a JSON object")
    kind = msg.get("type")
    if kind not in CLIENT_MESSAGES:
        raise ProtocolError(f"unknown message type {kind!r}; expected one of {CLIENT_MESSAGES}")
    if kind == "subscribe":
        names = msg.get("names")
        if names is not None and (
            not isinstance(names, list) or not all(isinstance(n, str) for n in names)
        ):
            raise ProtocolError("subscribe.names must be a list of process names or null")
        lines = msg.get("log_lines")
        if lines is not None and (not isinstance(lines, int) or not 0 <= lines <= 10_000):
            raise ProtocolError("subscribe.log_lines must be an integer from 0 to 10000")
    if kind == "action":
        if msg.get("action") not in ACTIONS:
            raise ProtocolError(f"action must be one of {ACTIONS}")
        if not isinstance(msg.get("name"), str):
            raise ProtocolError("action.name must be a process name")
        try:
            validate_name(msg["name"])
        except InvalidNameError as e:
            raise ProtocolError(str(e)) from None
    return msg


#: Keys whose values are maps with one entry per process: encoded entry by entry.
_PER_PROCESS = ("processes", "logs", "added", "changed")
_dumps = json.JSONEncoder(separators=(",", ":")).encode


class Shared(dict[str, Any]):
    """A per-process map that several messages share and nobody mutates: encoded once.

    Fifty clients subscribing at once to a thousand processes get the same processes and
    log tails; encoding those 10 MB fifty times, on threads that share the GIL with the
    Jupyter server's event loop, was most of the loop's lag. The watcher hands every
    snapshot of an unchanged fleet the same ``Shared`` maps, and :func:`encode` keeps
    their JSON on them. It is still a plain dict to everything else (the kernel's comm
    serialises it as one).
    """

    __slots__ = ("_encoded", "_lock")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._encoded: bytes | None = None
        self._lock = threading.Lock()

    def encoded(self) -> bytes:
        with self._lock:  # one thread encodes; the others wait and reuse its bytes
            if self._encoded is None:
                self._encoded = _encode_map(self)
            return self._encoded


def _encode_map(value: dict[str, Any]) -> bytes:
    out: list[bytes] = [b"{"]
    courtesy = Courtesy()
    for j, (k, v) in enumerate(value.items()):
        if j:
            out.append(b",")
        out.append(f"{_dumps(k)}:{_dumps(v)}".encode())
        courtesy.pause()
    out.append(b"}")
    return b"".join(out)


def encode(msg: JSON) -> bytes:
    """``msg`` as compact UTF-8 JSON (the pieces of :func:`encode_pieces`, joined)."""
    return b"".join(encode_pieces(msg))


def encode_pieces(msg: JSON) -> list[bytes]:
    """``msg`` as compact UTF-8 JSON, in pieces that concatenate to the message.

    One ``json.dumps`` of a 10 MB snapshot holds the GIL for a quarter of a second, and
    the Jupyter server's event loop waits for it. Encoding each process's entry on its
    own keeps every hold short, so the loop gets the GIL back within its switch interval;
    a :class:`Shared` map is encoded once for every message that carries it, and stays
    one piece, so a transport that can write pieces (the websocket) never copies it.
    """
    out: list[bytes] = []
    head: list[bytes] = [b"{"]
    for i, (key, value) in enumerate(msg.items()):
        if i:
            head.append(b",")
        head.append(_dumps(key).encode())
        head.append(b":")
        if isinstance(value, Shared):
            out.append(b"".join(head))
            out.append(value.encoded())
            head = []
        elif key in _PER_PROCESS and isinstance(value, dict) and len(value) > 1:
            head.append(_encode_map(value))
        else:
            head.append(_dumps(value).encode())
    head.append(b"}")
    out.append(b"".join(head))
    return out
