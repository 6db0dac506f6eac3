"""Render a stored log line as a terminal would show it.

Programs that draw progress bars (tqdm, pip, curl) redraw one line with carriage
returns: ``"\\r 10%|#   |\\r 20%|##  |..."`` and no newline for minutes. A terminal shows
only the last state of such a line; a log viewer that splits on ``\\r`` or prints the
raw text shows thousands of fragments. The log files keep the raw bytes (nothing is
lost, ``grep`` still works); Python-side readers that show text to a person
(:meth:`syft_pm.logs.LogStream.tail`, ``syft-pm logs``, the static HTML of a cell output)
render it here. The wire protocol carries the raw text and the browser renders it the
same way (docs/protocol.md).
"""

from __future__ import annotations


def render_cr(text: str) -> str:
    """What a terminal shows for ``text`` (one line, no newline) after its ``\\r``s.

    Each ``\\r`` returns to column 0 and the following text overwrites what was there;
    characters beyond the new text stay visible (``"abcdef\\rxy"`` shows ``"xycdef"``).
    A trailing ``\\r`` (or ``\\r\\n`` line ends) changes nothing. Linear in ``len(text)``:
    the segments are overlaid from the last one back, each only where it shows.
    """
    if "\r" not in text:
        return text
    shown = ""
    for seg in reversed(text.split("\r")):
        if len(seg) > len(shown):
            shown += seg[len(shown) :]
    return shown
