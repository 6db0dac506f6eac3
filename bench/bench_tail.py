"""tail(20) on a 1 GB log vs reading the whole file (what the earlier package did).

Builds a 1 GiB stamped log in a temporary directory (deleted afterwards), then times
``LogStream.tail(20)`` against ``read().splitlines()[-20:]`` in the same run, warm cache
for both. Prints JSON lines for bench/run.py.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syft_pm.logs import LogStream
from syft_pm.logwriter import LogWriter

SIZE = 1 << 30


def build(path: Path) -> int:
    w = LogWriter(str(path), max_bytes=SIZE * 2, backups=1)
    block = b"".join(
        b"GET /api/v1/items/%d?page=3 200 12.3ms user=alice agent=python-requests/2.31\n" % i
        for i in range(12000)
    )
    written = 0
    while written < SIZE:
        w.write(block)
        written = path.stat().st_size
    w.close()
    return written


def whole_file_tail(path: Path, n: int) -> list[str]:
    with open(path, errors="replace") as f:
        return f.read().splitlines()[-n:]


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-") as d:
        path = Path(d) / "stdout.log"
        size = build(path)
        stream = LogStream(path, backups=1)
        stream.tail(20)  # warm
        runs = []
        for _ in range(200):
            t0 = time.perf_counter()
            lines = stream.tail(20)
            runs.append(time.perf_counter() - t0)
        ours = statistics.median(runs) * 1000
        base_runs = []
        for _ in range(2):
            t0 = time.perf_counter()
            expected = whole_file_tail(path, 20)
            base_runs.append(time.perf_counter() - t0)
        base = min(base_runs) * 1000
        assert [ln[25:] for ln in expected] == lines, "tail disagrees with the whole-file read"
    print(
        json.dumps(
            {
                "bench": "core.tail_1gb",
                "figure": round(ours, 3),
                "unit": "ms",
                "baseline": round(base, 1),
                "ratio": round(base / ours, 1),
                "goal": "<= 5 ms and >= 1000x",
                "file_bytes": size,
                "baseline_is": "read().splitlines()[-20:] (best of 2)",
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
