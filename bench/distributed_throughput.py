"""Data-parallel training throughput: env steps/s and update time with 1 and N ranks.

    python bench/distributed_throughput.py [--env-id HalfCheetah-v5] [--ranks 1 2] [--steps 65536] [--device cpu]

Each row launches ``torchrun --standalone --nproc_per_node R -m fpo_core.cli train`` with the same
per-rank settings and reads the run's metrics.csv (the first update is skipped as warm-up).
Prints a markdown table for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from fpo_core.cli import train_config
from fpo_core.device import resolve_device
from fpo_core.envs import make_env
from fpo_core.errors import UsageError


def train_args(args: argparse.Namespace, out: Path) -> list[str]:
    """The ``fpo train`` options every rank runs with."""
    return ["--env-id", args.env_id, "--algo", args.algo, "--total-steps", str(args.steps), "--device", args.device,
            "--no-progress", "--no-tensorboard", "--eval-episodes", "0", "--run-dir", str(out)]


def check(args: argparse.Namespace) -> None:
    """Refuse what would fail only inside torchrun (under its traceback) or after the runs: bad options, an unknown
    env, too few steps for the timed updates."""
    if not args.ranks or min(args.ranks) < 1:
        raise UsageError("--ranks must be >= 1")
    cfg = train_config(train_args(args, Path("unused")))
    most = max(args.ranks) * cfg.batch_size
    if args.steps <= most:  # the first update is warm-up: at least one more must be timed with the most ranks
        raise UsageError(f"--steps must be more than one update with {max(args.ranks)} rank(s), {max(args.ranks)} × "
                         f"{cfg.batch_size:,} = {most:,} env steps (the first update is skipped as warm-up), got {args.steps:,}")
    cfg.resolved()
    resolve_device(args.device)
    make_env(args.env_id).close()


def run(ranks: int, args: argparse.Namespace, out: Path) -> dict[str, float]:
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(ranks), "-m", "fpo_core.cli",
           "train", *train_args(args, out)]
    rc = subprocess.run(cmd, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.DEVNULL).returncode
    if rc != 0:
        raise SystemExit(f"distributed_throughput.py: error: torchrun with {ranks} rank(s) failed (exit status {rc}); "
                         f"its output is above")
    with open(out / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    per_update = int(rows[1]["global_step"]) - int(rows[0]["global_step"])
    rows = rows[1:]  # the first update warms up
    total = sum(float(r["rollout_s"]) + float(r["update_s"]) for r in rows)
    steps = per_update * len(rows)
    return {"sps": steps / total, "update_s": sum(float(r["update_s"]) for r in rows) / len(rows),
            "rollout_s": sum(float(r["rollout_s"]) for r in rows) / len(rows)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-id", default="HalfCheetah-v5")
    p.add_argument("--algo", default="fpo", choices=("fpo", "gaussian", "dppo"))
    p.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, default=65536)
    p.add_argument("--device", default="cpu")
    args = p.parse_args()
    try:
        check(args)
    except UsageError as e:
        p.error(str(e))
    print(f"{args.env_id}, {args.algo}, device {args.device}; per-rank defaults of `fpo train`\n")
    print("| ranks | env steps/s | rollout s / update | update s / update |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for r in args.ranks:
            res = run(r, args, Path(tmp) / f"r{r}")
            print(f"| {r} | {res['sps']:,.0f} | {res['rollout_s']:.3f} | {res['update_s']:.3f} |", flush=True)


if __name__ == "__main__":
    main()
