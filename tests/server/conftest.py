from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def syft_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "syft_home"
    monkeypatch.setenv("SYFT_PM_HOME", str(home))
    return home


@pytest.fixture
def jp_server_config(syft_home: Path) -> dict:
    # Every server test runs with unauthenticated access disabled, as in production.
    return {
        "ServerApp": {
            "jpserver_extensions": {"syft_pm": True},
            "allow_unauthenticated_access": False,
        },
        "SyftPmExtension": {"home": str(syft_home)},
    }
