"""The CLI's part of issue 14: readiness and memory options of ``run``, ``up``/``down``
for stacks, ``resurrect``, and their lines in ``info``.

Kept apart from cli.py (which stays the command table and its printing) so each feature
reads in one place; cli.py calls in through a few small hooks. Like cli.py, it imports
what a command needs only when that command runs (``syft-pm logs`` stays fast).
"""

from __future__ import annotations

import argparse
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .handle import ProcessHandle
    from .manager import ProcessManager

DEFAULT_FILE = "syft-pm.toml"  # stack.DEFAULT_FILE, without importing the stack module


def expected_errors() -> tuple[type[BaseException], ...]:
    from .ready import ProcessNotReadyError
    from .stack import StackError

    return (StackError, ProcessNotReadyError)


def add_run_options(s: argparse.ArgumentParser) -> None:
    g = s.add_argument_group("readiness and limits")
    g.add_argument(
        "--wait-ready", action="store_true", help="return only once the process is ready"
    )
    g.add_argument("--ready-port", type=int, metavar="PORT", help="ready when PORT accepts")
    g.add_argument("--ready-http", metavar="URL", help="ready when URL answers 2xx/3xx")
    g.add_argument("--ready-log", metavar="REGEX", help="ready when an output line matches")
    g.add_argument("--ready-timeout", type=float, default=60.0, metavar="SECONDS")
    g.add_argument("--max-memory", metavar="SIZE", help="restart (or stop) above, e.g. 2G")


def run_options(args: argparse.Namespace) -> dict[str, Any]:
    ready: dict[str, Any] | None = None
    given = [
        (k, v)
        for k, v in (("port", args.ready_port), ("http", args.ready_http), ("log", args.ready_log))
        if v is not None
    ]
    if len(given) > 1:
        from .spec import SpecError

        raise SpecError("give one of --ready-port, --ready-http, --ready-log")
    if given:
        ready = dict(given)
    return {"ready": ready, "ready_timeout": args.ready_timeout, "max_memory": args.max_memory}


def ready_note(h: ProcessHandle) -> str:
    at = h.ready_at
    return f", ready at {time.strftime('%H:%M:%S', time.localtime(at))}" if at else ""


def info_lines(info: dict[str, Any]) -> list[tuple[str, Any]]:
    from .limits import format_size
    from .ready import describe

    cfg, st = info["config"], info["state"]
    lines: list[tuple[str, Any]] = []
    if cfg.get("ready"):
        at = st.get("ready_at")
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(at)) if at else "not yet"
        lines.append(("ready", f"{when} (when {describe(cfg['ready'])})"))
    if cfg.get("max_memory"):
        lines.append(("max memory", format_size(cfg["max_memory"])))
    bind = cfg.get("bind")
    if isinstance(bind, dict):
        lines.append(("bound to", f"kernel {bind.get('kernel_id')} (grace {bind.get('grace')}s)"))
    if st.get("restart_reason"):
        lines.append(("restarted", st["restart_reason"]))
    return lines


def cmd_up(pm: ProcessManager, args: argparse.Namespace) -> int:
    from .stack import up

    for h in up(args.file, pm):
        print(f"{h.name}: {h.status}" + (f", pid {h.pid}" if h.is_running() else ""))
    return 0


def cmd_down(pm: ProcessManager, args: argparse.Namespace) -> int:
    from .stack import down

    for h in down(args.file, pm):
        print(f"{h.name}: {h.status}")
    return 0


def cmd_resurrect(pm: ProcessManager, args: argparse.Namespace) -> int:
    from .resurrect import resurrect

    done = resurrect(pm)
    for r in done:
        if r.error:
            print(f"{r.name}: could not bring back ({r.reason}): {r.error}")
        else:
            print(f"{r.name}: brought back ({r.reason})")
    if not done:
        print("nothing to resurrect")
    return 1 if any(r.error for r in done) else 0


def add_commands(sub: Any) -> None:
    for name, func, text in (
        ("up", cmd_up, "start the processes of a stack file, dependencies first"),
        ("down", cmd_down, "stop the processes of a stack file, dependents first"),
    ):
        s = sub.add_parser(name, help=text)
        s.add_argument("-f", "--file", default=DEFAULT_FILE, help=f"default: ./{DEFAULT_FILE}")
        s.set_defaults(func=func)
    s = sub.add_parser(
        "resurrect", help="bring back processes whose supervisor was killed or host rebooted"
    )
    s.set_defaults(func=cmd_resurrect)
