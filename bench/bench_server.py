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
  the last client has its snapshot. The clients are lean (see ``_raw_snapshot``), so
  the figure is the server's, not the CPU the clients take from it on two cores;
* a resync storm: the same 50 clients, already connected, ask for a fresh snapshot at
  once: the snapshots without the handshakes;
* the snapshot storm against an empty registry: the handshakes alone, the floor under
  it; and 50 upgrades to jupyter_server's own events websocket, the floor of any route.

Each storm runs twice, on a fresh server each time (see :data:`ARMS`): with the clients
at nice 19, standing for browsers elsewhere (the figure held to the goal), and with them
at the server's priority on the same two cores (``..._same_cores``, informative).
``SYFT_PM_BENCH_NICE=19`` (or ``0``) runs one arm only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from bench_list import populate  # noqa: E402
from tornado import websocket  # noqa: E402
from tornado.httpclient import HTTPRequest  # noqa: E402

from syft_pm.manager import ProcessManager  # noqa: E402
from tests.server.serverproc import ServerProcess  # noqa: E402

PY = sys.executable
T = TypeVar("T")
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
    settle(server)
    return server


def settle(server: ServerProcess, quiet_ms: float = 30.0, window: float = 0.5) -> None:
    """Wait until the server has finished starting: less than ``quiet_ms`` of CPU over
    ``window`` seconds. Other extensions work in threads for seconds after start-up
    (jupyter_lsp looks for language servers: subprocesses, entry points, a walk of
    node_modules), and a measurement taken meanwhile measured them. The loop probe's own
    10 ms ticker takes about 20 ms of CPU per window: the threshold is above it (it was
    below, and every run waited the full minute)."""
    assert server.proc is not None
    tick = os.sysconf("SC_CLK_TCK")

    def cpu_ms() -> float:
        with open(f"/proc/{server.proc.pid}/stat") as f:  # type: ignore[union-attr]
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1000 / tick

    deadline = time.monotonic() + 60
    last = cpu_ms()
    while time.monotonic() < deadline:
        time.sleep(window)
        now = cpu_ms()
        if now - last < quiet_ms:
            return
        last = now
    print("# the server never settled; measuring anyway", file=sys.stderr)


def diagnostics(server: ServerProcess) -> None:
    """What the debug switches collected in the server's log (see ``Server``)."""
    text = server.log.read_text()
    if os.environ.get("SYFT_PM_BENCH_LOOP_DEBUG"):
        slow = [ln for ln in text.splitlines() if "took" in ln]
        print("\n".join(slow[-20:]), file=sys.stderr)
    if os.environ.get("SYFT_PM_BENCH_STALLS") and "STALL" in text:
        print(text[text.find("STALL") :][-20000:], file=sys.stderr)
    if os.environ.get("SYFT_PM_BENCH_ITERATIONS"):
        print("\n".join(ln for ln in text.splitlines() if "ITER" in ln), file=sys.stderr)
    if os.environ.get("SYFT_PM_BENCH_PROFILE") and "PROFILE" in text:
        print(text[text.rfind("PROFILE") :][:12000], file=sys.stderr)


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


@contextlib.contextmanager
def _upgraded(server: ServerProcess, path: str) -> Iterator[Any]:
    """A socket on which the websocket handshake for ``path`` was done by hand (and not a
    byte more was read)."""
    import base64
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=120) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                f"Authorization: token {server.token}\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096, socket.MSG_PEEK)
            assert chunk, "closed during the handshake"
            end = (head + chunk).find(b"\r\n\r\n")
            take = len(chunk) if end < 0 else end + 4 - len(head)
            head += sock.recv(take)
        assert head.startswith(b"HTTP/1.1 101"), head[:200]
        yield sock


#: Where a storm's 50 clients stand, as (figure suffix, nice): elsewhere, at nice 19 on
#: these cores (they get only the CPU the server leaves idle, as browsers on other
#: machines take none of its), and on the same two cores at the server's priority, where
#: fifty threads woken by its writes preempt its loop (the stall sampler finds the loop
#: inside send(), read() and close() then) and the figure measures the OS scheduler.
ARMS = (("", 19), ("_same_cores", 0))


def at_nice(nice: int) -> Callable[[], None]:
    """A thread-pool initializer that runs each client thread at ``nice``."""

    def init() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)

    return init


def arms(
    base: Path, home: Path, run: Callable[[ServerProcess, int], T]
) -> Iterator[tuple[str, T, Any]]:
    """``run(server, nice)`` once per arm of :data:`ARMS`, each on a server of its own
    (a second storm on the same server would find the first one's snapshot body
    encoded), after a warm-up and once the server settled: (suffix, what ``run``
    returned, the loop probe over the run)."""
    only = os.environ.get("SYFT_PM_BENCH_NICE")  # one arm, for diagnostics
    for suffix, nice in ARMS:
        if only is not None and int(only) != nice:
            continue
        server = Server(base, home)
        try:
            server.request("/syft-pm/api/processes")  # warm: the watcher has seen all
            settle(server)
            server.request("/loopprobe", "POST")
            result = run(server, nice)
            probe = server.request("/loopprobe")
        finally:
            server.stop()
            diagnostics(server)
        yield suffix, result, probe


def _raw_snapshot(server: ServerProcess, check: bool) -> int:
    """One client that costs the machine almost nothing: the websocket handshake by hand,
    then the first message's frames received with ``MSG_WAITALL`` into a scratch buffer
    (no Python per chunk), unparsed but by one client. Fifty tornado clients decoding
    10 MB each took more CPU than the server they measured, and on two cores that CPU
    was taken from the server's loop; real clients are browsers, mostly elsewhere."""
    with _upgraded(server, "/syft-pm/api/events") as sock:
        return _raw_message(sock, check, kind="snapshot")


def _raw_message(sock: Any, check: bool, kind: str) -> int:
    """Receive messages until one of type ``kind`` (a text frame, then continuations
    until FIN; pings may come between) and return how many processes it lists (1,000,
    unparsed, unless ``check``)."""
    import socket

    scratch = memoryview(bytearray(1 << 20))

    def exactly(n: int, keep: bool = True) -> bytes:
        """``n`` bytes from the socket; kept, or received into scratch and dropped."""
        out = bytearray(n) if keep else None
        got = 0
        while got < n:
            into = memoryview(out)[got:] if out is not None else scratch[: n - got]
            k = sock.recv_into(into, len(into), socket.MSG_WAITALL)
            assert k, f"closed before the {kind}"
            got += k
        return bytes(out) if out is not None else b""

    prefix = b'{"type":"%s"' % kind.encode()
    while True:
        start = b""
        kept: list[bytes] = []
        fin = False
        while not fin:
            b0, b1 = exactly(2)
            assert not b1 & 0x80, "a server's frames are not masked"
            n = b1 & 0x7F
            if n >= 126:
                n = int.from_bytes(exactly(2 if n == 126 else 8), "big")
            opcode = b0 & 0x0F
            if opcode >= 0x8:  # a control frame between fragments
                exactly(n)
                continue
            fin = bool(b0 & 0x80)
            first = exactly(min(n, 80))
            start = start or first
            rest = exactly(n - len(first), keep=check or not start.startswith(prefix))
            kept += [first, rest]
        if start.startswith(prefix):
            return len(json.loads(b"".join(kept))["processes"]) if check else 1000
        assert b'"type":"error"' not in start, b"".join(kept)[:300]


def _send_text(sock: Any, text: str) -> None:
    """One masked text frame, as a client sends it (RFC 6455, 5.3)."""
    payload = text.encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)


def storm(server: ServerProcess, nice: int) -> tuple[float, int]:
    """50 clients connect at once, each until it has its snapshot: (ms until the last
    had it, the fewest processes one listed)."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS, initializer=at_nice(nice)) as pool:
        counts = list(pool.map(lambda i: _raw_snapshot(server, i == 0), range(CLIENTS)))
    return (time.perf_counter() - t0) * 1000, min(counts)


def storm_home(base: Path) -> Path:
    """1,000 registered processes (see ``bench_list.populate``) whose logs hold 10,000
    lines each."""
    from syft_pm.logwriter import LogWriter

    home = base / "storm"
    if (home / "registry.json").exists():
        return home
    pm = ProcessManager(home)
    populate(pm)
    chunk = b"".join(b"line %05d of a long log\n" % i for i in range(10_000))
    for name in pm.registry.names():
        writer = LogWriter(str(pm.registry.process_dir(name) / "stdout.log"))
        writer.write(chunk)
        writer.close()
    return home


def stop_all(home: Path) -> None:
    for h in ProcessManager(home).list():
        if h.record.status in ("running", "starting"):
            h.stop()


def storm_figures(base: Path, name: str, run: Callable[[ServerProcess, int], Any]) -> None:
    """Run a storm of 50 clients on the 1,000-process registry in both arms (``run``
    returns ms until the last client had its snapshot, and the fewest processes one
    listed) and print its figures."""
    home = storm_home(base)
    try:
        for suffix, (elapsed, least), probe in arms(base, home, run):
            assert least == 1000, least
            goal = "<= 20 ms" if not suffix else "informative"
            emit(f"{name}{suffix}_loop_block_max", probe["max_lag_ms"], "ms", goal)
            emit(f"{name}{suffix}_all_delivered", elapsed, "ms", "informative")
            print(
                f"# longest garbage collection meanwhile: {probe['gc_max_ms']:.1f} ms;"
                f" {probe['gc_full_collections']} full collections",
                file=sys.stderr,
            )
    finally:
        stop_all(home)


def bench_snapshot_storm(base: Path) -> None:
    storm_figures(base, "snapshot_storm", storm)


def resyncs(server: ServerProcess, nice: int) -> tuple[float, int]:
    """50 clients connect, one after another, each until it has its snapshot; then all
    ask for a fresh one at once: (ms until the last had it, the fewest processes one
    listed)."""
    with contextlib.ExitStack() as stack:
        socks = []
        for _ in range(CLIENTS):
            sock = stack.enter_context(_upgraded(server, "/syft-pm/api/events"))
            _raw_message(sock, False, "snapshot")
            socks.append(sock)
        settle(server)
        server.request("/loopprobe", "POST")  # the window: the resyncs only
        barrier = threading.Barrier(CLIENTS)

        def resync(i: int) -> int:
            barrier.wait()
            _send_text(socks[i], '{"type":"resync"}')
            return _raw_message(socks[i], i == 0, "snapshot")

        t0 = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS, initializer=at_nice(nice)) as pool:
            least = min(pool.map(resync, range(CLIENTS)))
        return (time.perf_counter() - t0) * 1000, least


def bench_resync_storm(base: Path) -> None:
    """The snapshots without the handshakes: 50 clients already connected to the same
    1,000 processes ask for a fresh snapshot at once (``resync``, what a view sends when
    it sees a gap): the longest loop block while those snapshots are built, encoded and
    written, and how long until the last client has its own."""
    storm_figures(base, "resync_storm", resyncs)


def bench_handshake_storm(base: Path) -> None:
    """The same 50 clients at once, against an empty registry: what the handshakes alone
    (jupyter_server's auth, the upgrade, one loop iteration for all that arrive together)
    cost the loop, with no snapshot to build. The floor under the storm's figure."""
    home = base / "empty"
    ProcessManager(home).registry.ensure()
    for suffix, _, probe in arms(base, home, storm):
        goal = "informative (the floor)"
        emit(f"handshake_storm{suffix}_loop_block_max", probe["max_lag_ms"], "ms", goal)


def bench_jupyter_upgrade_storm(base: Path) -> None:
    """50 websocket upgrades at once to jupyter_server's own events websocket
    (``/api/events/subscribe``, which sends nothing): the floor of any websocket route of
    this server on this machine, syft_pm's or not."""
    home = base / "empty-jupyter"
    ProcessManager(home).registry.ensure()

    def upgrades(server: ServerProcess, nice: int) -> None:
        def upgrade(_: int) -> None:
            with _upgraded(server, "/api/events/subscribe"):
                pass

        with ThreadPoolExecutor(CLIENTS, initializer=at_nice(nice)) as pool:
            list(pool.map(upgrade, range(CLIENTS)))

    for suffix, _, probe in arms(base, home, upgrades):
        goal = "informative"
        emit(f"jupyter_upgrade_storm{suffix}_loop_block_max", probe["max_lag_ms"], "ms", goal)


def main() -> None:
    wanted = sys.argv[1:]
    with tempfile.TemporaryDirectory(prefix="syft-pm-bench-srv-") as tmp:
        base = Path(tmp)
        benches = (
            bench_list,
            bench_fan_out,
            bench_jupyter_upgrade_storm,
            bench_handshake_storm,
            bench_snapshot_storm,
            bench_resync_storm,
        )
        for bench in benches:
            if not wanted or bench.__name__ in wanted:
                bench(base)


if __name__ == "__main__":
    main()
