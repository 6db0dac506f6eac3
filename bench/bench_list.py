"""list() over 1,000 registered processes (995 stopped, 5 really running).

The stopped entries are written directly as a finished supervisor leaves them
(config.json, state.json, empty logs); the running ones are started with run().
Baseline: just reading and parsing the same 2,000 JSON files, the floor any listing pays.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from syft_pm.manager import ProcessManager
from syft_pm.registry import atomic_write_json
from syft_pm.spec import build_config, fingerprint

TOTAL = 1000
RUNNING = 5


def populate(pm: ProcessManager) -> None:
    pm.registry.ensure()
    now = time.time()
    for i in range(TOTAL - RUNNING):
        name = f"job-{i:04d}"
        d = pm.registry.process_dir(name)
        d.mkdir(mode=0o700)
        cfg = build_config(name, ["sleep", "1"], labels={"batch": str(i % 7)})
        cfg["fingerprint"] = fingerprint(cfg)
        cfg["run_id"] = uuid.uuid4().hex
        atomic_write_json(d / "config.json", cfg)
        atomic_write_json(
            d / "state.json",
            {
                "schema": 1,
                "run_id": cfg["run_id"],
                "status": "stopped" if i % 3 else "exited",
                "reason": None,
                "pid": 100000 + i,
                "create_time": now - 3600,
                "supervisor_pid": 200000 + i,
                "supervisor_create_time": now - 3600,
                "exit_code": 0,
                "signal": None,
                "restarts": 0,
                "started_at": now - 3600,
                "ended_at": now - 1800,
                "updated_at": now - 1800,
                "stop_reason": "requested" if i % 3 else None,
                "next_restart_at": None,
            },
        )
        (d / "stdout.log").touch()
        (d / "stderr.log").touch()
    for i in range(RUNNING):
        pm.run(f"live-{i}", ["sleep", "120"])


def raw_read(pm: ProcessManager) -> None:
    for d in pm.registry.processes_dir.iterdir():
        json.loads((d / "config.json").read_bytes())
        json.loads((d / "state.json").read_bytes())


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-") as d:
        pm = ProcessManager(Path(d) / "home")
        try:
            populate(pm)
            assert len(pm.list()) == TOTAL
            ours, base = [], []
            for _ in range(7):
                t0 = time.perf_counter()
                handles = pm.list()
                ours.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                raw_read(pm)
                base.append(time.perf_counter() - t0)
            assert sum(h.record.status == "running" for h in handles) == RUNNING
        finally:
            for i in range(RUNNING):
                pm.get(f"live-{i}").stop()
        o, b = statistics.median(ours) * 1000, statistics.median(base) * 1000
        print(
            json.dumps(
                {
                    "bench": "core.list_1000",
                    "figure": round(o, 1),
                    "unit": "ms",
                    "baseline": round(b, 1),
                    "ratio": round(o / b, 2),
                    "goal": "< 200 ms",
                    "baseline_is": "json.loads of the 2,000 config/state files",
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
