"""The errors of the manager's operations, in a module of their own so that the modules
that carry an operation out (``launch.py``) and the manager that calls them raise the
same classes without importing each other. ``syft_pm.manager`` re-exports them."""

from __future__ import annotations


class ProcessNotFoundError(KeyError):
    """No process of that name in the registry."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "process not found"


class ProcessExistsError(RuntimeError):
    """A process of that name is active and ``if_exists`` does not allow reusing it."""


class ProcessRunningError(RuntimeError):
    """remove() of an active process without ``force=True``."""


class ProcessStartError(RuntimeError):
    """The supervisor could not start the command (exec error, supervisor crash)."""
