"""The Processes sidebar in a real JupyterLab and chromium (the browser test harness).

* status latency: a process's ``state.json`` changes (written here, atomically, like the
  supervisor does) -> the row's ``data-status`` changes in the page; the page notes the
  time with a MutationObserver, both clocks are this machine's; median of 25 changes;
* first full render of 1,000 processes: the registry holds 1,000 entries (cloned from a
  real one on disk); the page is reloaded with the sidebar open; from the websocket
  snapshot's arrival to the frame after the 1,000th row is in the list;
* a process printing 1,000 lines/s into an open log view: the longest main-thread task
  (PerformanceObserver ``longtask``, which reports tasks of 50 ms and more; 0 when there
  is none) and the longest gap between animation frames, over 10 s.

Prints JSON lines for ``bench/run.py``. Takes about a minute and a half.

``SYFT_PM_BENCH_SIDEBAR=flood`` runs only the log flood (the 1,000 entries are still
there: the sidebar lists them while the log view floods), about 30 s; without the page
reload and the status changes before it, a full garbage collection seldom falls in its
window, so keep the whole run for figures.
``SYFT_PM_BENCH_TRACE=FILE`` writes a Chromium performance trace (Chrome's JSON trace
format; open it in the DevTools Performance panel or https://ui.perfetto.dev) of the
flood's measured window, with a CPU profile: to find what a long task was. Tracing slows
the page, so the figures of a traced run are not the bench's.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from syft_pm.manager import ProcessManager  # noqa: E402
from syft_pm.registry import atomic_write_json  # noqa: E402
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, Lab, LabServer  # noqa: E402

PY = sys.executable
FLEET = 1000
CHANGES = 25
FLOOD_SECONDS = 10.0
SIDEBAR = "#syft-pm-sidebar"
ONLY = os.environ.get("SYFT_PM_BENCH_SIDEBAR", "")
TRACE = os.environ.get("SYFT_PM_BENCH_TRACE", "")
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "disabled-by-default-devtools.timeline.frame",
    "disabled-by-default-v8.cpu_profiler",
    "disabled-by-default-v8.gc",
    "blink.user_timing",
    "toplevel",
    "v8.execute",
]

# Notes when the sidebar's websocket delivers its first snapshot, before the app sees it.
INIT_SCRIPT = """
(() => {
  const Native = window.WebSocket;
  window.__bench = { snapT: null };
  class BenchSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      const u = String(url);
      if (u.includes('/syft-pm/api/events') && !u.includes('name=')) {
        this.addEventListener('message', ev => {
          if (window.__bench.snapT === null && typeof ev.data === 'string'
              && ev.data.slice(0, 40).includes('"snapshot"')) {
            window.__bench.snapT = performance.now();
          }
        });
      }
    }
  }
  window.WebSocket = BenchSocket;
})();
"""


def emit(bench: str, figure: float, unit: str, goal: str) -> None:
    row = {
        "bench": bench,
        "figure": round(figure, 2),
        "unit": unit,
        "baseline": None,
        "ratio": None,
        "goal": goal,
    }
    print(json.dumps(row), flush=True)


def log(msg: str) -> None:
    print(f"# {msg}", file=sys.stderr, flush=True)


def clone_entries(pm: ProcessManager, template: str, count: int) -> list[str]:
    """``count`` finished entries cloned from a real one (the registry's own format)."""
    src = pm.registry.process_dir(template)
    config = json.loads((src / "config.json").read_text())
    state = json.loads((src / "state.json").read_text())
    names = []
    statuses = ("exited", "stopped", "failed")
    for i in range(count):
        name = f"fleet-{i:04d}"
        d = pm.registry.process_dir(name)
        d.mkdir(mode=0o700)
        cfg = dict(config, name=name, labels={"batch": str(i % 7)})
        st = dict(state, status=statuses[i % 3], exit_code=0 if i % 3 == 0 else 1)
        atomic_write_json(d / "config.json", cfg, fsync=False)
        atomic_write_json(d / "state.json", st, fsync=False)
        (d / "stdout.log").touch()
        (d / "stderr.log").touch()
        names.append(name)
    return names


def open_sidebar(jlab: Lab) -> None:
    jlab.command("syft-pm:open-sidebar")
    jlab.page.wait_for_selector(f"{SIDEBAR}[data-live='true']", state="visible", timeout=60_000)


def bench_status_latency(jlab: Lab, pm: ProcessManager, name: str) -> float:
    page = jlab.page
    row = f"{SIDEBAR} .syft-pm-row[data-process-name='{name}']"
    page.wait_for_selector(row, timeout=30_000)
    page.evaluate(
        """(sel) => {
          window.__changes = [];
          const el = document.querySelector(sel);
          new MutationObserver(() => window.__changes.push([Date.now(), el.dataset.status]))
            .observe(el, { attributes: true, attributeFilter: ['data-status'] });
        }""",
        row,
    )
    path = pm.registry.process_dir(name) / "state.json"
    state = json.loads(path.read_text())
    current = page.get_attribute(row, "data-status")
    latencies = []
    for i in range(CHANGES):
        status = "exited" if current != "exited" else "stopped"
        state.update(status=status, updated_at=time.time())
        # The change exists once the rename at the end of the write is done: time from
        # there (the write's own fsync, 10-40 ms on this VM, is the disk's, not ours).
        atomic_write_json(path, state)
        t0 = time.time()
        page.wait_for_function(
            "([n, s]) => window.__changes.length >= n && window.__changes[n - 1][1] === s",
            arg=[i + 1, status],
            timeout=10_000,
        )
        seen_ms = page.evaluate("(n) => window.__changes[n - 1][0]", i + 1)
        latencies.append(seen_ms - t0 * 1000)
        current = status
    log(
        f"status latency ms: median {statistics.median(latencies):.1f}, "
        f"max {max(latencies):.1f}, min {min(latencies):.1f}"
    )
    return statistics.median(latencies)


def wait_layout_saved(lab: LabServer) -> None:
    """Until the workspace remembers the open sidebar (so a reload restores it)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            ws = lab.api("lab/api/workspaces/default")
            left = ws["data"]["layout-restorer:data"]["left"]
            if left.get("current") == "syft-pm-sidebar":
                return
        time.sleep(0.2)
    raise TimeoutError("the workspace never recorded the open sidebar")


def bench_first_render(jlab: Lab, lab: LabServer, count: int) -> tuple[float, float]:
    page = jlab.page
    wait_layout_saved(lab)
    page.reload()
    page.wait_for_function("() => window.__bench && window.__bench.snapT !== null", timeout=60_000)
    done = page.evaluate(
        """(n) => new Promise(resolve => {
          const check = () => {
            const list = document.querySelector('#syft-pm-sidebar .syft-pm-list');
            if (list && list.childElementCount >= n && list.offsetParent !== null) {
              // One more frame: the rows have been laid out and painted.
              requestAnimationFrame(() => resolve(performance.now()));
            } else {
              requestAnimationFrame(check);
            }
          };
          check();
        })""",
        count,
    )
    snap = page.evaluate("() => window.__bench.snapT")
    js_ms = page.evaluate(
        """() => { for (const w of window.jupyterapp.shell.widgets('left'))
                     if (w.id === 'syft-pm-sidebar') return w.lastRenderMs; return -1; }"""
    )
    total = done - snap
    log(f"first render of {count}: {total:.1f} ms from snapshot to painted ({js_ms:.1f} ms in JS)")
    return total, js_ms


FLOOD = (
    "import time, itertools\n"
    "n = 0\n"
    "t0 = time.monotonic()\n"
    "for k in itertools.count():\n"
    "    for _ in range(10):\n"
    "        print('flood', n, 'x' * 60, flush=False); n += 1\n"
    "    print(end='', flush=True)\n"
    "    time.sleep(max(0.0, t0 + (k + 1) / 100 - time.monotonic()))\n"
)


MAIN_THREAD_JS = """(ms) => new Promise(resolve => {
          const tasks = [];
          let obs = null;
          try {
            obs = new PerformanceObserver(list => {
              for (const e of list.getEntries()) tasks.push(e.duration);
            });
            obs.observe({ entryTypes: ['longtask'] });
          } catch (e) { /* no longtask support: the frame gaps still tell */ }
          let prev = performance.now();
          let maxGap = 0;
          const t0 = prev;
          const frame = now => {
            maxGap = Math.max(maxGap, now - prev);
            prev = now;
            if (now - t0 < ms) {
              requestAnimationFrame(frame);
            } else {
              if (obs) obs.disconnect();
              resolve({ longest: tasks.length ? Math.max(...tasks) : 0, count: tasks.length,
                        maxGap, supported: obs !== null });
            }
          };
          requestAnimationFrame(frame);
        })"""


@contextlib.contextmanager
def traced(page: Any, path: str) -> Any:
    """A Chromium trace (CDP ``Tracing``) of what runs inside, written to ``path``."""
    if not path:
        yield
        return
    cdp = page.context.new_cdp_session(page)
    events: list[Any] = []
    complete: list[bool] = []
    cdp.on("Tracing.dataCollected", lambda p: events.extend(p["value"]))
    cdp.on("Tracing.tracingComplete", lambda p: complete.append(True))
    config = {"includedCategories": TRACE_CATEGORIES, "recordMode": "recordAsMuchAsPossible"}
    cdp.send("Tracing.start", {"traceConfig": config, "transferMode": "ReportEvents"})
    try:
        yield
    finally:
        cdp.send("Tracing.end")
        deadline = time.monotonic() + 120
        while not complete and time.monotonic() < deadline:
            page.wait_for_timeout(100)  # lets playwright deliver the trace's events
        Path(path).write_text(json.dumps({"traceEvents": events}))
        cdp.detach()
        log(f"trace: {len(events)} events in {path}")


def main_thread(page: Any, seconds: float) -> dict[str, Any]:
    """Longest main-thread task (``longtask`` entries: 50 ms and more) and longest gap
    between animation frames while the page runs for ``seconds``."""
    result: dict[str, Any] = page.evaluate(MAIN_THREAD_JS, seconds * 1000)
    return result


TQDM = (
    "import sys, time\n"
    "for i in range(10**9):\n"
    "    sys.stdout.write(f'\\rprogress {i} ' + '#' * (i % 50)); sys.stdout.flush()\n"
    "    if i % 20 == 0: time.sleep(0.01)\n"
)


def bench_progress_bar(jlab: Lab, lab: LabServer, pm: ProcessManager) -> tuple[float, float, int]:
    """A tqdm-like bar (carriage returns, never a newline, ~2,000 redraws a second) shown
    at once in a cell output and in the sidebar's log view: the longest main-thread task
    and frame gap, and how many lines the log view holds (one updating line, not
    thousands of fragments)."""
    page = jlab.page
    name = "progress"
    pm.run(name, [PY, "-u", "-c", TQDM])
    nb = lab.write_notebook("progress.ipynb", [f"import syft_pm\nsyft_pm.get({name!r})"])
    jlab.open_notebook(nb)
    cell = jlab.run_cell(nb, 0)
    cell.wait_for_selector(f".syft-pm-process[data-process-name='{name}'][data-live='true']")
    jlab.command("syft-pm:show-logs", {"name": name})
    view = f".syft-pm-detail[data-process-name='{name}'] .syft-pm-logview[data-stream='stdout']"
    page.wait_for_selector(f"{view} .syft-pm-lv-lines .syft-pm-lv-line", timeout=30_000)
    result = main_thread(page, FLOOD_SECONDS)
    lines = page.evaluate(
        f'() => document.querySelectorAll("{view} .syft-pm-lv-lines .syft-pm-lv-line").length'
    )
    log(
        f"progress bar: {lines} line(s) in the log view; long tasks: {result['count']} "
        f"(longest {result['longest']:.1f} ms); longest frame gap {result['maxGap']:.1f} ms"
    )
    return result["longest"], result["maxGap"], int(lines)


def bench_log_flood(jlab: Lab, pm: ProcessManager) -> tuple[float, float, float]:
    page = jlab.page
    name = "flood"
    pm.run(name, [PY, "-u", "-c", FLOOD])
    page.wait_for_selector(f"{SIDEBAR} .syft-pm-row[data-process-name='{name}']")
    jlab.command("syft-pm:show-logs", {"name": name})
    view = f".syft-pm-detail[data-process-name='{name}'] .syft-pm-logview[data-stream='stdout']"
    page.wait_for_selector(f"{view} .syft-pm-lv-lines .syft-pm-lv-line", timeout=30_000)
    last = f"""() => {{
        const t = document.querySelectorAll("{view} .syft-pm-lv-lines .syft-pm-lv-text");
        const m = t.length ? /flood (\\d+)/.exec(t[t.length - 1].textContent) : null;
        return m ? Number(m[1]) : -1; }}"""
    page.wait_for_function(f"() => ({last})() > 2000", timeout=30_000)
    start_line = page.evaluate(last)
    with traced(page, TRACE):
        result = main_thread(page, FLOOD_SECONDS)
        end_line = page.evaluate(last)
    rate = (end_line - start_line) / FLOOD_SECONDS
    dom_lines = page.evaluate(
        f'() => document.querySelectorAll("{view} .syft-pm-lv-lines .syft-pm-lv-line").length'
    )
    log(
        f"log flood: {rate:.0f} lines/s reached the view ({dom_lines} lines in the DOM); "
        f"long tasks: {result['count']} (longest {result['longest']:.1f} ms, "
        f"observer {'on' if result['supported'] else 'unsupported'}); "
        f"longest frame gap {result['maxGap']:.1f} ms"
    )
    with contextlib.suppress(Exception):
        pm.get(name).stop(timeout=5)
    return result["longest"], result["maxGap"], rate


def emit_log_flood(jlab: Lab, pm: ProcessManager) -> None:
    longest, gap, rate = bench_log_flood(jlab, pm)
    emit("sidebar.log_flood_longest_task", longest, "ms", "<= 100 ms")
    emit("sidebar.log_flood_max_frame_gap", gap, "ms", "<= 100 ms")
    emit("sidebar.log_flood_lines_per_s", rate, "lines/s", ">= 900 lines/s")


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        log(f"{CHROMIUM} is missing (make browser-deps installs it)")
        return 1
    base = Path(tempfile.mkdtemp(prefix="syft-pm-bench-sidebar-"))
    lab = LabServer(base)
    pm = ProcessManager(lab.home)
    try:
        t0 = time.monotonic()
        template = "template"
        pm.run(template, [PY, "-c", "pass"]).wait(timeout=30)
        clone_entries(pm, template, FLEET - 1)
        log(f"{FLEET} registry entries in {time.monotonic() - t0:.1f}s")
        lab.start()
        log(f"jupyter lab up after {time.monotonic() - t0:.1f}s")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                context = browser.new_context(viewport={"width": 1400, "height": 900})
                context.add_init_script(INIT_SCRIPT)
                page = context.new_page()
                page.set_default_timeout(60_000)
                jlab = Lab(page, lab)
                jlab.open()
                open_sidebar(jlab)
                if ONLY == "flood":
                    emit_log_flood(jlab, pm)
                    return 0

                total, js_ms = bench_first_render(jlab, lab, FLEET)
                emit("sidebar.first_render_1000", total, "ms", "<= 1000 ms")
                emit("sidebar.first_render_1000_js", js_ms, "ms", "<= 1000 ms")

                median = bench_status_latency(jlab, pm, "fleet-0001")
                emit("sidebar.status_latency_median", median, "ms", "<= 50 ms")

                emit_log_flood(jlab, pm)

                longest, gap, lines = bench_progress_bar(jlab, lab, pm)
                emit("sidebar.progress_bar_longest_task", longest, "ms", "< 50 ms")
                emit("sidebar.progress_bar_max_frame_gap", gap, "ms", "informative")
                emit("sidebar.progress_bar_log_view_lines", lines, "lines", "informative")
            finally:
                browser.close()
        log(f"done in {time.monotonic() - t0:.1f}s")
        return 0
    finally:
        lab.stop()
        for h in pm.list():
            with contextlib.suppress(Exception):
                if h.is_running():
                    h.stop(timeout=5)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
