"""run_function: importable functions by reference, notebook-style ones by cloudpickle."""

from __future__ import annotations

import builtins
import sys
from pathlib import Path

import helpers
import pytest

from syft_pm.manager import ProcessManager
from syft_pm.spec import SpecError


def test_module_level_function(pm: ProcessManager, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    h = pm.run_function(helpers.write_file, str(out), "hello")
    assert h.name == "write_file"
    assert h.wait(30) == 0
    assert out.read_text() == "hello"
    assert h.record.config["kind"] == "function"
    assert h.record.config["function"]["qualname"] == "write_file"


def test_function_exception_is_a_failure_with_traceback(pm: ProcessManager) -> None:
    h = pm.run_function(helpers.fail, "boom", name="failing")
    assert h.wait(30) == 1
    assert h.status == "failed"
    assert any("RuntimeError: boom" in line for line in h.stderr.tail(20))


def test_lambda_and_closure_with_cloudpickle(pm: ProcessManager, tmp_path: Path) -> None:
    out = tmp_path / "closure.txt"
    secret = "from a closure"

    def inner(suffix: str) -> int:
        Path(out).write_text(secret + suffix)
        return 42

    h = pm.run_function(inner, "!", name="closure")
    assert h.wait(30) == 0
    assert out.read_text() == "from a closure!"
    assert h.stdout.tail(1) == ["syft_pm: inner returned 42"]
    lam = pm.run_function(lambda: print("from a lambda"), name="lam")
    assert lam.wait(30) == 0
    assert lam.stdout.tail(1) == ["from a lambda"]


def test_run_function_options_and_reuse(pm: ProcessManager) -> None:
    import time

    h = pm.run_function(time.sleep, 60, name="napper", ttl=0.5, labels={"x": "y"})
    assert h.labels == {"x": "y"}
    same = pm.run_function(time.sleep, 60, name="napper", ttl=0.5)
    assert same.pid == h.pid
    h.wait(10)
    assert h.status == "stopped" and h.record.state["stop_reason"] == "ttl"


def test_missing_cloudpickle_is_a_clear_error(
    pm: ProcessManager, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_cloudpickle(name: str, *args: object, **kwargs: object) -> object:
        if name == "cloudpickle":
            raise ImportError("no cloudpickle")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.delitem(sys.modules, "cloudpickle", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_cloudpickle)
    with pytest.raises(SpecError, match=r"pip install syft_pm\[functions\]"):
        pm.run_function(lambda: None, name="nope")
    assert not (pm.home / "processes" / "nope").exists()
