"""Damaged registry entries never break list(), get() or the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pmtest import PY

from syft_pm.manager import ProcessManager


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "syft_pm.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("fname", "content", "reason"),
    [
        ("state.json", b"", "empty"),
        ("state.json", b'{"schema": 1, "status": "runn', "not valid JSON"),
        ("state.json", b"[1, 2]", "expected a JSON object"),
        ("state.json", b'{"schema": 99}', "unknown schema"),
        ("state.json", b'{"schema": 1, "status": "zombie"}', "unknown status"),
        ("config.json", b"\x00\xff garbage", "not valid JSON"),
        ("config.json", None, "missing"),
        ("health.json", b"{", "health.json"),
    ],
)
def test_damaged_entry_is_reported(
    pm: ProcessManager, fname: str, content: bytes | None, reason: str
) -> None:
    pm.run("good", ["true"]).wait(10)
    pm.run("bad", ["true"]).wait(10)
    target = pm.registry.process_dir("bad") / fname
    if content is None:
        target.unlink()
    else:
        target.write_bytes(content)
    handles = {h.name: h for h in pm.list()}
    assert handles["good"].status == "exited"
    assert handles["bad"].status == "error"
    assert reason in (handles["bad"].reason or "")
    assert pm.get("bad").status == "error"
    info = pm.get("bad").info()
    json.dumps(info)
    assert info["status"] == "error" and reason in info["reason"]
    # the CLI keeps working
    out = cli(pm.home, "list")
    assert out.returncode == 0, out.stderr
    assert "good" in out.stdout and "error" in out.stdout
    js = json.loads(cli(pm.home, "list", "--json").stdout)
    assert {p["name"]: p["status"] for p in js} == {"good": "exited", "bad": "error"}
    assert cli(pm.home, "info", "bad").returncode == 0
    # an entry in error can be replaced by a fresh start, or removed
    h = pm.run("bad", ["true"])
    assert h.wait(10) == 0 and h.status == "exited"


def test_foreign_files_are_ignored(pm: ProcessManager) -> None:
    pm.registry.ensure()
    (pm.home / "processes" / ".hidden").mkdir()
    (pm.home / "processes" / "a-file").write_text("x")
    (pm.home / "processes" / "empty-dir").mkdir()
    hs = {h.name: h for h in pm.list()}
    assert set(hs) == {"empty-dir"}
    assert hs["empty-dir"].status == "error"
    assert "missing" in (hs["empty-dir"].reason or "")


def test_half_written_temp_files_do_not_matter(pm: ProcessManager) -> None:
    h = pm.run("t", ["sleep", "60"])
    d = pm.registry.process_dir("t")
    (d / ".state.json.123.abcd.tmp").write_text('{"schema": 1, "stat')
    assert h.status == "running"
    assert [x.name for x in pm.list()] == ["t"]
