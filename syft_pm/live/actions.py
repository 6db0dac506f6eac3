"""What views may ask of the core, shared by the kernel comm and the server's REST routes.

One place maps core exceptions to the three kinds of failure a client must tell apart
(bad request, unknown process, conflict), so the comm and every route answer alike.
Pure Python: the server wraps these in handlers, the kernel in a worker thread.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..logs import LogStream
from ..manager import (
    ProcessExistsError,
    ProcessManager,
    ProcessNotFoundError,
    ProcessRunningError,
    ProcessStartError,
)
from ..names import InvalidNameError, validate_name
from ..registry import Registry, RegistryError
from ..spec import SpecError
from ..status import ACTIVE_STATUSES
from .protocol import ACTIONS, LOG_STREAMS

if TYPE_CHECKING:
    from .watcher import Watcher

JSON = dict[str, Any]
#: Bytes one search request may read (newest first) before it answers with what it found
#: and ``complete: false``: a search over gigabytes of rotated logs must not occupy a
#: server thread for minutes.
SEARCH_BYTES = 256 << 20
F = TypeVar("F", bound=Callable[..., Any])


class ActionError(Exception):
    http_status = 400


class NotFound(ActionError):
    http_status = 404


class Conflict(ActionError):
    http_status = 409


def _mapped(fn: F) -> F:
    @functools.wraps(fn)
    def inner(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ActionError:
            raise
        except (InvalidNameError, SpecError, ValueError) as e:
            raise ActionError(str(e)) from None
        except ProcessNotFoundError as e:
            raise NotFound(str(e)) from None
        except (ProcessRunningError, ProcessExistsError, ProcessStartError) as e:
            raise Conflict(str(e)) from None

    return inner  # type: ignore[return-value]


def _require(registry: Registry, name: str) -> None:
    if not registry.exists(validate_name(name)):
        raise NotFound(f"no process named {name!r} in {registry.home}")


@_mapped
def perform(registry: Registry, action: str, name: str, args: JSON) -> JSON:
    """Carry out ``action`` on ``name``; returns ``{"name", "status"}`` afterwards."""
    if action not in ACTIONS:
        raise ActionError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    _require(registry, name)
    manager = ProcessManager(registry.home)
    timeout = args.get("timeout", 5.0)
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not 0 < timeout <= 600:
        raise ActionError("timeout must be a number of seconds between 0 and 600")
    if action == "remove":
        manager.remove(name, force=bool(args.get("force", False)))
        return {"name": name, "status": "removed"}
    handle = manager.get(name)
    if action == "stop":
        handle.stop(timeout=float(timeout))
    elif action == "restart" or (action == "start" and handle.status not in ACTIVE_STATUSES):
        handle.restart(timeout=float(timeout))
    return {"name": name, "status": handle.refresh().status}


@_mapped
def info(registry: Registry, name: str) -> JSON:
    _require(registry, name)
    result: JSON = ProcessManager(registry.home).get(name).info()
    return result


def registry_id(registry: Registry) -> str | None:
    """The registry's id, or None when its metadata cannot be read: a damaged
    ``registry.json`` must not turn every route and every websocket into a failure."""
    try:
        return registry.id
    except RegistryError:
        return None


def list_states(watcher: Watcher, filters: JSON) -> list[JSON]:
    """Current wire states (what the websocket would send), filtered like the sidebar."""
    watcher.scan()
    out = []
    statuses = set(filters.get("status") or [])
    labels = [tuple(s.split("=", 1)) for s in filters.get("label") or []]
    kernel, notebook = filters.get("kernel"), filters.get("notebook")
    for state in watcher.states().values():
        if statuses and state["status"] not in statuses:
            continue
        if any(state["labels"].get(k) != v for k, v in labels):
            continue
        origin = state["origin"]
        if kernel and origin.get("kernel_id") != kernel:
            continue
        if notebook and origin.get("notebook") != notebook:
            continue
        out.append(state)
    return out


def encode_cursor(cursor: JSON | None) -> str | None:
    if not cursor:
        return None
    return f"{int(cursor.get('ino') or 0)}:{int(cursor['off'])}"


def decode_cursor(raw: str) -> JSON:
    try:
        ino, off = raw.split(":")
        cursor = {"ino": int(ino), "off": int(off)}
    except ValueError:
        raise ActionError(f"invalid cursor {raw!r}: expected INODE:OFFSET") from None
    if cursor["off"] < 0 or cursor["ino"] < 0:
        raise ActionError(f"invalid cursor {raw!r}")
    return cursor


@_mapped
def read_logs(registry: Registry, name: str, query: JSON) -> JSON:
    """Last lines, a page before/after a cursor, or a search; lines are ``[t, text]``.

    The response always says where to continue: ``before`` pages further back (null
    once the oldest retained line was returned), ``cursor`` follows new lines.
    """
    _require(registry, name)
    stream = query.get("stream", "stdout")
    if stream not in LOG_STREAMS:
        raise ActionError("stream must be stdout or stderr")
    n = int(query.get("lines", 200))
    ls = LogStream(registry.process_dir(name), stream)
    out: JSON = {"name": name, "stream": stream}
    if query.get("search"):
        found, complete = ls.search_bounded(
            str(query["search"]),
            limit=n,
            max_bytes=int(query.get("search_bytes") or SEARCH_BYTES),
            cancelled=query.get("cancelled"),
        )
        out.update(lines=[ln.wire() for ln in found], order="newest-first", complete=complete)
        return out
    if query.get("after"):
        res = ls.read_since(decode_cursor(str(query["after"])), max_lines=n)
        out.update(
            lines=[ln.wire() for ln in res.lines],
            cursor=encode_cursor(res.cursor),
            skipped=res.skipped,
            reset=res.reset,
        )
        return out
    start = decode_cursor(str(query["before"])) if query.get("before") else None
    end = ls.read_since(None).cursor if start is None else None
    lines, first = ls.lines_before(start, n)
    out.update(
        lines=[ln.wire() for ln in lines],
        before=encode_cursor(first),
        cursor=encode_cursor(end) if end is not None else None,
    )
    return out
