"""Run every ``bench/bench_*.py`` and print one table of figures, baselines and ratios.

Each benchmark script prints JSON lines ``{"bench", "figure", "unit", "baseline",
"ratio", "goal"}`` (other output is passed through to stderr). Benchmarks measure the
candidate and its baseline side by side in the same run, so a ratio means something on
whatever machine runs it. Usage: ``python bench/run.py [substring ...]``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def main() -> int:
    wanted = sys.argv[1:]
    scripts = sorted(
        p for p in HERE.glob("bench_*.py") if not wanted or any(w in p.name for w in wanted)
    )
    rows: list[dict[str, object]] = []
    failed: list[str] = []
    for script in scripts:
        t0 = time.monotonic()
        print(f"# {script.name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, check=False
        )
        for line in proc.stdout.splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                print(line, file=sys.stderr)
                continue
            if isinstance(row, dict) and "bench" in row:
                rows.append(row)
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr[-4000:], file=sys.stderr)
        print(f"#   {time.monotonic() - t0:.1f}s", file=sys.stderr)
    headers = ["bench", "figure", "unit", "baseline", "ratio", "goal"]
    table = [[fmt(r.get(h)) for h in headers] for r in rows]
    widths = [max([len(h)] + [len(t[i]) for t in table]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False)))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(c.ljust(w) for c, w in zip(t, widths, strict=False)))
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
