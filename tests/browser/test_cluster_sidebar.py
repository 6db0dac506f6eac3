"""A process running as a Slurm job, in the sidebar of a real JupyterLab: its row says
where it runs (job id and node) and follows it from queued to running to stopped."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import syft_pm

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cluster"))
from slurmcluster import ClusterUnavailable, SlurmCluster, running

SIDEBAR = "#syft-pm-sidebar"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlurmCluster]:
    try:
        with running(tmp_path_factory.mktemp("slurm")) as c:
            yield c
    except ClusterUnavailable as e:
        pytest.skip(f"no Slurm cluster here: {e}")


def row(name: str, status: str | None = None) -> str:
    sel = f"{SIDEBAR} .syft-pm-row[data-process-name={json.dumps(name)}]"
    return sel + (f"[data-status={json.dumps(status)}]" if status else "")


def test_the_sidebar_shows_a_slurm_process_with_its_job_and_node(
    jlab: Any, lab: Any, cluster: SlurmCluster
) -> None:
    name = f"slurm-{uuid.uuid4().hex[:6]}"
    pm = syft_pm.ProcessManager(lab.home)
    ticker = (
        "import itertools, time\nfor i in itertools.count(): print(i, flush=True); time.sleep(0.2)"
    )
    h = pm.run(name, [sys.executable, "-u", "-c", ticker], runner="slurm")
    try:
        job = h.info()["runner"]["job_id"]
        jlab.open("lab")
        jlab.command("syft-pm:open-sidebar")
        jlab.page.wait_for_selector(row(name, "running"), timeout=90_000)
        where = jlab.page.locator(f"{row(name)} .syft-pm-row-pid")
        where_text = f"slurm job {job} on localhost"
        jlab.page.wait_for_function(
            "([sel, text]) => (document.querySelector(sel)?.textContent || '').startsWith(text)",
            arg=[f"{row(name)} .syft-pm-row-pid", where_text],
            timeout=30_000,
        )
        assert where.text_content().startswith(where_text)
        jlab.page.click(f"{row(name)} .syft-pm-row-name")  # select: shows its buttons
        jlab.page.wait_for_selector(f"{row(name)}.syft-pm-mod-selected")
        jlab.page.click(f"{row(name)} .syft-pm-row-stop")
        jlab.page.wait_for_selector(row(name, "stopped"), timeout=60_000)
        assert job not in cluster.queue()
    finally:
        if h.refresh().status not in ("stopped", "exited", "failed"):
            h.stop(timeout=5)
