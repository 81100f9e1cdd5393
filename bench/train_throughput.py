"""Training throughput on one machine: the random-action ceiling vs Gaussian PPO vs FPO.

    python bench/train_throughput.py [--env-id HalfCheetah-v5] [--steps 32768] [--threads 1]

Prints a markdown table (env steps/s, rollout and update seconds per 1k steps) for the record in
docs/BENCHMARKS.md. Every row uses the same vector env and the CLI's default env count.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from fpo_core.config import TrainConfig
from fpo_core.envs import make_vec_env
from fpo_core.trainer import Trainer


def random_ceiling(env_id: str, num_envs: int, steps: int) -> float:
    envs, _ = make_vec_env(env_id, num_envs)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    actions = [envs.action_space.sample() for _ in range(64)]
    n = steps // num_envs
    t0 = time.perf_counter()
    for i in range(n):
        envs.step(actions[i % 64])
    dt = time.perf_counter() - t0
    envs.close()
    return n * num_envs / dt


def train_speed(cfg: TrainConfig, warmup_iters: int = 1) -> dict[str, float]:
    trainer = Trainer(cfg)
    rollout = update = 0.0
    steps = 0
    iters = cfg.total_steps // cfg.batch_size
    for i in range(iters):
        t0 = time.perf_counter()
        batch = trainer.collect()
        t1 = time.perf_counter()
        trainer.ppo.update(batch)
        t2 = time.perf_counter()
        if i >= warmup_iters:
            rollout, update, steps = rollout + t1 - t0, update + t2 - t1, steps + cfg.batch_size
    trainer.envs.close()
    return {"sps": steps / (rollout + update), "rollout_ms_per_1k": 1e3 * rollout / steps * 1000,
            "update_ms_per_1k": 1e3 * update / steps * 1000}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-id", default="HalfCheetah-v5")
    p.add_argument("--steps", type=int, default=32768, help="env steps timed per training row")
    p.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: the trainer's)")
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    base = TrainConfig(env_id=args.env_id)
    rows = [("random actions (ceiling)", {"sps": random_ceiling(args.env_id, base.num_envs, args.steps)})]
    with tempfile.TemporaryDirectory() as tmp:
        for algo in ("gaussian", "fpo"):
            cfg = TrainConfig(env_id=args.env_id, algo=algo, total_steps=args.steps + base.batch_size,
                              run_dir=Path(tmp) / algo, progress=False, tensorboard=False, eval_episodes=0)
            rows.append((f"{algo} training", train_speed(cfg)))
    ceiling, gauss, fpo = rows[0][1]["sps"], rows[1][1]["sps"], rows[2][1]["sps"]
    print(f"{args.env_id}, {base.num_envs} envs × {base.num_steps} steps per rollout, torch threads {torch.get_num_threads()}\n")
    print("| row | env steps/s | rollout ms / 1k steps | update ms / 1k steps |")
    print("|---|---:|---:|---:|")
    for name, r in rows:
        print(f"| {name} | {r['sps']:,.0f} | {r.get('rollout_ms_per_1k', np.nan):.1f} | {r.get('update_ms_per_1k', np.nan):.1f} |")
    print(f"\nFPO / ceiling throughput: {fpo / ceiling:.2f} (target ≥ 0.5); "
          f"FPO / Gaussian wall-clock per step: {gauss / fpo:.2f} (target ≤ 1.2)")


if __name__ == "__main__":
    main()
