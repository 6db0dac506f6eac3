"""Trust boundaries of the core: names, registry permissions, the function payload,
hidden environment values and reads without side effects (issue 9)."""

from __future__ import annotations

from pathlib import Path

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
