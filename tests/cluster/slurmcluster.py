"""A real single-node Slurm cluster for the tests: munge, slurmctld and slurmd on this host.

Debian's ``slurm-wlm`` and ``munge`` (installed by ``make cluster-deps``). Everything the
cluster writes lives in one temporary directory; clients find it through ``SLURM_CONF``,
so nothing in /etc/slurm is touched. A munged that is already running is reused (one
per host, like a real site's); daemons started here are stopped by :meth:`stop`, by
their pid files, and nothing else is.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

MUNGE_SOCKET = Path("/run/munge/munge.socket.2")


class ClusterUnavailable(RuntimeError):
    """Slurm cannot run here (not installed, or its daemons refused to start)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(pred, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    delay = 0.05
    while not pred():
        if time.monotonic() > deadline:
            raise ClusterUnavailable(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


class SlurmCluster:
    def __init__(self, base: Path, cpus: int | None = None) -> None:
        self.base = base
        self.cpus = cpus or os.cpu_count() or 1
        self.conf = base / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self._started_munge = False
        self._pidfiles = [base / "slurmctld.pid", base / "slurmd.pid"]

    # -- life ----------------------------------------------------------------------------

    def start(self) -> SlurmCluster:
        for tool in ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol"):
            if shutil.which(tool) is None:
                raise ClusterUnavailable(f"{tool} is not installed (make cluster-deps installs it)")
        if os.geteuid() != 0:
            raise ClusterUnavailable("starting Slurm's daemons needs root")
        self._munge()
        for d in ("state", "spool", "log"):
            (self.base / d).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self._config())
        subprocess.run(["slurmctld", "-f", str(self.conf)], check=True, env=self.env)
        subprocess.run(
            ["slurmd", "-f", str(self.conf), "-N", "localhost"], check=True, env=self.env
        )
        _wait(self._node_ready, 60, "the node to be idle (sinfo)")
        return self

    def stop(self) -> None:
        for pidfile in self._pidfiles:
            with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                _wait_gone(pid)
        if self._started_munge:
            with contextlib.suppress(FileNotFoundError, ValueError, ProcessLookupError):
                pid = int(Path("/run/munge/munged.pid").read_text().strip())
                os.kill(pid, signal.SIGTERM)

    # -- clients -------------------------------------------------------------------------

    def run(self, *argv: str) -> str:
        out = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)}: {out.stderr.strip()}")
        return out.stdout

    def job_state(self, job_id: str) -> str:
        text = self.run("scontrol", "show", "job", "-o", job_id)
        for field in text.split():
            if field.startswith("JobState="):
                return field.split("=", 1)[1]
        return "UNKNOWN"

    def queue(self) -> list[str]:
        return self.run("squeue", "-h", "-o", "%i").split()

    # -- internals -----------------------------------------------------------------------

    def _munge(self) -> None:
        if MUNGE_SOCKET.exists() and _munge_answers():
            return
        key = Path("/etc/munge/munge.key")
        if not key.exists():
            subprocess.run(["mungekey", "-c", "-f", "-k", str(key)], check=True)
        for d in ("/etc/munge", "/run/munge", "/var/lib/munge", "/var/log/munge"):
            Path(d).mkdir(parents=True, exist_ok=True)
            subprocess.run(["chown", "-R", "munge:munge", d], check=True)
        os.chmod("/etc/munge/munge.key", 0o400)
        subprocess.run(["runuser", "-u", "munge", "--", "munged"], check=True)
        self._started_munge = True
        _wait(_munge_answers, 20, "munged")

    def _node_ready(self) -> bool:
        out = subprocess.run(
            ["sinfo", "-h", "-o", "%t"], env=self.env, capture_output=True, text=True
        )
        return out.returncode == 0 and out.stdout.strip() in ("idle", "mix", "alloc")

    def _config(self) -> str:
        mem = _memory_mib()
        b = self.base
        return "\n".join(
            [
                "ClusterName=syftpm",
                "SlurmctldHost=localhost",
                f"SlurmctldPort={_free_port()}",
                f"SlurmdPort={_free_port()}",
                "SlurmUser=root",
                "AuthType=auth/munge",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core",
                "ReturnToService=2",
                "SchedulerType=sched/backfill",
                "MpiDefault=none",
                f"StateSaveLocation={b / 'state'}",
                f"SlurmdSpoolDir={b / 'spool'}",
                f"SlurmctldPidFile={b / 'slurmctld.pid'}",
                f"SlurmdPidFile={b / 'slurmd.pid'}",
                f"SlurmctldLogFile={b / 'log' / 'slurmctld.log'}",
                f"SlurmdLogFile={b / 'log' / 'slurmd.log'}",
                "JobCompType=jobcomp/none",
                "AccountingStorageType=accounting_storage/none",
                "JobAcctGatherType=jobacct_gather/none",
                "KillWait=5",
                "MinJobAge=300",
                "InactiveLimit=0",
                f"NodeName=localhost CPUs={self.cpus} RealMemory={mem} State=UNKNOWN",
                "PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP",
                "",
            ]
        )


@contextlib.contextmanager
def running(base: Path) -> Iterator[SlurmCluster]:
    """A started cluster that this process's Slurm clients (and syft_pm's) talk to
    (``SLURM_CONF``); on exit its jobs are cancelled and its daemons stopped. Raises
    ClusterUnavailable (for the caller to skip on) where Slurm cannot run."""
    cluster = SlurmCluster(base)
    try:
        cluster.start()
    except (ClusterUnavailable, OSError) as e:
        cluster.stop()
        raise ClusterUnavailable(str(e)) from e
    old = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(cluster.conf)
    try:
        yield cluster
    finally:
        for job in cluster.queue():
            cluster.run("scancel", job)
        cluster.stop()
        if old is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old


def _memory_mib() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 512
    return 1024


def _munge_answers() -> bool:
    try:
        enc = subprocess.run(["munge", "-n"], capture_output=True, timeout=5)
        if enc.returncode != 0:
            return False
        dec = subprocess.run(["unmunge"], input=enc.stdout, capture_output=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return dec.returncode == 0


def _wait_gone(pid: int) -> None:
    """Wait for a daemon we started to end; SIGKILL it if SIGTERM was not enough."""

    def gone() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    try:
        _wait(gone, 20, f"pid {pid} to exit")
    except ClusterUnavailable:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _wait(gone, 10, f"pid {pid} to exit after SIGKILL")
