"""``syft-pm run``'s runner options: ``--runner slurm --cpus --memory --gpus --time
--partition --account --sbatch-arg`` (argparse glue only; validation is the runner's)."""

from __future__ import annotations

import argparse
from typing import Any

from . import KINDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("where it runs (see docs/clusters.md)")
    g.add_argument("--runner", choices=KINDS, default="local", help="local (default) or slurm")
    g.add_argument("--cpus", type=int, help="CPUs for the job (slurm)")
    g.add_argument("--memory", help="memory for the job, e.g. 4G (slurm)")
    g.add_argument("--gpus", type=int, help="GPUs for the job (slurm)")
    g.add_argument("--time", help="time limit, minutes or [D-]HH:MM:SS (slurm)")
    g.add_argument("--partition", help="partition (slurm)")
    g.add_argument("--account", help="account to charge (slurm)")
    g.add_argument(
        "--sbatch-arg", action="append", metavar="OPTION", help="any other sbatch option"
    )


def options(args: argparse.Namespace) -> dict[str, Any]:
    """run() keyword arguments from the parsed command line."""
    resources = {k: getattr(args, k) for k in ("cpus", "memory", "gpus", "time")}
    opts: dict[str, Any] = {k: getattr(args, k) for k in ("partition", "account")}
    if args.sbatch_arg:
        opts["sbatch_args"] = list(args.sbatch_arg)
    chosen = {
        "resources": {k: v for k, v in resources.items() if v is not None},
        "runner_options": {k: v for k, v in opts.items() if v is not None},
    }
    if args.runner == "local":
        # Resources without a scheduler: run() refuses them with its own clear message.
        return {k: v for k, v in chosen.items() if v}
    return {"runner": args.runner, **chosen}


def note(info: dict[str, Any]) -> str:
    """What `syft-pm run` prints after the status for a scheduler's job."""
    where = info.get("runner") or {}
    if where.get("kind") in (None, "local"):
        return ""
    return f" (Slurm job {where.get('job_id')})" if where.get("job_id") else ""
