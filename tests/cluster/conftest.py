"""A real Slurm cluster for the tests in this folder (see slurmcluster.py).

Started once per session; the tests skip, saying why, where Slurm cannot run (not
installed, not root). ``make test`` installs it (``make cluster-deps``), so in CI they run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from slurmcluster import ClusterUnavailable, SlurmCluster, running

from syft_pm.manager import ProcessManager


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    try:
        with running(tmp_path_factory.mktemp("slurm")) as c:
            yield c
    except ClusterUnavailable as e:
        pytest.skip(f"no Slurm cluster here: {e}")


@pytest.fixture
def pm(cluster: SlurmCluster, tmp_path: Path) -> Iterator[ProcessManager]:
    """A registry on a filesystem the node shares (one node: this host's)."""
    manager = ProcessManager(tmp_path / "registry")
    yield manager
    for h in manager.list():
        if h.status not in ("stopped", "exited", "failed"):
            h.stop(timeout=5)
