"""The server extension under load: a real ``jupyter server`` with syft_pm enabled.

* ``GET /syft-pm/api/processes`` with 1,000 registered processes (995 finished, 5
  running), median of 20 requests after a warm-up;
* 50 websocket clients connected while a process prints a stamped line every 100 ms:
  latency from the write to each client's receipt (median and p95 over all clients),
  and the longest block of the server's event loop meanwhile, measured by a 10 ms
  ticker running on that loop (``bench/support/loopprobe.py``);
* a snapshot storm: 1,000 processes whose logs hold 10,000 lines each, and 50 clients
  connecting at once, each sent a snapshot (every process, its log tails): the longest
  loop block while those snapshots are built, encoded and written, and how long until
  the last client has its snapshot.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_list import populate  # noqa: E402
from tornado import websocket  # noqa: E402
from tornado.httpclient import HTTPRequest  # noqa: E402

from syft_pm.manager import ProcessManager  # noqa: E402
from tests.server.serverproc import ServerProcess  # noqa: E402

PY = sys.executable
CLIENTS = 50
WINDOW = 10.0


def emit(name: str, figure: float, unit: str, goal: str, baseline: float | None = None) -> None:
    ratio = (baseline / figure) if baseline and figure else None
    print(
        json.dumps(
            {
                "bench": f"server.{name}",
                "figure": round(figure, 3),
                "unit": unit,
                "baseline": None if baseline is None else round(baseline, 3),
                "ratio": ratio,
                "goal": goal,
            }
        ),
        flush=True,
    )


def Server(base: Path, home: Path) -> ServerProcess:
    """A started server with syft_pm and the loop probe (bench/support) enabled."""
    server = ServerProcess(
        base,
        home,
        extensions={"syft_pm": True, "loopprobe": True},
        env={
            "PYTHONPATH": f"{HERE / 'support'}:{os.environ.get('PYTHONPATH', '')}",
            **(
                {"SYFT_PM_BENCH_SLOW_CALLBACK_MS": "15"}
                if os.environ.get("SYFT_PM_BENCH_LOOP_DEBUG")
                else {}
            ),
        },
        args=os.environ.get("SYFT_PM_BENCH_SERVER_ARGS", "").split(),
    )
    server.start()
    return server


def bench_list(base: Path) -> None:
    home = base / "list"
    pm = ProcessManager(home)
    populate(pm)
    server = Server(base, home)
    try:
        first = server.request("/syft-pm/api/processes")
        assert len(first["processes"]) == 1000, len(first["processes"])
        times = []
        for _ in range(20):
            t0 = time.perf_counter()
            server.request("/syft-pm/api/processes")
            times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        pm.list()
        direct = (time.perf_counter() - t0) * 1000
    finally:
        server.stop()
        for h in pm.list():
            if h.record.status in ("running", "starting"):
                h.stop()
    emit("get_processes_1000_median", statistics.median(times), "ms", "<= 100 ms")
    emit("get_processes_1000_max", max(times), "ms", "informative")
    print(f"# ProcessManager.list() in-process, for scale: {direct:.1f} ms", file=sys.stderr)


async def fan_out(server: Server) -> tuple[list[float], int]:
    url = f"ws://127.0.0.1:{server.port}/syft-pm/api/events"
    headers = {"Authorization": f"token {server.token}"}
    conns = [
        await websocket.websocket_connect(HTTPRequest(url, headers=headers)) for _ in range(CLIENTS)
    ]
    latencies: list[float] = []
    received_by = [0] * CLIENTS

    async def reader(i: int, ws: Any) -> None:
        while True:
            raw = await ws.read_message()
            if raw is None:
                return
            now = time.time()
            msg = json.loads(raw)
            if msg["type"] != "delta":
                continue
            for streams in msg["logs"].values():
                for _, text in streams.get("stdout", {}).get("lines", []):
                    if text.startswith("T "):
                        latencies.append((now - float(text[2:])) * 1000)
                        received_by[i] += 1

    tasks = [asyncio.create_task(reader(i, ws)) for i, ws in enumerate(conns)]
    await asyncio.sleep(1.0)  # snapshots delivered
    latencies.clear()
    server.request("/loopprobe", "POST")
    await asyncio.sleep(WINDOW)
    for ws in conns:
        ws.close()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return latencies, min(received_by)


def bench_fan_out(base: Path) -> None:
    home = base / "fan"
    pm = ProcessManager(home)
    ticker = "import time\nwhile True:\n print('T', time.time(), flush=True)\n time.sleep(0.1)"
    server = Server(base, home)
    try:
        h = pm.run("stamp", [PY, "-u", "-c", ticker])
        latencies, least = asyncio.run(fan_out(server))
        probe = server.request("/loopprobe")
    finally:
        server.stop()
        for x in pm.list():
            x.stop()
    del h
    s = sorted(latencies)
    emit("ws_50_clients_line_latency_median", statistics.median(s), "ms", "<= 10 ms")
    emit("ws_50_clients_line_latency_p95", s[int(0.95 * len(s))], "ms", "informative")
    emit("ws_50_clients_loop_block_max", probe["max_lag_ms"], "ms", "<= 50 ms")
    print(
        f"# {len(s)} line deliveries; every client got >= {least} lines in {WINDOW:.0f}s;"
        f" {probe['ticks']} loop ticks",
        file=sys.stderr,
    )


async def storm(server: ServerProcess) -> tuple[float, int]:
    url = f"ws://127.0.0.1:{server.port}/syft-pm/api/events"
    headers = {"Authorization": f"token {server.token}"}
    t0 = time.perf_counter()

    async def one(check: bool) -> int:
        ws = await websocket.websocket_connect(
            HTTPRequest(url, headers=headers), max_message_size=1 << 30
        )
        while True:
            raw = await ws.read_message()
            assert raw is not None, "closed before its snapshot"
            head = raw[:40] if isinstance(raw, str) else raw[:40].decode()
            if '"type":"snapshot"' in head:
                ws.close()
                # One client checks the whole snapshot; parsing fifty 10 MB messages
                # here would take the cores the server under test needs.
                return len(json.loads(raw)["processes"]) if check else 1000

    counts = await asyncio.gather(*(one(i == 0) for i in range(CLIENTS)))
    return (time.perf_counter() - t0) * 1000, min(counts)


def bench_snapshot_storm(base: Path) -> None:
    from syft_pm.logwriter import LogWriter

    home = base / "storm"
    pm = ProcessManager(home)
    populate(pm)
    chunk = b"".join(b"line %05d of a long log\n" % i for i in range(10_000))
    for name in pm.registry.names():
        writer = LogWriter(str(pm.registry.process_dir(name) / "stdout.log"))
        writer.write(chunk)
        writer.close()
    server = Server(base, home)
    try:
        server.request("/syft-pm/api/processes")  # warm: the watcher has seen everything
        server.request("/loopprobe", "POST")
        elapsed, least = asyncio.run(storm(server))
        probe = server.request("/loopprobe")
    finally:
        server.stop()
        if os.environ.get("SYFT_PM_BENCH_LOOP_DEBUG"):
            slow = [ln for ln in server.log.read_text().splitlines() if "took" in ln]
            print("\n".join(slow[-20:]), file=sys.stderr)
        for h in pm.list():
            if h.record.status in ("running", "starting"):
                h.stop()
    assert least == 1000, least
    emit("snapshot_storm_loop_block_max", probe["max_lag_ms"], "ms", "<= 20 ms")
    emit("snapshot_storm_all_delivered", elapsed, "ms", "informative")
    print(
        f"# longest garbage collection meanwhile: {probe['gc_max_ms']:.1f} ms;"
        f" {probe['gc_full_collections']} full collections",
        file=sys.stderr,
    )


def main() -> None:
    wanted = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-srv-") as tmp:
        base = Path(tmp)
        for bench in (bench_list, bench_fan_out, bench_snapshot_storm):
            if not wanted or bench.__name__ in wanted:
                bench(base)


if __name__ == "__main__":
    main()
