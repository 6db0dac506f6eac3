"""run() until the handle has a live pid vs a bare subprocess.Popen, side by side.

run() validates, takes the per-name lock, writes config/state atomically, starts the
supervisor, which starts the command and reports its pid on a pipe. Median of 30
interleaved starts each; the first (import-warming) start of each is discarded.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syft_pm import procutil
from syft_pm.manager import ProcessManager

N = 30


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-") as d:
        pm = ProcessManager(Path(d) / "home")
        ours, base = [], []
        warm = pm.run("warm", ["sleep", "60"])
        warm.stop()
        subprocess.Popen(["true"]).wait()
        popens = []
        try:
            for i in range(N):
                t0 = time.perf_counter()
                p = subprocess.Popen(["sleep", "60"])
                base.append(time.perf_counter() - t0)
                popens.append(p)
                t0 = time.perf_counter()
                h = pm.run(f"p{i}", ["sleep", "60"])
                pid, ct = h.record.state["pid"], h.record.state["create_time"]
                ours.append(time.perf_counter() - t0)
                assert procutil.is_alive(pid, ct)
        finally:
            for p in popens:
                p.kill()
                p.wait()
            for h in pm.list():
                h.stop()
        o, b = statistics.median(ours) * 1000, statistics.median(base) * 1000
        print(
            json.dumps(
                {
                    "bench": "core.run_until_live_pid",
                    "figure": round(o, 2),
                    "unit": "ms",
                    "baseline": round(b, 3),
                    "ratio": round(o / b, 1),
                    "goal": "< 100 ms (ratio reported)",
                    "p90_ms": round(sorted(ours)[int(N * 0.9)] * 1000, 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
