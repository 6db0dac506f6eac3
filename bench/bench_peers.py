"""syft_pm against pm2 and supervisord: the same workloads, one run, interleaved.

Run with ``make bench-peers`` (``python bench/bench_peers.py --run``). It installs its
peers itself, in a scratch folder (``$SYFT_PM_PEERS_DIR``, default
``/tmp/syft-pm-bench-peers``, reused by later runs): pm2 with npm (``PM2_HOME`` in the
scratch folder, never ``~/.pm2``) and supervisord with pip in a venv of its own. Without
``--run`` (as ``bench/run.py`` calls every ``bench_*.py``) it only says how to run it:
installing and driving three managers takes a few minutes.

Workloads (issue 12's table), each peer doing it its own usual way:

- ``logs -f``: a ticker prints its own time every 20 ms; the follower (``syft-pm logs
  -f``, ``pm2 logs --raw``, ``supervisorctl tail -f``) reads it from a pipe; latency is
  receipt time minus the printed time, p50 and p95.
- ``list`` with 50 sleeps: ``syft-pm list``, ``pm2 ls``, ``supervisorctl status``, each a
  fresh process (cold start included), median of 5.
- memory for 50 sleeps: the sum of USS of what manages them (syft_pm's 50
  supervisors, pm2's daemon, supervisord).
- start 50 / stop 50: syft_pm through the API (``run()`` from 16 threads,
  ``stop_all()``), the peers through their CLIs (``pm2 start ecosystem.config.js`` /
  ``pm2 stop all``, ``supervisorctl start all`` / ``stop all``, ``startsecs=0``).
- CLI cold start: ``syft-pm logs -n 20``, ``pm2 logs --lines 20 --nostream``,
  ``supervisorctl tail``, median of 7.

Prints one JSON line per figure (``bench/run.py``'s format, with every peer's figure and
``ratio`` = syft_pm / best peer; ``n/a`` where a peer cannot do the thing) and a
Markdown table for the README.
"""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from syft_pm.bulk import stop_all  # noqa: E402
from syft_pm.manager import ProcessManager  # noqa: E402

SCRATCH = Path(os.environ.get("SYFT_PM_PEERS_DIR", "/tmp/syft-pm-bench-peers"))
N = 50
ROUNDS = 2
TICK = 0.02
SAMPLES = 150
PY = sys.executable
SYFT_CLI = (
    [str(Path(PY).parent / "syft-pm")]
    if (Path(PY).parent / "syft-pm").exists()
    else [PY, "-m", "syft_pm.cli"]
)
TICKER = (
    "import time\nwhile True:\n    print(f'tick {time.time():.6f}', flush=True)\n"
    "    time.sleep(%s)\n"
)
TICKER_FILE = SCRATCH / "ticker.py"
STAMP = re.compile(rb"tick (\d{10}\.\d{6})")
NA = "n/a"


def log(msg: str) -> None:
    print(f"# {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 300) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)
    # supervisorctl status exits 3 when some program is not running: still a listing.
    ok = (0, 3) if cmd[-1:] == ["status"] else (0,)
    if r.returncode not in ok:
        raise RuntimeError(f"{' '.join(cmd[:4])}... exited {r.returncode}: {r.stderr[-800:]}")
    return r.stdout


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    run(cmd, env)
    return time.perf_counter() - t0


def uss(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_full_info().uss
        except psutil.Error:
            continue
    return total / 2**20


# -- the three managers ---------------------------------------------------------------------


class Manager:
    name = ""

    env: dict[str, str] | None = None

    def setup(self) -> None:
        raise NotImplementedError

    def start_n(self) -> float:
        raise NotImplementedError

    def stop_n(self) -> float:
        raise NotImplementedError

    def list_cmd(self) -> list[str]:
        raise NotImplementedError

    def manager_pids(self) -> list[int]:
        raise NotImplementedError

    def start_ticker(self) -> None:
        raise NotImplementedError

    def follow_cmd(self) -> list[str]:
        raise NotImplementedError

    def tail_cmd(self) -> list[str]:
        raise NotImplementedError

    def remove_all(self) -> None:
        raise NotImplementedError

    def teardown(self) -> None:
        raise NotImplementedError


class SyftPm(Manager):
    name = "syft_pm"

    def setup(self) -> None:
        self.home = SCRATCH / "syft-home"
        shutil.rmtree(self.home, ignore_errors=True)
        self.pm = ProcessManager(self.home)
        self.pm.registry.ensure()
        self.env = {**os.environ, "SYFT_PM_HOME": str(self.home)}

    def start_n(self) -> float:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: self.pm.run(f"s{i}", ["sleep", "600"]), range(N)))
        return time.perf_counter() - t0

    def stop_n(self) -> float:
        t0 = time.perf_counter()
        stop_all([f"s{i}" for i in range(N)], manager=self.pm)
        return time.perf_counter() - t0

    def list_cmd(self) -> list[str]:
        return [*SYFT_CLI, "--home", str(self.home), "list"]

    def manager_pids(self) -> list[int]:
        """The supervisors, and the fork server they were forked from (counted once)."""
        sups = [int(h.state["supervisor_pid"]) for h in self.pm.list() if h.status == "running"]
        servers = set()
        for pid in sups:
            with contextlib.suppress(psutil.Error):
                parent = psutil.Process(pid).parent()
                if parent is not None and any("syft_pm.forkserver" in c for c in parent.cmdline()):
                    servers.add(parent.pid)
        return sups + sorted(servers)

    def start_ticker(self) -> None:
        self.pm.run("tick", [PY, "-u", str(TICKER_FILE)])

    def follow_cmd(self) -> list[str]:
        return [*SYFT_CLI, "--home", str(self.home), "logs", "-f", "-n", "0", "tick"]

    def tail_cmd(self) -> list[str]:
        return [*SYFT_CLI, "--home", str(self.home), "logs", "-n", "20", "tick"]

    def remove_all(self) -> None:
        stop_all(manager=self.pm)
        for h in self.pm.list():
            h.remove(force=True)

    def teardown(self) -> None:
        self.remove_all()


class Pm2(Manager):
    name = "pm2"

    def setup(self) -> None:
        d = SCRATCH / "pm2"
        self.bin = d / "node_modules" / ".bin" / "pm2"
        if not self.bin.exists():
            log("installing pm2 with npm (once) ...")
            d.mkdir(parents=True, exist_ok=True)
            (d / "package.json").write_text('{"name": "pm2-bench", "private": true}')
            subprocess.run(
                ["npm", "install", "--no-audit", "--no-fund", "pm2"],
                cwd=d,
                check=True,
                capture_output=True,
                timeout=600,
            )
        self.home = SCRATCH / "pm2-home"
        shutil.rmtree(self.home, ignore_errors=True)
        self.env = {**os.environ, "PM2_HOME": str(self.home)}
        self.version = run([str(self.bin), "--version"], self.env).strip().splitlines()[-1]
        run([str(self.bin), "ping"], self.env)  # starts the daemon
        eco = {
            "apps": [
                {
                    "name": f"s{i}",
                    "script": "sleep",
                    "args": "600",
                    "interpreter": "none",
                    "autorestart": False,
                }
                for i in range(N)
            ]
        }
        self.eco = SCRATCH / "ecosystem.config.json"
        self.eco.write_text(json.dumps(eco))

    def pm2(self, *args: str) -> list[str]:
        return [str(self.bin), *args]

    def start_n(self) -> float:
        return timed(self.pm2("start", str(self.eco)), self.env)

    def stop_n(self) -> float:
        return timed(self.pm2("stop", "all"), self.env)

    def list_cmd(self) -> list[str]:
        return self.pm2("ls")

    def manager_pids(self) -> list[int]:
        return [int((self.home / "pm2.pid").read_text().strip())]

    def start_ticker(self) -> None:
        run(
            self.pm2(
                "start", PY, "--name", "tick", "--interpreter", "none", "--", "-u", str(TICKER_FILE)
            ),
            self.env,
        )

    def follow_cmd(self) -> list[str]:
        return self.pm2("logs", "tick", "--raw", "--lines", "0")

    def tail_cmd(self) -> list[str]:
        return self.pm2("logs", "tick", "--lines", "20", "--nostream")

    def remove_all(self) -> None:
        run(self.pm2("delete", "all"), self.env)

    def teardown(self) -> None:
        subprocess.run(self.pm2("kill"), env=self.env, capture_output=True, timeout=60)


class Supervisord(Manager):
    name = "supervisord"

    def setup(self) -> None:
        venv = SCRATCH / "supervisor-venv"
        self.bindir = venv / "bin"
        if not (self.bindir / "supervisord").exists():
            log("installing supervisor with pip into a scratch venv (once) ...")
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            subprocess.run(
                [str(self.bindir / "pip"), "install", "-q", "supervisor"],
                check=True,
                capture_output=True,
                timeout=600,
            )
        self.dir = SCRATCH / "supervisord"
        shutil.rmtree(self.dir, ignore_errors=True)
        (self.dir / "logs").mkdir(parents=True)
        self.conf = self.dir / "supervisord.conf"
        self.sock = self.dir / "supervisor.sock"
        progs = "".join(
            f"\n[program:s{i}]\ncommand=sleep 600\nautostart=false\nautorestart=false\n"
            f"startsecs=0\nstdout_logfile={self.dir}/logs/s{i}.log\nredirect_stderr=true\n"
            for i in range(N)
        )
        self.conf.write_text(
            f"[unix_http_server]\nfile={self.sock}\n\n"
            f"[supervisord]\nlogfile={self.dir}/supervisord.log\npidfile={self.dir}/pid\n"
            f"childlogdir={self.dir}/logs\n\n"
            "[rpcinterface:supervisor]\n"
            "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
            f"[supervisorctl]\nserverurl=unix://{self.sock}\n"
            f"{progs}\n[program:tick]\ncommand={PY} -u {TICKER_FILE}\n"
            "autostart=false\nautorestart=false\nstartsecs=0\n"
            f"stdout_logfile={self.dir}/logs/tick.log\nredirect_stderr=true\n"
        )
        run([str(self.bindir / "supervisord"), "-c", str(self.conf)])
        deadline = time.monotonic() + 30
        while not self.sock.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.version = run([str(self.bindir / "supervisord"), "--version"]).strip()

    def ctl(self, *args: str) -> list[str]:
        return [str(self.bindir / "supervisorctl"), "-c", str(self.conf), *args]

    def start_n(self) -> float:
        return timed(self.ctl("start", *[f"s{i}" for i in range(N)]))

    def stop_n(self) -> float:
        return timed(self.ctl("stop", *[f"s{i}" for i in range(N)]))

    def list_cmd(self) -> list[str]:
        return self.ctl("status")

    def manager_pids(self) -> list[int]:
        return [int((self.dir / "pid").read_text().strip())]

    def start_ticker(self) -> None:
        run(self.ctl("start", "tick"))

    def follow_cmd(self) -> list[str]:
        return self.ctl("tail", "-f", "tick")

    def tail_cmd(self) -> list[str]:
        return self.ctl("tail", "tick")

    def remove_all(self) -> None:
        subprocess.run(self.ctl("stop", "all"), capture_output=True, timeout=120)

    def teardown(self) -> None:
        subprocess.run(self.ctl("shutdown"), capture_output=True, timeout=60)


# -- workloads --------------------------------------------------------------------------------


def follow_latency(m: Manager) -> tuple[float, float]:
    """p50 / p95 in ms from a line's own timestamp to its arrival through the follower."""
    m.start_ticker()
    proc = subprocess.Popen(m.follow_cmd(), stdout=subprocess.PIPE, env=m.env)
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    lat: list[float] = []
    buf = b""
    started = time.time()
    deadline = time.monotonic() + 60
    try:
        while len(lat) < SAMPLES and time.monotonic() < deadline:
            chunk = os.read(fd, 65536)
            now = time.time()
            if not chunk:
                break
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                hit = STAMP.search(line)
                if hit and float(hit.group(1)) > started + 1.0:  # after warm-up
                    lat.append((now - float(hit.group(1))) * 1000)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if len(lat) < 20:
        raise RuntimeError(f"only {len(lat)} lines came through")
    lat.sort()
    return statistics.median(lat), lat[int(len(lat) * 0.95) - 1]


def main() -> int:
    if "--run" not in sys.argv:
        log("bench_peers: skipped (installs pm2 and supervisord; run `make bench-peers`)")
        return 0
    SCRATCH.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    # Byte-compile syft_pm as an installation would (pip compiles on install; the peers'
    # own Python is compiled): with PYTHONDONTWRITEBYTECODE set, every CLI start and
    # every supervisor would otherwise compile our modules from source, every time.
    import syft_pm

    compileall.compile_dir(str(Path(syft_pm.__file__).parent), quiet=1)
    TICKER_FILE.write_text(TICKER % TICK)
    managers: list[Manager] = [SyftPm(), Pm2(), Supervisord()]
    ready: list[Manager] = []
    for m in managers:
        try:
            m.setup()
            ready.append(m)
        except Exception as e:
            log(f"{m.name}: cannot be set up ({e}); its figures are n/a")
    res: dict[str, dict[str, list[float]]] = {m.name: {} for m in managers}

    def add(m: Manager, key: str, value: float) -> None:
        res[m.name].setdefault(key, []).append(value)

    def attempt(m: Manager, what: str, fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception as e:
            log(f"{m.name}: {what} failed: {e}")

    try:
        for rnd in range(ROUNDS):
            for m in ready if rnd % 2 == 0 else list(reversed(ready)):
                log(f"round {rnd + 1}: {m.name}: start {N}, memory, list, stop {N}")

                def fleet(m: Manager = m) -> None:
                    add(m, "start", m.start_n())
                    time.sleep(2)  # let them settle before measuring memory
                    mem = uss(m.manager_pids())
                    add(m, "mem", mem)
                    for _ in range(5):
                        add(m, "list", timed(m.list_cmd(), m.env))
                    add(m, "stop", m.stop_n())

                attempt(m, "fleet", fleet)
                attempt(m, "cleanup", m.remove_all)
        for m in ready:
            log(f"{m.name}: logs -f latency, CLI cold start")

            def follow(m: Manager = m) -> None:
                p50, p95 = follow_latency(m)
                add(m, "follow_p50", p50)
                add(m, "follow_p95", p95)

            attempt(m, "logs -f", follow)
        for _ in range(7):
            for m in ready:

                def cold(m: Manager = m) -> None:
                    add(m, "cold", timed(m.tail_cmd(), m.env))

                attempt(m, "cold start", cold)
        for m in ready:
            attempt(m, "cleanup", m.remove_all)
    finally:
        for m in ready:
            try:
                m.teardown()
            except Exception as e:
                log(f"{m.name}: teardown: {e}")

    rows = [
        ("follow_p50", "logs -f: line -> terminal, p50", "ms", 1, "<= 2 ms"),
        ("follow_p95", "logs -f: line -> terminal, p95", "ms", 1, "<= 5 ms"),
        ("list", f"list with {N} processes, median of 5", "ms", 1000, "<= 150 ms"),
        ("mem", f"manager memory for {N} sleeps (sum of USS)", "MiB", 1, "<= 2.5 MiB each"),
        ("start", f"start {N}", "s", 1, "<= 1.0 s"),
        ("stop", f"stop {N}", "s", 1, "<= 1.0 s"),
        ("cold", "CLI cold start (logs -n 20), median of 7", "ms", 1000, "<= 60 ms"),
    ]
    table = []
    for key, label, unit, scale, goal in rows:
        figures: dict[str, float | None] = {}
        fastest: dict[str, float] = {}  # on a busy machine the best run says more
        for m in managers:
            vals = res[m.name].get(key)
            if vals and key in ("list", "cold"):
                fastest[m.name] = round(min(vals) * scale, 1)
            if not vals:
                figures[m.name] = None
            elif key in ("mem",):
                figures[m.name] = round(statistics.median(vals) * scale, 1)
            elif key in ("start", "stop"):
                figures[m.name] = round(min(vals) * scale, 2)
            else:
                figures[m.name] = round(statistics.median(vals) * scale, 1)
        peers = {k: v for k, v in figures.items() if k != "syft_pm" and v is not None}
        best = min(peers, key=lambda k: peers[k]) if peers else None
        ours = figures["syft_pm"]
        ratio = round(ours / peers[best], 2) if best and ours is not None and peers[best] else None
        print(
            json.dumps(
                {
                    "bench": f"peers.{key}",
                    "figure": ours,
                    "unit": unit,
                    "baseline": peers[best] if best else None,
                    "baseline_is": best,
                    "ratio": ratio,
                    "goal": goal,
                    **{k: (v if v is not None else NA) for k, v in figures.items()},
                    **{f"{k}_best": v for k, v in fastest.items()},
                }
            ),
            flush=True,
        )
        per = f" ({ours / N:.2f} per supervisor)" if key == "mem" and ours is not None else ""

        def shown(
            name: str,
            figures: dict[str, float | None] = figures,
            fastest: dict[str, float] = fastest,
            per: str = per,
        ) -> str:
            v = figures[name]
            if v is None:
                return NA
            extra = f" (best {fastest[name]})" if name in fastest else ""
            return f"{v}{extra}{per if name == 'syft_pm' else ''}"

        table.append(
            [
                label,
                *(shown(m.name) for m in managers),
                f"{ratio} ({best})" if ratio is not None else NA,
                goal,
            ]
        )
    versions = [
        f"pm2 {getattr(managers[1], 'version', '?')}",
        f"supervisord {getattr(managers[2], 'version', '?')}",
    ]
    cpu = platform.processor() or platform.machine()
    print()
    print(
        f"Machine: {os.cpu_count()} cores ({cpu}), Linux {platform.release()}, Python "
        f"{platform.python_version()}, {', '.join(versions)}; load average during the run "
        f"{load_before:.1f} -> {os.getloadavg()[0]:.1f}; `make bench-peers`."
    )
    print()
    print("| figure | syft_pm | pm2 | supervisord | syft_pm / best peer | goal |")
    print("|---|---|---|---|---|---|")
    for row in table:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
