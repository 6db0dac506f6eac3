"""Importable functions for run_function tests (pickled by reference)."""

from __future__ import annotations

import sys
from pathlib import Path


def write_file(path: str, text: str) -> None:
    Path(path).write_text(text)


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    raise RuntimeError(message)
