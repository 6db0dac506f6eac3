"""Live state over the kernel comm, side by side with the earlier package's approach.

The baseline is what the earlier package did, run in the same kind of kernel: a thread
that every second re-reads each whole log file and sends its last 20 lines.

Figures (a real kernel through jupyter_client, real processes):
* latency from a line written by a process to the delta received by the client;
* kernel CPU and bytes sent per idle minute with one subscriber over 50 idle processes;
* a flood of 100,000 lines/s for 10 s: kernel memory growth, messages per second, and
  how fast a cell executed meanwhile answers.
"""

from __future__ import annotations

import json
import os
import queue
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jupyter_client.manager import KernelManager

from syft_pm.manager import ProcessManager

PY = sys.executable
IDLE_WINDOW = float(os.environ.get("SYFT_PM_BENCH_IDLE_SECONDS", "60"))

# The earlier package's live view, as kernel code: poll every second, read whole files.
BASELINE = """
import threading, time
from pathlib import Path
from comm import create_comm
_c = create_comm(target_name='baseline', data={})
def _poll(dirs):
    while True:
        payload = {}
        for d in dirs:
            for s in ('stdout', 'stderr'):
                p = Path(d) / f'{s}.log'
                text = p.read_text(errors='replace') if p.exists() else ''
                # our files stamp each line (25 bytes); the old package's did not
                payload[f'{d}:{s}'] = [l[25:] for l in text.splitlines()[-20:]]
        _c.send({'logs': payload, 'time': time.time()})
        time.sleep(1.0)
threading.Thread(target=_poll, args=(DIRS,), daemon=True).start()
"""


def emit(name: str, figure: float, unit: str, goal: str, baseline: float | None = None) -> None:
    ratio = (baseline / figure) if baseline and figure else None
    row = {"bench": f"comm.{name}", "figure": round(figure, 3), "unit": unit}
    row.update(baseline=None if baseline is None else round(baseline, 3), ratio=ratio, goal=goal)
    print(json.dumps(row), flush=True)


class Kernel:
    def __init__(self, home: Path) -> None:
        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env={**os.environ, "SYFT_PM_HOME": str(home)})
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.execute("import syft_pm")

    @property
    def process(self) -> psutil.Process:
        return psutil.Process(self.km.provisioner.pid)  # type: ignore[union-attr]

    def execute(self, code: str) -> float:
        t0 = time.perf_counter()
        reply = self.kc.execute_interactive(code, timeout=60, output_hook=lambda m: None)
        assert reply["content"]["status"] == "ok", reply["content"]
        return time.perf_counter() - t0

    def open_comm(self, data: dict[str, Any]) -> str:
        cid = uuid.uuid4().hex
        msg = self.kc.session.msg(
            "comm_open", {"comm_id": cid, "target_name": "syft_pm", "data": data}
        )
        self.kc.shell_channel.send(msg)
        return cid

    def iopub(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.kc.get_iopub_msg(timeout=timeout)  # type: ignore[no-any-return]
        except queue.Empty:
            return None

    def comm_messages(self, seconds: float) -> list[tuple[float, dict[str, Any], int]]:
        """(receive time, data, size in bytes) of every comm message for ``seconds``."""
        out = []
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            msg = self.iopub(min(left, 0.2))
            if msg and msg["header"]["msg_type"] == "comm_msg":
                data = msg["content"]["data"]
                out.append((time.time(), data, len(json.dumps(data))))
        return out

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


def stamped_line_latencies(messages: list[tuple[float, dict[str, Any], int]]) -> list[float]:
    """Latency of every ``T <epoch>`` line, counted once, at its first arrival."""
    seen: dict[str, float] = {}
    for received, data, _ in messages:
        texts: list[str] = []
        if data.get("type") in ("delta", "snapshot"):
            for streams in data.get("logs", {}).values():
                for chunk in streams.values():
                    texts.extend(t for _, t in chunk["lines"])
        elif "logs" in data:  # baseline
            for lines in data["logs"].values():
                texts.extend(lines)
        for t in texts:
            if t.startswith("T ") and t not in seen:
                seen[t] = received - float(t[2:])
    return [v * 1000 for v in seen.values()]


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def bench_latency(base: Path) -> None:
    ticker = "import time\nwhile True:\n print('T', time.time(), flush=True)\n time.sleep(0.05)"
    results = {}
    for mode in ("syft_pm", "baseline"):
        home = base / mode / "lat"
        pm = ProcessManager(home)
        h = pm.run("stamp", [PY, "-u", "-c", ticker])
        k = Kernel(home)
        try:
            if mode == "syft_pm":
                k.open_comm({"names": ["stamp"], "log_lines": 0})
            else:
                k.execute(BASELINE.replace("DIRS", repr([str(h.directory)])))
            results[mode] = stamped_line_latencies(k.comm_messages(10.0))
        finally:
            k.close()
            h.stop()
    ours, theirs = results["syft_pm"], results["baseline"]
    emit(
        "line_to_delta_median", statistics.median(ours), "ms", "<= 10 ms", statistics.median(theirs)
    )
    emit("line_to_delta_p95", pct(ours, 0.95), "ms", "<= 25 ms", pct(theirs, 0.95))


def bench_idle(base: Path) -> None:
    results = {}
    for mode, window in (("syft_pm", IDLE_WINDOW), ("baseline", min(IDLE_WINDOW, 20.0))):
        home = base / mode / "idle"
        pm = ProcessManager(home)
        handles = [pm.run(f"idle-{i:02d}", ["sleep", "600"]) for i in range(50)]
        k = Kernel(home)
        try:
            if mode == "syft_pm":
                k.open_comm({})
            else:
                k.execute(BASELINE.replace("DIRS", repr([str(h.directory) for h in handles])))
            k.comm_messages(3.0)  # settle: snapshot, first metrics
            proc = k.process
            cpu0 = proc.cpu_times()
            t0 = time.monotonic()
            msgs = k.comm_messages(window)
            elapsed = time.monotonic() - t0
            cpu1 = proc.cpu_times()
            cpu = (cpu1.user + cpu1.system - cpu0.user - cpu0.system) / elapsed * 100
            per_min = sum(size for _, _, size in msgs) * 60 / elapsed
            results[mode] = (cpu, per_min, len(msgs), elapsed)
        finally:
            k.close()
            for h in handles:
                h.stop()
    (c, b, n, e), (bc, bb, _, be) = results["syft_pm"], results["baseline"]
    emit("idle_kernel_cpu_50_procs", c, "% of a core", "<= 0.5 %", bc)
    emit("idle_bytes_per_minute", b, "bytes", "<= 1024 bytes", bb)
    print(
        f"# idle windows: syft_pm {e:.0f}s ({n} messages), baseline {be:.0f}s",
        file=sys.stderr,
    )


def bench_flood(base: Path) -> None:
    home = base / "flood"
    pm = ProcessManager(home)
    flood = (
        "import sys, time\n"
        "line = b'x' * 40 + b'\\n'\n"
        "end = time.time() + 10\n"
        "while time.time() < end:\n"
        "    t = time.time()\n"
        "    sys.stdout.buffer.write(line * 1000)\n"
        "    sys.stdout.buffer.flush()\n"
        "    d = 0.01 - (time.time() - t)\n"
        "    if d > 0: time.sleep(d)\n"
    )
    k = Kernel(home)
    try:
        k.open_comm({})
        k.comm_messages(1.0)
        rss0 = k.process.memory_info().rss
        peak = rss0
        h = pm.run("flood", [PY, "-c", flood], logs={"max_bytes": 50 << 20, "backups": 2})
        t0 = time.monotonic()
        count = 0
        cells: list[float] = []
        while time.monotonic() - t0 < 10:
            count += len(k.comm_messages(0.5))
            # A cell run while the flood goes on; its reply time is what a user feels.
            cells.append(k.execute("1 + 1") * 1000)
            peak = max(peak, k.process.memory_info().rss)
        elapsed = time.monotonic() - t0
        h.wait(timeout=30)
    finally:
        k.close()
        for h in pm.list():
            h.stop()
    emit("flood_kernel_memory_growth", (peak - rss0) / 2**20, "MiB", "<= 50 MiB")
    emit("flood_messages_per_second", count / elapsed, "msg/s", "<= 20 msg/s")
    emit("flood_cell_reply_max", max(cells), "ms", "<= 100 ms")
    emit("flood_cell_reply_median", statistics.median(cells), "ms", "informative")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-") as tmp:
        base = Path(tmp)
        bench_latency(base)
        bench_idle(base)
        bench_flood(base)


if __name__ == "__main__":
    main()
