"""Trust boundaries of the core: names, registry permissions, the function payload,
hidden environment values and reads without side effects (issue 9)."""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
from pathlib import Path
from typing import Any

import helpers
import pytest

from syft_pm.manager import ProcessManager, ProcessNotFoundError
from syft_pm.names import InvalidNameError, is_valid_name, validate_name


@pytest.mark.parametrize("name", ["web\n", "web\r\n", "a\nb", "web\n\n", "\nweb"])
def test_names_with_newlines_are_refused_everywhere(pm: ProcessManager, name: str) -> None:
    with pytest.raises(InvalidNameError):
        validate_name(name)
    assert not is_valid_name(name)
    with pytest.raises(InvalidNameError):
        pm.run(name, ["true"])
    with pytest.raises(InvalidNameError):
        pm.get(name)
    assert not (pm.home / "processes" / name).exists()
    # A directory planted under such a name is not an entry of the registry.
    pm.registry.ensure()
    (pm.home / "processes" / name).mkdir()
    assert name not in pm.registry.names()
    assert all(h.name != name for h in pm.list())


def test_valid_name_still_accepted(pm: ProcessManager) -> None:
    assert validate_name("web-1.v2_x") == "web-1.v2_x"
    with pytest.raises(ProcessNotFoundError):
        pm.get("web")
    assert Path(pm.registry.process_dir("web")).name == "web"


class _Planted:
    """A pickle that runs code when loaded: it creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.mkdir, (str(self.marker),))


def test_function_payload_is_private_and_hashed(pm: ProcessManager, tmp_path: Path) -> None:
    h = pm.run_function(helpers.write_file, str(tmp_path / "out.txt"), "hi", name="fn")
    assert h.wait(30) == 0
    pkl = h.directory / "function.pkl"
    assert stat.S_IMODE(pkl.stat().st_mode) == 0o600
    assert h.config["function_sha256"] == hashlib.sha256(pkl.read_bytes()).hexdigest()
    assert not [p.name for p in h.directory.iterdir() if p.name.endswith(".tmp")]


def test_tampered_function_payload_is_never_unpickled(pm: ProcessManager, tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    h = pm.run_function(helpers.write_file, str(out), "first", name="fn")
    assert h.wait(30) == 0 and out.read_text() == "first"
    marker = tmp_path / "planted-code-ran"
    (h.directory / "function.pkl").write_bytes(pickle.dumps(_Planted(marker)))
    h.restart()
    assert h.wait(30) == 2
    assert h.status == "failed"
    assert not marker.exists()
    err = "\n".join(h.stderr.tail(20))
    assert "was changed after run_function wrote it" in err and "refusing to unpickle" in err
