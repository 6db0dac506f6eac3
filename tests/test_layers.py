"""The layers of the package, checked rather than hoped for.

The core (``syft_pm/*.py``) and the live-state layer (``syft_pm/live``) must work in a
plain script, a supervisor or a batch job where no Jupyter is installed or wanted, so
importing them must not import Jupyter. Each module is imported in a fresh interpreter:
an import made by an earlier test cannot hide one.
"""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import syft_pm

PKG = Path(syft_pm.__file__).parent
FORBIDDEN = ("jupyter_server", "tornado", "ipykernel", "traitlets", "comm", "IPython")
#: Layers that are Jupyter by design.
JUPYTER_LAYERS = ("syft_pm.kernel", "syft_pm.server")
UPWARD = re.compile(r"from \.(live|kernel|server)(\.| import)")


def pure_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PKG)], prefix="syft_pm."):
        if info.name.startswith(JUPYTER_LAYERS) or info.name.endswith("__main__"):
            continue
        names.append(info.name)
    return sorted(names)


def test_the_walk_finds_both_layers():
    mods = pure_modules()
    assert "syft_pm.supervisor" in mods and "syft_pm.live.session" in mods, mods
    assert not any(m.startswith(JUPYTER_LAYERS) for m in mods)


@pytest.mark.parametrize("module", pure_modules())
def test_core_and_live_modules_import_no_jupyter(module: str) -> None:
    code = (
        "import importlib, json, sys\n"
        f"importlib.import_module({module!r})\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == [], f"importing {module} imported Jupyter modules"


def test_the_live_layer_does_not_import_the_jupyter_layers():
    for path in (PKG / "live").glob("*.py"):
        text = path.read_text()
        assert "from ..kernel" not in text and "from ..server" not in text, path


def test_the_core_does_not_import_upwards():
    """Core modules never import the layers above them at module level; the two lazy seams
    (the package's entry points, a handle's display bundle) import them inside a function."""
    lazy_seams = {"__init__.py", "handle.py"}
    for path in PKG.glob("*.py"):
        for line in path.read_text().splitlines():
            stripped = line.lstrip()
            if not UPWARD.match(stripped):
                continue
            assert line != stripped, f"{path.name} imports an upper layer at module level"
            assert path.name in lazy_seams, f"{path.name}: {stripped}"
