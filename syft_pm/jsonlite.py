"""JSON for the supervisor, from the C accelerator alone.

``import json`` brings ``re`` and ``enum`` with it: about 1.2 MiB of a supervisor's
private memory, more than everything else it imports. The supervisor only reads small
files (config.json, control.json) and writes flat records (state.json, its lock file),
so it uses the scanner and encoder of ``_json`` (what ``json`` itself calls) directly.
Output is the same JSON ``json.dumps(obj, sort_keys=True)`` writes; any reader parses
it as before.
"""

from __future__ import annotations

import _json

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_WS = " \t\n\r"
_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Context:
    """The attributes ``_json.make_scanner`` reads from a ``json.JSONDecoder``."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__
    memo: dict[str, str] = {}


_scan = _json.make_scanner(_Context())  # type: ignore[arg-type]  # duck-typed decoder


def _default(o: object) -> object:
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


_encode = _json.make_encoder(
    None, _default, _json.encode_basestring_ascii, None, ": ", ", ", True, False, True
)


def loads(data: str | bytes) -> Any:
    """``json.loads`` for one document; ValueError if it is not valid JSON."""
    text = data.decode() if isinstance(data, bytes) else data
    start = len(text) - len(text.lstrip(_WS))
    try:
        obj, end = _scan(text, start)
    except StopIteration:
        raise ValueError("not a JSON document") from None
    if text[end:].strip(_WS):
        raise ValueError("extra data after the JSON document")
    return obj


def dumps(obj: Any) -> str:
    """``json.dumps(obj, sort_keys=True)``."""
    return "".join(_encode(obj, 0))
