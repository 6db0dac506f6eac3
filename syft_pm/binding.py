"""``bind="kernel"``: a process that must not outlive the notebook kernel that started it.

At run() time, inside a kernel, we record which kernel: its id (from the connection
file on its command line, as provenance does), its pid and create time. The supervisor's
watchdog checks that process; when it is gone it looks for a process whose command line
names the same connection file (``kernel-<id>.json``): that is how a *restarted* kernel
is recognised (Jupyter restarts a kernel with the same id and connection file, under a
new pid), without the new kernel having to import anything. If none appears within the
grace period, the kernel was shut down or died for good and the process is stopped.

Standard library only: the supervisor imports it.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # no typing import in the supervisor (see supervisor.py)
if TYPE_CHECKING:
    from typing import Any

DEFAULT_GRACE = 30.0


def bind_config(bind: Any) -> dict[str, Any] | None:
    """The ``bind`` entry of config.json for this caller, or ValueError."""
    if bind is None:
        return None
    grace: Any = DEFAULT_GRACE
    if isinstance(bind, dict):
        unknown = sorted(set(bind) - {"to", "grace"})
        if unknown or bind.get("to") != "kernel":
            raise ValueError(
                f"bind must be 'kernel' or {{'to': 'kernel', 'grace': seconds}}, not {bind!r}"
            )
        grace = bind.get("grace", DEFAULT_GRACE)
    elif bind != "kernel":
        raise ValueError(f"bind must be 'kernel' (or None), not {bind!r}")
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        raise ValueError(f"bind: 'grace' must be a number of seconds >= 0, not {grace!r}")
    from . import procutil, provenance

    conn = connection_file()
    if conn is None:
        raise ValueError(
            "bind='kernel' binds the process to the Jupyter kernel calling run(), "
            "but this process is not a kernel (no -f <connection file> argument)"
        )
    pid = os.getpid()
    return {
        "to": "kernel",
        "kernel_id": provenance.kernel_id() or os.path.basename(conn).removesuffix(".json"),  # noqa: PTH119
        "connection_file": conn,
        "pid": pid,
        "create_time": procutil.create_time(pid),
        "grace": float(grace),
    }


def fingerprint_part(bind: Any) -> Any:
    """What of a binding makes two runs different: the kernel, not its current pid."""
    if not isinstance(bind, dict):
        return bind
    return {"to": bind.get("to"), "kernel_id": bind.get("kernel_id")}  # not the pid


def connection_file(argv: list[str] | None = None) -> str | None:
    """The connection file named on this kernel's command line (``-f FILE``), absolute."""
    import sys

    args = sys.argv if argv is None else argv
    for i, arg in enumerate(args):
        value = None
        if arg == "-f" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(("-f=", "--f=")):
            value = arg.split("=", 1)[1]
        if value and value.endswith(".json"):
            return os.path.abspath(value)  # noqa: PTH100
    return None


def find_kernel(conn_file: str, skip: int | None = None) -> int | None:
    """The pid of a live process whose command line names the connection file ``conn_file``
    (Jupyter restarts a kernel with the same one)."""
    needle = os.path.basename(conn_file).encode()  # noqa: PTH119
    try:
        entries = os.listdir("/proc")  # noqa: PTH208 - names only, no Path objects per pid
    except OSError:
        return None
    for entry in entries:
        if not entry.isdigit() or int(entry) == skip:
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline:
            # The kernel names the file after -f (a launcher wrapper may too, which is
            # fine: it lives as long as the kernel it runs); a client such as
            # `jupyter console --existing FILE` names it otherwise and is not a kernel.
            value = connection_file([a.decode(errors="replace") for a in cmdline.split(b"\0")])
            if value is not None and (
                value == conn_file or os.path.basename(value) == os.path.basename(conn_file)  # noqa: PTH119
            ):
                return int(entry)
    return None


def describe(bind: dict[str, Any]) -> str:
    return f"kernel {str(bind.get('kernel_id'))[:8]}"
