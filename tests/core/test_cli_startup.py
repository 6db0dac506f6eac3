"""`syft-pm` imports only what the command needs (start-up is measured by bench/)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from pmtest import PY, wait_for

from syft_pm.manager import ProcessManager

#: Not needed to print a log tail: the manager and what it brings, psutil, json...
HEAVY = (
    "psutil",
    "json",
    "dataclasses",
    "pathlib",
    "shutil",
    "subprocess",
    "syft_pm.manager",
    "syft_pm.registry",
    "syft_pm.handle",
)


def _modules_after(home: Path, *argv: str) -> tuple[list[str], str]:
    code = (
        "import io, sys, contextlib\n"
        "from syft_pm.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        f"    main({['--home', str(home), *argv]!r})\n"
        f"heavy = sorted(m for m in sys.modules if m in {HEAVY!r})\n"
        "print(__import__('_json').encode_basestring_ascii(repr(heavy)))\n"
        "print(out.getvalue(), end='')\n"
    )
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, check=True)
    first, _, rest = r.stdout.partition("\n")
    return eval(json.loads(first)), rest


def test_logs_tail_imports_nothing_heavy(pm: ProcessManager) -> None:
    h = pm.run("tick", ["sh", "-c", "for i in 1 2 3; do echo line $i; done; sleep 300"])
    wait_for(lambda: h.stdout.tail(1) == ["line 3"], what="output")
    heavy, out = _modules_after(pm.home, "logs", "-n", "2", "tick")
    assert heavy == []
    assert out.splitlines() == ["line 2", "line 3"]


def test_logs_tail_of_an_entry_whose_state_is_damaged(pm: ProcessManager) -> None:
    h = pm.run("broken", ["sh", "-c", "echo hello; sleep 300"])
    wait_for(lambda: h.stdout.tail(1) == ["hello"], what="output")
    (h.directory / "state.json").write_text("{")  # the supervisor rewrites it on request
    r = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "logs", "broken"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0 and r.stdout.splitlines() == ["hello"], r.stderr


def test_logs_of_an_unknown_process_is_one_line(pm: ProcessManager) -> None:
    pm.registry.ensure()
    r = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "logs", "ghost"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1
    assert r.stderr == f"syft-pm: error: no process named 'ghost' in {pm.home}\n"
    r = subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(pm.home), "logs", "../x"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "invalid process name" in r.stderr
