"""Stop or restart many processes at once, in parallel.

Each stop waits for its supervisor to take the tree down (up to the stop timeout of a
process that ignores SIGTERM), so stopping fifty one after the other costs fifty waits.
Every entry has its own lock, so the operations run side by side in threads (they wait
on pidfds and files, not on the GIL): fifty stops cost about as much as the slowest one.
"""

from __future__ import annotations

import builtins
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .manager import ProcessNotFoundError, default_manager

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from .handle import ProcessHandle
    from .manager import ProcessManager

#: Threads at most; past this, operations queue (a stop mostly waits, it costs no CPU).
MAX_PARALLEL = 64


class BulkError(RuntimeError):
    """Some of the operations failed; ``errors`` maps each name to its exception and
    ``done`` holds the handles of those that succeeded."""

    def __init__(self, what: str, errors: dict[str, BaseException], done: list[ProcessHandle]):
        self.errors = errors
        self.done = done
        detail = "; ".join(f"{n}: {e}" for n, e in sorted(errors.items()))
        super().__init__(f"could not {what} {len(errors)} of {len(errors) + len(done)}: {detail}")


def select(
    pm: ProcessManager,
    names: Iterable[str] | None = None,
    labels: Mapping[str, str] | None = None,
) -> builtins.list[str]:
    """The names an operation applies to: ``names`` (each must exist), else every
    entry; narrowed to the entries whose labels include all of ``labels``."""
    if names is None:
        chosen = pm.registry.names()
    else:
        chosen = list(dict.fromkeys(names))
        missing = [n for n in chosen if not pm.registry.exists(n)]
        if missing:
            raise ProcessNotFoundError(
                f"no process named {', '.join(map(repr, missing))} in {pm.home}"
            )
    if not labels:
        return chosen
    out = []
    for name in chosen:
        have = pm.registry.record(name).config.get("labels")
        if isinstance(have, dict) and all(have.get(k) == v for k, v in labels.items()):
            out.append(name)
    return out


def _each(
    what: str, names: builtins.list[str], op: Callable[[str], ProcessHandle]
) -> builtins.list[ProcessHandle]:
    if not names:
        return []
    errors: dict[str, BaseException] = {}
    done: dict[str, ProcessHandle] = {}
    with ThreadPoolExecutor(min(MAX_PARALLEL, len(names)), "syft-pm-bulk") as pool:
        futures = {name: pool.submit(op, name) for name in names}
        for name, fut in futures.items():
            try:
                done[name] = fut.result()
            except Exception as e:  # noqa: BLE001 - reported together below
                errors[name] = e
    handles = [done[n] for n in names if n in done]
    if errors:
        raise BulkError(what, errors, handles)
    return handles


def stop_all(
    names: Iterable[str] | None = None,
    labels: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    *,
    manager: ProcessManager | None = None,
) -> builtins.list[ProcessHandle]:
    """Stop ``names`` (default: every process), or those with ``labels``, in parallel;
    return their handles once all are stopped. Raises :class:`BulkError` after the
    others finished if some could not be stopped."""
    pm = manager or default_manager()
    chosen = select(pm, names, labels)
    return _each("stop", chosen, lambda n: pm.get(n).stop(timeout=timeout))


def restart_all(
    names: Iterable[str] | None = None,
    labels: Mapping[str, str] | None = None,
    timeout: float = 5.0,
    *,
    manager: ProcessManager | None = None,
) -> builtins.list[ProcessHandle]:
    """Restart ``names`` (default: every process), or those with ``labels``, in
    parallel, each with its stored configuration; see :func:`stop_all`."""
    pm = manager or default_manager()
    chosen = select(pm, names, labels)
    return _each("restart", chosen, lambda n: pm.get(n).restart(timeout=timeout))
