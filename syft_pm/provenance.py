"""Who started a process, from where: recorded in config.json for every start.

A notebook user with a dozen processes needs to know which notebook started which one.
Inside a kernel the kernel id comes from the connection file named on the kernel's own
command line (``-f .../kernel-<id>.json``) and the notebook path from
``JPY_SESSION_NAME``, which Jupyter sets for kernels it starts: no Jupyter import.
"""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from typing import Any

_KERNEL_FILE = re.compile(r"kernel-([A-Za-z0-9_.-]+)\.json$")


def kernel_id(argv: list[str] | None = None) -> str | None:
    """The id of the kernel this process is, if it is one (from its ``-f`` argument)."""
    args = sys.argv if argv is None else argv
    for i, arg in enumerate(args):
        value = None
        if arg == "-f" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith(("-f=", "--f=")):
            value = arg.split("=", 1)[1]
        if value:
            m = _KERNEL_FILE.search(value)
            if m:
                return m.group(1)
    return None


def current_user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.getuid()).pw_name
    except (ImportError, KeyError):
        return os.environ.get("USER") or str(os.getuid())


def collect() -> dict[str, Any]:
    """The provenance of a start made by this process, now."""
    kid = kernel_id()
    return {
        "user": current_user(),
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "created_at": time.time(),
        "python": sys.executable,
        "kernel_id": kid,
        "notebook": os.environ.get("JPY_SESSION_NAME") or None,
    }
