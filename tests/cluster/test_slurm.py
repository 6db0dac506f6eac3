"""Processes run as Slurm jobs on a real (single-node) cluster: same API, same files."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import pytest
from pmtest import wait_for
from slurmcluster import SlurmCluster

from syft_pm.manager import ProcessManager

PY = sys.executable
TICKER = (
    "import itertools, time\n"
    "for i in itertools.count(): print('tick', i, flush=True); time.sleep(0.2)"
)


def all_cpus(cluster: SlurmCluster) -> str:
    """A blocker job that holds every CPU of the node until cancelled."""
    out = cluster.run(
        "sbatch",
        "--parsable",
        f"--cpus-per-task={cluster.cpus}",
        "--wrap",
        "sleep 600",
        f"--output={os.devnull}",
    )
    job = out.strip().split(";")[0]
    wait_for(lambda: cluster.job_state(job) == "RUNNING", timeout=60, what="the blocker to run")
    return job


@pytest.mark.timeout(240)
def test_queued_then_running_then_stopped(cluster: SlurmCluster, pm: ProcessManager) -> None:
    blocker = all_cpus(cluster)
    h = pm.run("ticker", [PY, "-u", "-c", TICKER], runner="slurm", resources={"cpus": 1})
    assert h.status == "queued"
    job = h.info()["runner"]["job_id"]
    assert job and job in cluster.queue()
    queued = wait_for(lambda: h.refresh().reason and "Slurm" in h.reason and h, timeout=30)
    assert queued.status == "queued", queued.reason
    cluster.run("scancel", blocker)
    wait_for(lambda: h.refresh().status == "running", timeout=90, what="the job to run")
    where = h.info()["runner"]
    assert where["kind"] == "slurm" and where["job_id"] == job and where["node"] == "localhost"
    wait_for(lambda: len(h.stdout.tail(5)) >= 3, timeout=30, what="log lines from the job")
    h.stop(timeout=5)
    assert h.refresh().status == "stopped"
    wait_for(lambda: job not in cluster.queue(), timeout=30, what="the job to leave squeue")


@pytest.mark.timeout(240)
def test_a_queued_process_is_cancelled_by_stop(cluster: SlurmCluster, pm: ProcessManager) -> None:
    blocker = all_cpus(cluster)
    try:
        h = pm.run("waiting", [PY, "-c", "print('never')"], runner="slurm")
        job = h.info()["runner"]["job_id"]
        h.stop()
        assert h.refresh().status == "stopped" and "queued" in (h.reason or "")
        wait_for(lambda: job not in cluster.queue(), timeout=30, what="the job to go")
        assert cluster.job_state(job) == "CANCELLED"
    finally:
        cluster.run("scancel", blocker)


@pytest.mark.timeout(240)
def test_restart_policy_runs_inside_the_allocation(
    cluster: SlurmCluster, pm: ProcessManager
) -> None:
    h = pm.run(
        "crashy",
        [PY, "-c", "import sys; print('boom', flush=True); sys.exit(3)"],
        runner="slurm",
        restart="on-failure",
        max_restarts=2,
        backoff={"initial": 0.1, "factor": 1.0, "max": 0.1},
    )
    job = h.info()["runner"]["job_id"]
    wait_for(lambda: h.refresh().status == "failed", timeout=120, what="the restarts to run out")
    assert h.restarts == 2 and h.exit_code == 3
    assert h.info()["runner"]["job_id"] == job, "every restart ran in the same allocation"
    assert h.stdout.tail(10).count("boom") == 3


@pytest.mark.timeout(300)
def test_a_job_killed_by_its_time_limit_says_why(cluster: SlurmCluster, pm: ProcessManager) -> None:
    h = pm.run("long", [PY, "-u", "-c", TICKER], runner="slurm", resources={"time": "1"})
    wait_for(lambda: h.refresh().status == "running", timeout=90, what="the job to run")
    job = h.info()["runner"]["job_id"]
    # Shorten the limit of the running job (as an administrator can), so the test does
    # not wait out a whole minute.
    cluster.run("scontrol", "update", f"JobId={job}", "TimeLimit=00:00:01")
    wait_for(lambda: h.refresh().status == "failed", timeout=150, what="the time limit")
    assert "time limit" in (h.reason or ""), h.reason
    wait_for(lambda: job not in cluster.queue(), timeout=60, what="the job to be gone")


@pytest.mark.timeout(240)
def test_run_function_runs_on_the_cluster(cluster: SlurmCluster, pm: ProcessManager) -> None:
    h = pm.run_function(_where, name="fn", runner="slurm")
    wait_for(lambda: h.refresh().status == "exited", timeout=120, what="the function")
    assert "SLURM_JOB_ID=" in "\n".join(h.stdout.tail(5))


def _where() -> None:
    print(f"SLURM_JOB_ID={os.environ.get('SLURM_JOB_ID')}", flush=True)


def test_bad_runner_arguments_are_refused_before_anything_starts(tmp_path: Any) -> None:
    pm = ProcessManager(tmp_path / "r")
    from syft_pm.spec import SpecError

    with pytest.raises(SpecError, match="runner must be one of"):
        pm.run("x", [PY, "-c", "pass"], runner="k8s")
    with pytest.raises(SpecError, match="memory"):
        pm.run("x", [PY, "-c", "pass"], runner="slurm", resources={"memory": "lots"})
    with pytest.raises(SpecError, match="need a scheduler"):
        pm.run("x", [PY, "-c", "pass"], resources={"cpus": 2})
    assert pm.registry.names() == []


@pytest.mark.timeout(240)
def test_the_watcher_polls_a_remote_process(cluster: SlurmCluster, pm: ProcessManager) -> None:
    """Another host's writes wake no inotify watch here: with inotify off and a 30 s idle
    pace, a Slurm process's lines and state still reach a view within a second or two."""
    from syft_pm.live.watcher import Watcher
    from syft_pm.live.watcher_thread import WatcherThread

    watcher = Watcher(pm.registry)
    thread = WatcherThread(watcher, use_inotify=False, tick=30.0, idle_tick=30.0)
    seen: list[dict[str, Any]] = []
    watcher.subscribe(seen.append)
    thread.start()
    try:
        h = pm.run("remote", [PY, "-u", "-c", TICKER], runner="slurm")

        def lines() -> list[str]:
            return [
                text
                for m in list(seen)
                if m["type"] == "delta"
                for _, text, *_ in m["logs"].get("remote", {}).get("stdout", {}).get("lines", [])
            ]

        wait_for(lambda: len(lines()) >= 5, timeout=90, what="lines from the remote process")
        runner = [
            entry["runner"]
            for m in seen
            if m["type"] == "delta"
            for entry in (m["added"].get("remote"), m["changed"].get("remote"))
            if entry and "runner" in entry
        ]
        assert runner[0]["kind"] == "slurm" and runner[-1]["node"] == "localhost", runner
        h.stop(timeout=5)
    finally:
        thread.close()


@pytest.mark.timeout(240)
def test_stop_reaches_the_supervisor_through_the_control_file(
    cluster: SlurmCluster, pm: ProcessManager, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No signal crosses hosts: the supervisor finds the request at its next heartbeat.
    scancel is made to fail here, so only the control file can have stopped it."""
    h = pm.run("polite", [PY, "-u", "-c", TICKER], runner="slurm")
    wait_for(lambda: h.refresh().status == "running", timeout=90, what="the job to run")
    job = h.info()["runner"]["job_id"]
    stub = tmp_path / "bin"
    stub.mkdir()
    calls = tmp_path / "scancel-calls"
    (stub / "scancel").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 1\n')
    (stub / "scancel").chmod(0o755)
    monkeypatch.setenv("PATH", f"{stub}:{os.environ['PATH']}")
    h.stop(timeout=30)
    rec = h.refresh()
    assert rec.status == "stopped" and rec.state["stop_reason"] == "requested", rec.state
    assert not calls.exists(), calls.read_text()
    wait_for(lambda: job not in cluster.queue(), timeout=30, what="the job to end")


@pytest.mark.timeout(240)
def test_the_cli_submits_to_slurm(cluster: SlurmCluster, pm: ProcessManager) -> None:
    import subprocess

    def cli(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [PY, "-m", "syft_pm.cli", "--home", str(pm.home), *argv],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    out = cli(
        "run",
        "clijob",
        "--runner",
        "slurm",
        "--cpus",
        "1",
        "--time",
        "10",
        "--",
        PY,
        "-c",
        "print('from the cli')",
    )
    assert out.returncode == 0, out.stderr
    job = pm.get("clijob").info()["runner"]["job_id"]
    assert out.stdout.strip() == f"clijob: queued (Slurm job {job})"
    assert "TimeLimit=00:10:00" in cluster.run("scontrol", "show", "job", job)
    wait_for(lambda: pm.get("clijob").status == "exited", timeout=120, what="the job")
    bad = cli("run", "local", "--cpus", "2", "--", PY, "-c", "pass")
    assert bad.returncode != 0 and "need a scheduler" in bad.stderr


@pytest.mark.timeout(240)
def test_resurrection_never_doubles_a_slurm_process(
    cluster: SlurmCluster, pm: ProcessManager
) -> None:
    """A supervisor on another host has a pid that means nothing here: resurrection must
    not take it for dead and submit a second job."""
    from syft_pm.resurrect import Scanner, resurrect

    h = pm.run("kept", [PY, "-u", "-c", TICKER], runner="slurm", restart="always")
    wait_for(lambda: h.refresh().status == "running", timeout=90, what="the job to run")
    job = h.info()["runner"]["job_id"]
    # Seen from elsewhere, the recorded supervisor pid is no process of this host's.
    state = h.directory / "state.json"
    data = json.loads(state.read_text())
    data["supervisor_pid"] = 2**22 - 7
    state.write_text(json.dumps(data))
    assert resurrect(pm) == []
    assert Scanner().candidates(pm) == []
    assert cluster.queue() == [job]
    assert h.refresh().status == "running"
