"""Logging overhead: a child printing 1,000,000 lines under syft_pm vs straight to a file.

Same child, same environment (``PYTHONUNBUFFERED=1``, which syft_pm sets by default for
Python children so logs are live), measured side by side: wall time from start until the
process is recorded as finished (under syft_pm: until every line is in the log), against
``subprocess.Popen(..., stdout=file).wait()``. A buffered variant is reported too.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syft_pm.manager import ProcessManager

N = 1_000_000
CHILD = [sys.executable, "-c", f"for i in range({N}): print(i, 'GET /api/items 200 1.2ms')"]


def direct(out: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        subprocess.run(CHILD, stdout=f, stderr=subprocess.STDOUT, env=env, check=True)
    return time.perf_counter() - t0


def managed(pm: ProcessManager, name: str, unbuffered: str) -> float:
    t0 = time.perf_counter()
    logs = {"max_bytes": 1 << 30, "backups": 1}  # no rotation: same single file as the baseline
    h = pm.run(name, CHILD, env={"PYTHONUNBUFFERED": unbuffered}, logs=logs)
    code = h.wait(600)
    elapsed = time.perf_counter() - t0
    assert code == 0
    assert h.stdout.tail(1) == [f"{N - 1} GET /api/items 200 1.2ms"]
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-") as d:
        pm = ProcessManager(Path(d) / "home")
        for label, unbuffered in (("unbuffered", "1"), ("buffered", "0")):
            env = {**os.environ, "PYTHONUNBUFFERED": unbuffered}
            if unbuffered == "0":
                env.pop("PYTHONUNBUFFERED")
            ours, base = [], []
            for i in range(3):  # interleaved, so drift hits both alike
                base.append(direct(Path(d) / "direct.log", env))
                ours.append(managed(pm, f"{label}{i}", unbuffered))
                pm.get(f"{label}{i}").remove()
            o, b = statistics.median(ours), statistics.median(base)
            print(
                json.dumps(
                    {
                        "bench": f"core.logging_1m_lines_{label}",
                        "figure": round(o, 3),
                        "unit": "s",
                        "baseline": round(b, 3),
                        "ratio": round(o / b, 3),
                        "goal": "ratio <= 1.5",
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
