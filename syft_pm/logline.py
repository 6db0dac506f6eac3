"""What one stored log line is, and how its bytes become a line for a reader or the wire.

The writer (:mod:`syft_pm.logwriter`) prefixes every stored line with a fixed-width UTC
stamp, ``YYYY-MM-DDTHH:MM:SS.mmmZ`` and a space, or a ``+`` for a piece that continues
the line before it (a line the writer cut). Parsing the stamp is on the path of every
line a reader returns, so it avoids ``datetime`` and ``calendar`` (``syft-pm logs``
starts without them) and caches the seconds part.
"""

from __future__ import annotations

from typing import Any

from .logwriter import LINE_MAX, PREFIX_LEN

#: The most bytes of one stored line a reader decodes (the writer's pieces are smaller).
TEXT_CAP = LINE_MAX
CUT_MARK = "\u2026"  # appended to a line a reader had to shorten


class LogLine:
    """One line: ``t`` is its epoch time (None if it carries no valid stamp); ``cont``
    says it continues the stored line before it (a line cut by the writer).

    Immutable and compared by value, like a frozen dataclass; written out because
    ``dataclasses`` imports ``inspect``, a good part of ``syft-pm logs``' start-up."""

    __slots__ = ("cont", "t", "text")
    t: float | None
    text: str
    cont: bool

    def __init__(self, t: float | None, text: str, cont: bool = False) -> None:
        object.__setattr__(self, "t", t)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "cont", cont)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: LogLine is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: LogLine is immutable")

    def __repr__(self) -> str:
        return f"LogLine(t={self.t!r}, text={self.text!r}, cont={self.cont!r})"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, LogLine)
        return (self.t, self.text, self.cont) == (other.t, other.text, other.cont)

    def __hash__(self) -> int:
        return hash((self.t, self.text, self.cont))

    def __reduce__(self) -> tuple[type[LogLine], tuple[float | None, str, bool]]:
        return (LogLine, (self.t, self.text, self.cont))  # copy and pickle

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "text": self.text}

    def wire(self) -> WireLine:
        """The line as the protocol carries it: ``(t, text)``, plus a third element 1
        when it continues the line before (labextension/src/live/protocol.ts LogLine)."""
        return (self.t, self.text, 1) if self.cont else (self.t, self.text)


#: A line as the wire protocol carries it: ``(t, text)``, or ``(t, text, 1)`` for a piece
#: that continues the line before (see :meth:`LogLine.wire`).
WireLine = tuple[float | None, str] | tuple[float | None, str, int]

_epoch_cache: dict[bytes, int] = {}


def _timegm(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """``calendar.timegm`` (days from the civil date, H. Hinnant's algorithm) without
    importing calendar, datetime and locale; like it, ValueError for a month or year
    out of range."""
    if not 1 <= month <= 12 or not 1 <= year <= 9999:
        raise ValueError(f"no such date: {year}-{month}")
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5
    days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468 + day - 1
    return days * 86400 + hour * 3600 + minute * 60 + second


def stamp_epoch(raw: bytes) -> float | None:
    """Epoch seconds of a ``YYYY-MM-DDTHH:MM:SS.mmmZ`` prefix, None if it isn't one."""
    if (
        len(raw) < PREFIX_LEN
        or (raw[24] != 0x20 and raw[24] != 0x2B)  # " ", or "+" for a continuation
        or raw[23] != 0x5A
        or raw[19] != 0x2E
        or raw[10] != 0x54
        or raw[4] != 0x2D
    ):
        return None
    key = raw[:19]
    base = _epoch_cache.get(key)
    if base is None:
        try:
            base = _timegm(
                int(raw[0:4]),
                int(raw[5:7]),
                int(raw[8:10]),
                int(raw[11:13]),
                int(raw[14:16]),
                int(raw[17:19]),
            )
        except ValueError:
            return None
        if len(_epoch_cache) > 8192:
            _epoch_cache.clear()
        _epoch_cache[key] = base
    ms = raw[20:23]
    if not ms.isdigit():
        return None
    return base + int(ms) / 1000


def is_continuation(raw: bytes) -> bool:
    """Does this stored line continue the one before it (``+`` after the stamp)?"""
    return len(raw) >= PREFIX_LEN and raw[24] == 0x2B and stamp_epoch(raw) is not None


def parse_line(raw: bytes) -> LogLine:
    """Split a raw stored line into its time and its text (utf-8, errors replaced),
    at most :data:`TEXT_CAP` bytes of it."""
    t = stamp_epoch(raw)
    body = raw[PREFIX_LEN:] if t is not None else raw
    cont = t is not None and raw[24] == 0x2B
    if len(body) > TEXT_CAP:
        return LogLine(t, body[:TEXT_CAP].decode("utf-8", "replace") + CUT_MARK, cont)
    return LogLine(t, body.decode("utf-8", "replace"), cont)


def wire_line(raw: bytes) -> WireLine:
    """``parse_line(raw).wire()`` without the LogLine in between."""
    t = stamp_epoch(raw)
    body = raw[PREFIX_LEN:] if t is not None else raw
    text = (
        body[:TEXT_CAP].decode("utf-8", "replace") + CUT_MARK
        if len(body) > TEXT_CAP
        else body.decode("utf-8", "replace")
    )
    return (t, text, 1) if t is not None and raw[24] == 0x2B else (t, text)
