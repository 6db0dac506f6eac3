"""Start and inspect a managed process from a plain Python script (no Jupyter needed).

    python examples/from_a_script.py

The process shows up in every kernel's ``syft_pm.list()``, in ``syft-pm list`` and in the
JupyterLab sidebar, because all of them read the same registry.
"""

from __future__ import annotations

import sys

import syft_pm

if __name__ == "__main__":
    tick = "import time\nwhile True:\n print(time.ctime())\n time.sleep(1)"
    clock = syft_pm.run(
        "clock-from-script",
        [sys.executable, "-u", "-c", tick],
        ttl=120,
    )
    print(clock)
    print("follow it with:  syft-pm logs clock-from-script -f")
