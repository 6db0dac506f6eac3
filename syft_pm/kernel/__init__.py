"""The kernel side: the ``syft_pm`` comm target and what a handle shows in a cell.

Imported lazily (``import syft_pm`` inside a kernel registers the comm target); nothing
here is needed by scripts, the CLI or the supervisor.
"""

from __future__ import annotations

from .comm import COMM_TARGET, register_comm_target

__all__ = ["COMM_TARGET", "register_comm_target"]
