"""``syft-pm``: the registry from a shell.

Every command works on the same registry as the notebooks (``--home`` or
``$SYFT_PM_HOME``, else ``~/.syft_pm``). Expected errors (unknown name, bad command,
process already running...) print one line, ``syft-pm: error: ...``, and exit 1; usage
errors exit 2. No tracebacks for things a user can fix.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import cli_extras as _extras
from .runners import cli as runner_cli

# Each command imports what it needs when it runs: ``syft-pm logs -n 20`` reads two
# small files and a log tail, and should not pay for the manager, psutil, the registry
# machinery and json first (start-up went from ~150 ms to about the interpreter's own).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from .logs import LogStream
    from .manager import ProcessManager


def expected_errors() -> tuple[type[BaseException], ...]:
    """The errors a user can fix: one line, exit 1 (imported only once one happened)."""
    from .health import HealthSpecError
    from .manager import (
        ProcessExistsError,
        ProcessNotFoundError,
        ProcessRunningError,
        ProcessStartError,
    )
    from .names import InvalidNameError
    from .registry import RegistryError
    from .spec import SpecError

    return (
        *_extras.expected_errors(),
        InvalidNameError,
        SpecError,
        HealthSpecError,
        ProcessNotFoundError,
        ProcessExistsError,
        ProcessRunningError,
        ProcessStartError,
        RegistryError,
        TimeoutError,
        OSError,
    )


#: The Python API's spelling in an error message, and what a shell user types instead,
#: by command. The library's errors name its keyword arguments; printed as they are, they
#: would tell a shell user to "pass if_exists='replace'".
CLI_SPELLING: dict[str, tuple[tuple[str, str], ...]] = {
    "run": (
        ("pass if_exists='replace'", "add --replace"),
        ("Pass if_exists='replace'", "Add --replace"),
        ("pass runner='slurm'", "add --runner slurm"),
        (
            "resources and runner_options need",
            "--cpus, --memory, --gpus, --time, --partition, --account and --sbatch-arg need",
        ),
    ),
    "rm": (("pass force=True", "add --force"),),
    "up": (
        ("pass if_exists='replace' to stop it and start the new one", "stop it first"),
        ("Pass if_exists='replace' to stop it and start anew", "Stop it first"),
    ),
}


def in_cli_terms(command: str, message: str) -> str:
    for python, shell in CLI_SPELLING.get(command, ()):
        message = message.replace(python, shell)
    return message


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, sized without ``shutil`` (argparse builds one for every
    argument it adds, and shutil brings bz2, lzma and fnmatch with it)."""

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            import os

            try:
                columns = int(os.environ["COLUMNS"])
            except (KeyError, ValueError):
                try:
                    out = sys.__stdout__
                    columns = os.get_terminal_size(out.fileno() if out else 1).columns
                except (AttributeError, ValueError, OSError):
                    columns = 80
            width = max(columns, 1) - 2
        super().__init__(prog, indent_increment, max_help_position, width)


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        # One line, not argparse's usage block: the usage is one `-h` away.
        print(f"syft-pm: error: {message} (see syft-pm {self._sub_hint()}-h)", file=sys.stderr)
        raise SystemExit(2)

    def _sub_hint(self) -> str:
        words = self.prog.split()[1:]
        return " ".join(words) + " " if words else ""


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}TiB"  # pragma: no cover


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            from .spec import SpecError

            raise SpecError(f"{what} must look like KEY=VALUE, not {item!r}")
        out[key] = value
    return out


def _row(info: dict[str, Any]) -> list[str]:
    from .status import format_duration

    m = info.get("metrics") or {}
    note = info.get("reason") if info["status"] in ("error", "failed", "unhealthy") else ""
    return [
        info["name"],
        info["status"],
        str(info["pid"]) if info.get("running") else "-",
        format_duration(info.get("uptime")),
        f"{m['cpu_percent']:.1f}%" if m else "-",
        fmt_bytes(m.get("rss_bytes")) if m else "-",
        ",".join(str(p) for p in m.get("ports", [])) if m else "-",
        str(info.get("restarts") or 0),
        (note or "")[:60],
    ]


def cmd_list(pm: ProcessManager, args: argparse.Namespace) -> int:
    from .metrics import shared_snapshot

    with shared_snapshot():  # one pass over /proc and one socket scan for all of them
        return _list(pm, args)


def _list(pm: ProcessManager, args: argparse.Namespace) -> int:
    wanted = _pairs(args.label, "--label")
    infos = [
        h.info()
        for h in pm.list()
        if all(h.labels.get(k) == v for k, v in wanted.items())  # e.g. stack=shop
    ]
    if args.json:
        import json

        print(json.dumps(infos, indent=1, default=str))
        return 0
    if not infos:
        print(f"no processes in {pm.home}")
        return 0
    headers = ["NAME", "STATUS", "PID", "UPTIME", "CPU", "MEM", "PORTS", "RESTARTS", "NOTE"]
    rows = [_row(i) for i in infos]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for r in [headers, *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def cmd_run(pm: ProcessManager, args: argparse.Namespace) -> int:
    cmd = list(args.cmd)
    if not cmd:
        from .spec import SpecError

        raise SpecError("no command given: syft-pm run NAME -- CMD [ARGS...]")
    h = pm.run(
        args.name,
        " ".join(cmd) if args.shell else cmd,
        cwd=args.cwd,
        env=_pairs(args.env, "--env"),
        shell=args.shell,
        restart=args.restart,
        max_restarts=args.max_restarts,
        ttl=args.ttl,
        labels=_pairs(args.label, "--label"),
        if_exists="replace" if args.replace else "reuse",
        **_extras.run_options(args),
        **runner_cli.options(args),
    )
    if args.wait_ready:
        h.wait_ready()
    if h.status == "queued":
        print(f"{h.name}: queued" + runner_cli.note(h.info(metrics=False)))
        return 0
    print(f"{h.name}: {h.status}, pid {h.pid}" + _extras.ready_note(h))
    return 0


def _chosen(pm: ProcessManager, args: argparse.Namespace) -> list[str]:
    """The names given, or every process (``--all``), or those labelled (``-l``)."""
    from .bulk import select

    usage = _Parser(prog=f"syft-pm {args.command}")
    if not args.names and not args.all and not args.label:
        usage.error("a NAME is required, or --all, or -l KEY=VALUE")
    if args.names and args.all:
        usage.error("give NAMEs or --all, not both")
    names = args.names or None
    chosen = select(pm, names, _pairs(args.label, "--label"))
    if not chosen:
        print("no process matches", file=sys.stderr)
    return chosen


def _bulk(what: str, pm: ProcessManager, args: argparse.Namespace) -> int:
    """Stop or restart the chosen processes in parallel; one line each, in name order.
    A failure is reported on its line and makes the exit code 1; the others go on."""
    from .bulk import BulkError, restart_all, stop_all
    from .status import ACTIVE_STATUSES

    chosen = _chosen(pm, args)
    was = {n: pm.get(n).record.status for n in chosen}
    try:
        if what == "stop":
            handles = stop_all(chosen, timeout=args.timeout, manager=pm)
        else:
            handles = restart_all(chosen, timeout=args.timeout, manager=pm)
        errors: dict[str, BaseException] = {}
    except BulkError as e:
        handles, errors = e.done, e.errors
    done = {h.name: h for h in handles}
    for name in chosen:
        if name in errors:
            print(f"syft-pm: error: {name}: {errors[name]}", file=sys.stderr)
            continue
        h = done[name]
        if what == "stop":
            note = "" if was[name] in ACTIVE_STATUSES else " (was not running)"
            print(f"{name}: {h.status}{note}")
        else:
            print(f"{name}: {h.status}, pid {h.pid}")
    return 1 if errors else 0


def cmd_stop(pm: ProcessManager, args: argparse.Namespace) -> int:
    return _bulk("stop", pm, args)


def cmd_restart(pm: ProcessManager, args: argparse.Namespace) -> int:
    return _bulk("restart", pm, args)


def cmd_rm(pm: ProcessManager, args: argparse.Namespace) -> int:
    pm.get(args.name).remove(force=args.force)
    print(f"{args.name}: removed")
    return 0


def _format_line(t: float | None, text: str, timestamps: bool) -> str:
    if not timestamps:
        return text
    stamp = (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}Z"
        if t is not None
        else " " * 24
    )
    return f"{stamp} {text}"


def _print_line(t: float | None, text: str, timestamps: bool) -> None:
    print(_format_line(t, text, timestamps))


def _follow(stream: LogStream, args: argparse.Namespace) -> None:
    """Print lines as they come, carriage returns rendered. On a terminal a progress bar
    is redrawn in place (each newer piece of the line overwrites the last), as it was
    in the program's own terminal; elsewhere each piece is one line."""
    from .termtext import render_cr

    tty = sys.stdout.isatty()
    pending = False  # on a terminal, a line's newline waits: the next piece may redraw it
    try:
        for ln in stream.follow_lines(lines=args.n):
            shown = _format_line(ln.t, render_cr(ln.text), args.timestamps)
            if not tty:
                print(shown)
            elif pending and ln.cont and ln.text.startswith("\r"):
                sys.stdout.write("\r" + shown + "\x1b[K")
            else:
                sys.stdout.write(("\n" if pending else "") + shown)
                pending = True
            sys.stdout.flush()
    finally:
        if pending:
            sys.stdout.write("\n")
            sys.stdout.flush()


def cmd_logs(pm: ProcessManager, args: argparse.Namespace) -> int:
    h = pm.get(args.name)
    stream = h.stderr if args.stderr else h.stdout
    if args.follow:
        _follow(stream, args)
        return 0
    _print_tail(stream, args)
    return 0


def _print_tail(stream: LogStream, args: argparse.Namespace) -> None:
    for t, text in stream.tail(args.n, timestamps=True):  # tail() renders carriage returns
        _print_line(t, text, args.timestamps)


def _logs_tail(args: argparse.Namespace) -> int:
    """``logs`` without ``-f``: the entry's directory and its log files, nothing more
    (no manager, no psutil; a process that cannot be read still has its logs)."""
    import os

    from .logs import LogStream
    from .names import validate_name

    root = os.path.expanduser(args.home or os.environ.get("SYFT_PM_HOME") or "~/.syft_pm")  # noqa: PTH111
    pdir = f"{root}/processes/{validate_name(args.name)}"
    if not os.path.isdir(pdir) or os.path.islink(pdir):  # noqa: PTH112, PTH114
        from .manager import ProcessNotFoundError

        raise ProcessNotFoundError(f"no process named {args.name!r} in {root}")
    _print_tail(LogStream(pdir, "stderr" if args.stderr else "stdout"), args)
    return 0


def cmd_info(pm: ProcessManager, args: argparse.Namespace) -> int:
    from .status import format_duration

    info = pm.get(args.name).info()
    if args.json:
        import json

        print(json.dumps(info, indent=1, default=str))
        return 0
    st = info["state"]
    cfg = info["config"]
    m = info.get("metrics") or {}
    prov = info.get("provenance") or {}
    cmd = cfg.get("cmd")
    lines = [
        ("name", info["name"]),
        ("status", info["status"] + (f" ({info['reason']})" if info.get("reason") else "")),
        ("pid", info["pid"] if info.get("running") else f"{info['pid'] or '-'} (not running)"),
        ("command", cmd if isinstance(cmd, str) else " ".join(map(str, cmd or []))),
        ("cwd", cfg.get("cwd")),
        ("uptime", format_duration(info.get("uptime"))),
        ("exit code", st.get("exit_code") if st.get("signal") is None else st.get("signal")),
        ("restarts", f"{info['restarts']} (policy {cfg.get('restart', 'no')})"),
        ("ttl", f"{cfg['ttl']:g}s" if cfg.get("ttl") else "-"),
        ("cpu", f"{m['cpu_percent']:.1f}%" if m else "-"),
        ("memory", fmt_bytes(m.get("rss_bytes")) if m else "-"),
        ("ports", ",".join(map(str, m.get("ports", []))) if m else "-"),
        ("health", (info.get("health") or {}).get("status", "-")),
        ("labels", ", ".join(f"{k}={v}" for k, v in (info.get("labels") or {}).items()) or "-"),
        (
            "started by",
            f"{prov.get('user')}@{prov.get('host')} pid {prov.get('pid')}" if prov else "-",
        ),
        ("notebook", prov.get("notebook") or "-"),
        ("directory", info["directory"]),
    ]
    lines[-1:-1] = _extras.info_lines(info)
    for key, value in lines:
        print(f"{key:<11} {value if value is not None else '-'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="syft-pm", description="Manage long-running processes (syft_pm registry).")
    p.add_argument("--home", help="registry directory (default: $SYFT_PM_HOME or ~/.syft_pm)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("list", help="list processes")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--label", action="append", metavar="KEY=VALUE", help="only these")
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("run", help="start a process: syft-pm run NAME -- CMD [ARGS...]")
    s.add_argument("name")
    s.add_argument("--cwd")
    s.add_argument("--env", action="append", metavar="KEY=VALUE")
    s.add_argument("--restart", default="no", choices=["no", "on-failure", "always"])
    s.add_argument("--max-restarts", type=int, default=10)
    s.add_argument("--ttl", type=float)
    s.add_argument("--label", action="append", metavar="KEY=VALUE")
    s.add_argument("--shell", action="store_true", help="run CMD through /bin/sh -c")
    s.add_argument("--replace", action="store_true", help="replace a running process of that name")
    s.add_argument("cmd", nargs="*", help="the command, after --")
    _extras.add_run_options(s)
    runner_cli.add_arguments(s)
    s.set_defaults(func=cmd_run)

    for command, func, text in (
        ("stop", cmd_stop, "stop processes and their whole trees (in parallel)"),
        ("restart", cmd_restart, "stop and start again with the same configuration"),
    ):
        s = sub.add_parser(command, help=text)
        s.add_argument("names", nargs="*", metavar="NAME")
        s.add_argument("--all", action="store_true", help="every process in the registry")
        s.add_argument(
            "-l", "--label", action="append", metavar="KEY=VALUE", help="those labelled so"
        )
        s.add_argument("--timeout", type=float, default=5.0, help="seconds before SIGKILL")
        s.set_defaults(func=func)

    s = sub.add_parser("rm", help="remove a process entry and its logs")
    s.add_argument("name")
    s.add_argument("--force", action="store_true", help="stop it first if it is running")
    s.set_defaults(func=cmd_rm)

    s = sub.add_parser("logs", help="print a process's output")
    s.add_argument("name")
    s.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    s.add_argument("--stderr", action="store_true", help="stderr instead of stdout")
    s.add_argument("-n", type=int, default=20, help="number of lines (default 20)")
    s.add_argument("--timestamps", action="store_true", help="prefix each line with its UTC time")
    s.set_defaults(func=cmd_logs)

    s = sub.add_parser("info", help="everything about a process")
    s.add_argument("name")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.set_defaults(func=cmd_info)
    _extras.add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after the first "--" is the command, verbatim (argparse would otherwise
    # read the command's own options as ours).
    tail: list[str] | None = None
    if "--" in argv:
        i = argv.index("--")
        argv, tail = argv[:i], argv[i + 1 :]
    args = build_parser().parse_args(argv)
    if tail is not None:
        if args.command != "run":
            build_parser().error(f"unexpected '--' for {args.command}")
        args.cmd = [*args.cmd, *tail]
    try:
        if args.func is cmd_logs and not args.follow:
            return _logs_tail(args)
        from .manager import ProcessManager

        pm = ProcessManager(args.home)
        return int(args.func(pm, args))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0  # `syft-pm logs x | head`
    except Exception as e:
        if not isinstance(e, expected_errors()):
            raise
        print(f"syft-pm: error: {in_cli_terms(args.command, str(e))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
