"""syft_pm: a process manager for people who work in Jupyter.

Start a long-running process from a cell, the CLI or any kernel; it outlives the kernel
and the Jupyter server; watch and control it from anywhere. The core (registry,
supervisor, handles) imports nothing from Jupyter; the kernel and server layers are thin
and load lazily.
"""

from __future__ import annotations

from ._version import __version__

# Exports load on first use (PEP 562): every managed process has a supervisor, which
# imports this package first (to get at ``syft_pm.supervisor``), and run()
# must return within 100 ms. ``TYPE_CHECKING = False`` (not typing's) for the same
# reason: importing typing alone costs milliseconds; mypy treats the name specially.
TYPE_CHECKING = False
if TYPE_CHECKING:
    import builtins
    from typing import Any

    from .bulk import restart_all, stop_all
    from .handle import ProcessHandle
    from .health import report_health
    from .kernel.display import set_display
    from .manager import ProcessManager, get, list, run, run_function
    from .names import InvalidNameError
    from .registry import Registry
    from .resurrect import resurrect
    from .stack import down, up

_EXPORTS = {
    "InvalidNameError": "names",
    "ProcessHandle": "handle",
    "ProcessManager": "manager",
    "Registry": "registry",
    "down": "stack",
    "get": "manager",
    "list": "manager",
    "report_health": "health",
    "restart_all": "bulk",
    "resurrect": "resurrect",
    "run": "manager",
    "run_function": "manager",
    "set_display": "kernel.display",
    "stop_all": "bulk",
    "up": "stack",
}

__all__ = [
    "InvalidNameError",
    "ProcessHandle",
    "ProcessManager",
    "Registry",
    "__version__",
    "down",
    "get",
    "list",
    "report_health",
    "restart_all",
    "resurrect",
    "run",
    "run_function",
    "set_display",
    "stop_all",
    "up",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'syft_pm' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> builtins.list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


def _jupyter_server_extension_points() -> builtins.list[dict[str, Any]]:
    from .server.app import SyftPmExtension

    return [{"module": "syft_pm", "app": SyftPmExtension}]


def _jupyter_labextension_paths() -> builtins.list[dict[str, str]]:
    return [{"src": "labextension", "dest": "syft-pm"}]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext syft_pm``: register the comm target in this kernel."""
    from .kernel import register_comm_target

    register_comm_target(ipython)


def _register_in_kernel_if_any() -> None:
    # Importing syft_pm inside a kernel registers the comm target, so a cell output's
    # frontend can subscribe without the user doing anything. Outside a kernel (scripts,
    # the CLI, the supervisor) this is a no-op and imports nothing from Jupyter.
    import sys

    if "ipykernel" not in sys.modules:
        return
    from .kernel import register_comm_target

    register_comm_target(None)


_register_in_kernel_if_any()
