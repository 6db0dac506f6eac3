"""Walking a log file's bytes: backwards by whole lines, to the last newline, counting.

Every walk reads in bounded blocks with ``pread`` and never joins an unbounded run of
bytes without a newline, so a reader's cost is linear in what it returns, whatever the
file holds (a progress bar's carriage returns, a binary blob).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from .logline import TEXT_CAP, is_continuation
from .logwriter import PREFIX_LEN

#: Log files are opened without following symlinks: whatever is planted in the
#: registry, a reader never reads a file outside it.
OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW
#: The largest block read in one go.
MAX_BLOCK = 1 << 20


def rchunks(fd: int, start: int, end: int) -> Iterator[tuple[int, bytes]]:
    """Walk ``[start, end)`` backwards in blocks of whole lines: ``(offset, b"l1\\nl2")``.

    A final newline at ``end`` does not make an empty last line; blocks grow from 8 KiB
    so that ``tail(20)`` costs one small read whatever the file size. A line longer than
    :data:`TEXT_CAP` is yielded alone, as its first TEXT_CAP bytes (``offset`` is still
    its true start): the bytes carried from block to block stay bounded, so a file
    without newlines costs one pass, not a quadratic join.
    """
    pos = end
    carry = b""
    long = False  # ``carry`` is only the front of a longer run without a newline
    first = True
    block = 8192
    while pos > start:
        n = min(block, pos - start)
        block = min(block * 2, MAX_BLOCK)
        pos -= n
        data = os.pread(fd, n, pos)
        if first:
            first = False
            if data.endswith(b"\n"):
                data = data[:-1]
        nblock = len(data)
        data += carry
        i = data.find(b"\n", 0, nblock) if pos > start else -1
        if i < 0 and pos > start:
            long = long or len(data) > TEXT_CAP
            carry = data[:TEXT_CAP] if long else data
            continue
        if long:
            j = data.rfind(b"\n", 0, nblock)
            yield pos + j + 1, data[j + 1 : j + 1 + TEXT_CAP]
            if j > i:
                yield pos + i + 1, data[i + 1 : j]
        else:
            yield pos + i + 1, data[i + 1 :]
        carry = data[:i] if i > 0 else b""
        long = len(carry) > TEXT_CAP
        if long:
            carry = carry[:TEXT_CAP]


def last_newline_end(fd: int, start: int, end: int) -> int:
    """Offset just after the last newline in ``[start, end)``, or ``start`` if none."""
    pos = end
    while pos > start:
        n = min(65536, pos - start)
        pos -= n
        i = os.pread(fd, n, pos).rfind(b"\n")
        if i >= 0:
            return pos + i + 1
    return start


def starts_with_piece(fd: int, offset: int) -> bool:
    """Is the stored line at ``offset`` a continuation piece (``+`` after its stamp)?"""
    return is_continuation(os.pread(fd, PREFIX_LEN, offset))


def count_lines(fd: int, start: int, end: int) -> int:
    """Lines ending in ``[start, end)``, as a reader sees them: a stored piece that
    continues the line before it (a line the writer cut, or one whose end arrived more
    than a second later) ends no line of its own, so it is not counted."""
    import re

    cont = re.compile(rb"\n[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z\+")
    count = 0
    pos = start
    while pos < end:
        n = min(MAX_BLOCK, end - pos)
        # A little more than the block: a piece's stamp may straddle the block's end.
        data = os.pread(fd, n + PREFIX_LEN, pos)
        if not data:
            break
        own = len(data[:n])
        count += data.count(b"\n", 0, own)
        count -= sum(1 for m in cont.finditer(data) if m.start() < own)
        pos += own
    return count
