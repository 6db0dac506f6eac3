"""Process-name validation.

A name becomes a directory under the registry, a URL path segment and a CLI argument,
so the rule is deliberately narrow: it must be impossible for a valid name to escape
the registry (no separators, no `..`, no leading dot) or to need quoting anywhere.
"""

from __future__ import annotations

import re

MAX_NAME_LENGTH = 64
# Used with fullmatch: ``$`` alone would also accept a trailing newline ("web\n").
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class InvalidNameError(ValueError):
    """Raised for a process name that is not allowed."""


def validate_name(name: object) -> str:
    """Return ``name`` unchanged if it is a valid process name, else raise InvalidNameError."""
    if not isinstance(name, str):
        raise InvalidNameError(f"process name must be a string, not {type(name).__name__}")
    if not name:
        raise InvalidNameError("process name must not be empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidNameError(
            f"process name is {len(name)} characters long; the limit is {MAX_NAME_LENGTH}"
        )
    if not _NAME_RE.fullmatch(name) or ".." in name:
        raise InvalidNameError(
            f"invalid process name {name!r}: use letters, digits, '.', '_' and '-', "
            "starting with a letter or digit (no '..')"
        )
    return name


def is_valid_name(name: object) -> bool:
    try:
        validate_name(name)
    except InvalidNameError:
        return False
    return True
