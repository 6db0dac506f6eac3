"""A progress bar that never prints a newline: disk kept, and tail(20), under syft_pm.

A child writes 50 MiB of ``\\rprogress N`` (what tqdm does for hours) with
``logs={"max_bytes": 1 MiB, "backups": 2}``. Before the fix this was one line growing
without bound: it never rotated, and every reader joined it whole. Measured here:

- the bytes kept on disk for stdout after the run (goal <= 3.5 MiB), against the bytes
  the child wrote (the baseline: what an unrotated log keeps);
- ``tail(20)`` on what is kept (goal < 5 ms, median of 200), against reading the kept
  files whole and taking the last state of the bar (the baseline).

Prints JSON lines for bench/run.py.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syft_pm.manager import ProcessManager

TOTAL = 50 << 20
CHILD = f"""
import sys
out = sys.stdout.buffer
written, i = 0, 0
while written < {TOTAL}:
    block = b"".join(b"\\rprogress %d" % j for j in range(i, i + 5000))
    out.write(block)
    out.flush()
    written += len(block)
    i += 5000
print(f"\\rprogress {{i - 1}}", end="", flush=True)
"""


def whole_read_tail(paths: list[str]) -> str:
    data = b"".join(Path(p).read_bytes() for p in reversed(paths))
    return data.rsplit(b"\r", 1)[-1].decode()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-") as d:
        pm = ProcessManager(Path(d) / "home")
        t0 = time.perf_counter()
        h = pm.run("bar", [sys.executable, "-c", CHILD], logs={"max_bytes": 1 << 20, "backups": 2})
        assert h.wait(600) == 0
        run_s = time.perf_counter() - t0
        paths = h.stdout.paths()
        kept = sum(Path(p).stat().st_size for p in paths)
        last = h.stdout.tail(1)
        assert len(last) == 1 and last[0].startswith("progress "), last
        runs = []
        for _ in range(200):
            t1 = time.perf_counter()
            lines = h.stdout.tail(20)
            runs.append(time.perf_counter() - t1)
        ours = statistics.median(runs) * 1000
        base_runs = []
        for _ in range(5):
            t1 = time.perf_counter()
            expected = whole_read_tail(paths)
            base_runs.append(time.perf_counter() - t1)
        base = min(base_runs) * 1000
        assert lines[-1] == expected, (lines[-1], expected)
    print(
        json.dumps(
            {
                "bench": "core.tqdm_50mib_disk",
                "figure": round(kept / (1 << 20), 3),
                "unit": "MiB",
                "baseline": round(TOTAL / (1 << 20), 1),
                "ratio": round(TOTAL / kept, 1),
                "goal": "<= 3.5 MiB",
                "files": len(paths),
                "run_seconds": round(run_s, 2),
                "baseline_is": "bytes the child wrote (an unrotated log keeps them all)",
            }
        ),
        flush=True,
    )
    print(
        json.dumps(
            {
                "bench": "core.tqdm_tail20",
                "figure": round(ours, 3),
                "unit": "ms",
                "baseline": round(base, 2),
                "ratio": round(base / ours, 1),
                "goal": "< 5 ms",
                "lines": len(lines),
                "baseline_is": "read the kept files whole, last state of the bar (best of 5)",
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
