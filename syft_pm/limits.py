"""Memory sizes: ``max_memory="2G"`` in, ``"2.3 GiB"`` out.

A user writes sizes the way pm2's ``max_memory_restart`` takes them (``"300M"``,
``"2G"``, ``"1.5GiB"`` or a plain number of bytes); a reason shown to them reads
``memory limit 2 GiB exceeded: 2.3 GiB``. Units are powers of 1024, as pm2 and ``free -h``
use them. Standard library only: the supervisor imports it.
"""

from __future__ import annotations

_UNITS = {"": 1, "B": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
_SIZE = r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*"  # re: only where parsed
#: Below this a limit is a typo (bytes for megabytes), not a wish: a Python interpreter
#: alone needs about 10 MiB.
MIN_MEMORY = 1024 * 1024


def parse_memory(value: object) -> int | None:
    """Bytes, from ``None``, an int of bytes or a text like ``"512M"``; ValueError if not."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"max_memory must be a size like '2G' or a number of bytes, not {value!r}")
    if isinstance(value, (int, float)):
        n = int(value)
    elif isinstance(value, str):
        import re

        m = re.fullmatch(_SIZE, value, re.IGNORECASE)
        if m is None:
            raise ValueError(
                f"max_memory must be a size like '512M', '2G' or '1.5GiB', not {value!r}"
            )
        n = int(float(m.group(1)) * _UNITS[m.group(2).upper()])
    else:
        raise ValueError(f"max_memory must be a size like '2G' or a number of bytes, not {value!r}")
    if n < MIN_MEMORY:
        raise ValueError(f"max_memory must be at least 1M, not {value!r} ({n} bytes)")
    return n


def format_size(n: float) -> str:
    """``2 GiB``, ``2.3 GiB``, ``512 MiB``: one decimal at most, none when whole."""
    value = float(n)
    unit = "TiB"
    for name in ("B", "KiB", "MiB", "GiB"):
        if value < 1024:
            unit = name
            break
        value /= 1024
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def memory_reason(limit: int, rss: int) -> str:
    return f"memory limit {format_size(limit)} exceeded: {format_size(rss)}"
