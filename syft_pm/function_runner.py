"""Run a pickled Python callable: ``python -m syft_pm.function_runner <payload>``.

The payload is written by :func:`syft_pm.manager.ProcessManager.run_function`: a pickled
dict ``{"sys_path": [...], "pickler": "pickle" | "cloudpickle", "call": bytes}``. The
caller's ``sys.path`` is restored first, so a function imported from a module next to
the notebook resolves here too; then ``call`` unpickles to ``(func, args, kwargs)``.

Exit status: 0 when the function returns, 1 when it raises (the traceback goes to
stderr, hence to the process's stderr log), 2 when the payload cannot be loaded.
"""

from __future__ import annotations

import pickle
import sys
import traceback
from typing import Any


def load(path: str) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    with open(path, "rb") as f:
        payload = pickle.load(f)  # noqa: S301 - written by our own run_function
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
