"""Run a pickled Python callable: ``python -m syft_pm.function_runner <payload>``.

The payload is written by :func:`syft_pm.manager.ProcessManager.run_function`: a pickled
dict ``{"sys_path": [...], "pickler": "pickle" | "cloudpickle", "call": bytes}``. The
caller's ``sys.path`` is restored first, so a function imported from a module next to
the notebook resolves here too; then ``call`` unpickles to ``(func, args, kwargs)``.

Unpickling runs code, so the payload is trusted only if its sha256 matches the one
recorded in ``config.json`` beside it (``function_sha256``): a payload swapped after
run_function wrote it is refused before a single byte of it is unpickled. The bytes
hashed are the bytes unpickled (read once), so there is no window between the two.

Exit status: 0 when the function returns, 1 when it raises (the traceback goes to
stderr, hence to the process's stderr log), 2 when the payload cannot be loaded or does
not match its recorded hash. This module path is part of every stored command: running
supervisors restart ``python -m syft_pm.function_runner``, so it must not move.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import traceback
from pathlib import Path
from typing import Any

MAX_PAYLOAD_BYTES = 1 << 30


class PayloadRejected(Exception):
    """The payload is not the one run_function wrote; it must not be unpickled."""


def _check_private(path: Path, st: os.stat_result) -> None:
    """Only a file of ours that no one else can write is trusted (the same rule as the
    registry's: syft_pm.registry.secure_entry)."""
    if st.st_uid != os.geteuid():
        raise PayloadRejected(f"{path} belongs to uid {st.st_uid}, not to this user")
    if st.st_mode & 0o022:
        raise PayloadRejected(f"{path} is writable by others (mode {st.st_mode & 0o777:04o})")


def _read_private(path: Path) -> bytes:
    # O_NOFOLLOW: a symlink planted in place of the payload is not followed.
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as f:
        _check_private(path, os.fstat(f.fileno()))
        return f.read(MAX_PAYLOAD_BYTES + 1)


def recorded_sha256(payload_path: Path) -> str:
    """The hash run_function recorded in the config.json beside the payload."""
    from .registry import RegistryFileError, read_json

    config = payload_path.parent / "config.json"
    try:
        _check_private(config, os.lstat(config))
        digest = read_json(config).get("function_sha256")
    except FileNotFoundError:
        raise PayloadRejected(f"cannot check {payload_path}: {config} is missing") from None
    except RegistryFileError as e:
        raise PayloadRejected(f"cannot check {payload_path}: {e}") from None
    if not isinstance(digest, str) or len(digest) != 64:
        raise PayloadRejected(f"cannot check {payload_path}: {config} records no function_sha256")
    return digest


def verified_payload(path: str | os.PathLike[str]) -> bytes:
    """The payload's bytes, only if their sha256 is the recorded one."""
    p = Path(path)
    expected = recorded_sha256(p)
    raw = _read_private(p)
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadRejected(f"{p} is larger than {MAX_PAYLOAD_BYTES} bytes")
    actual = hashlib.sha256(raw).hexdigest()
    if actual != expected:
        raise PayloadRejected(
            f"{p} was changed after run_function wrote it (sha256 {actual}, recorded "
            f"{expected}); refusing to unpickle it. Run the function again to replace it."
        )
    return raw


def load(path: str) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    payload = pickle.loads(verified_payload(path))  # noqa: S301 - hash checked above
    for entry in reversed(payload.get("sys_path") or []):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    if payload.get("pickler") == "cloudpickle":
        try:
            import cloudpickle  # noqa: F401 - needed to unpickle what it pickled
        except ImportError:
            raise RuntimeError(
                "this function was pickled with cloudpickle, which is not installed in "
                f"{sys.executable}: pip install syft_pm[functions]"
            ) from None
    func, args, kwargs = pickle.loads(payload["call"])  # noqa: S301 - see above
    return func, tuple(args), dict(kwargs)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m syft_pm.function_runner <payload>", file=sys.stderr)
        return 2
    try:
        func, fargs, fkwargs = load(args[0])
    except PayloadRejected as e:
        print(f"syft_pm: {e}", file=sys.stderr)
        return 2
    except Exception:  # noqa: BLE001 - report any load failure clearly
        print("syft_pm: cannot load the function to run:", file=sys.stderr)
        traceback.print_exc()
        return 2
    try:
        result = func(*fargs, **fkwargs)
    except SystemExit as e:
        code = e.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:  # noqa: BLE001 - the traceback is the function's output
        traceback.print_exc()
        return 1
    if result is not None:
        print(f"syft_pm: {getattr(func, '__name__', 'function')} returned {result!r}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
