"""Training throughput on one machine: the random-action ceiling vs Gaussian PPO vs FPO.

    python bench/train_throughput.py [--env-id HalfCheetah-v5] [--steps 16384] [--repeats 5] [--threads 1] [--update-threads 0] [--preset] [--device cpu] [--no-cuda-graphs]

Prints a markdown table (env steps/s, rollout and update milliseconds per 1k steps; medians over
interleaved repeats) for the record in docs/BENCHMARKS.md, then the two target ratios from the medians and
their range over the repeats. Every row uses the ``TrainConfig`` defaults'
env count, or with ``--preset`` each algorithm's per-task preset (what ``fpo train --env-id`` runs).
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
from fpo_core.errors import UsageError
from fpo_core.presets import preset
from fpo_core.trainer import Trainer


def random_ceiling(envs, actions: list[np.ndarray], steps: int) -> dict[str, float]:
    n = max(1, steps // envs.num_envs)  # at least one vector step, as train_speed times at least one rollout
    t0 = time.perf_counter()
    for i in range(n):
        envs.step(actions[i % len(actions)])
    return {"sps": n * envs.num_envs / (time.perf_counter() - t0)}


def train_speed(trainer: Trainer, steps: int) -> dict[str, float]:
    """Time whole rollouts and updates until at least ``steps`` env steps have run (the caller warms up)."""
    rollout = update = 0.0
    done = 0
    while done < steps:
        t0 = time.perf_counter()
        batch = trainer.collect()
        t1 = time.perf_counter()
        trainer.update(batch)
        rollout, update, done = rollout + t1 - t0, update + time.perf_counter() - t1, done + trainer.cfg.batch_size
    return {"sps": done / (rollout + update), "rollout_ms_per_1k": 1e6 * rollout / done, "update_ms_per_1k": 1e6 * update / done}


def median_row(samples: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.median([s[k] for s in samples])) for k in samples[0]}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env-id", default="HalfCheetah-v5")
    p.add_argument("--steps", type=int, default=16384, help="env steps timed per row and repeat")
    p.add_argument("--repeats", type=int, default=5, help="interleaved repeats; the table shows medians")
    p.add_argument("--threads", type=int, default=1, help="torch threads while collecting (TrainConfig.torch_threads)")
    p.add_argument("--update-threads", type=int, default=0, help="torch threads while updating (0 = all cores)")
    p.add_argument("--device", default="cpu", help="torch device for the networks and updates (the envs stay on the CPU)")
    p.add_argument("--cuda-graphs", action=argparse.BooleanOptionalAction, default=True,
                   help="on a CUDA device, replay the rollout step, the update's gradients and GAE as CUDA graphs")
    p.add_argument("--preset", action="store_true", help="start each algorithm from its per-task preset, as fpo train does")
    args = p.parse_args()
    if args.steps < 1 or args.repeats < 1:
        p.error("--steps and --repeats must be >= 1")
    if args.threads < 0 or args.update_threads < 0:  # TrainConfig would name its own options, --torch-threads ...
        p.error("--threads and --update-threads must be >= 0 (0 = automatic)")
    presets = {algo: preset(args.env_id, algo) if args.preset else {} for algo in ("gaussian", "fpo")}
    base = TrainConfig(env_id=args.env_id, **presets["fpo"])
    envs, _ = make_vec_env(args.env_id, base.num_envs)
    envs.reset(seed=0)
    envs.action_space.seed(0)
    actions = [envs.action_space.sample() for _ in range(64)]
    samples: dict[str, list[dict[str, float]]] = {"random actions (ceiling)": [], "gaussian training": [], "fpo training": []}
    with tempfile.TemporaryDirectory() as tmp:
        trainers = {}
        for algo in ("gaussian", "fpo"):
            cfg = TrainConfig(**presets[algo], env_id=args.env_id, algo=algo, total_steps=10**9, run_dir=Path(tmp) / algo,
                              progress=False, tensorboard=False, eval_episodes=0,
                              torch_threads=args.threads, update_threads=args.update_threads, device=args.device,
                              cuda_graphs=args.cuda_graphs)
            trainers[algo] = Trainer(cfg)
            trainers[algo].update(trainers[algo].collect())  # warm-up
        for _ in range(args.repeats):  # interleaved, so a slow spell on a shared machine hits every row
            samples["random actions (ceiling)"].append(random_ceiling(envs, actions, args.steps))
            for algo, trainer in trainers.items():
                samples[f"{algo} training"].append(train_speed(trainer, args.steps))
        for trainer in trainers.values():
            trainer.envs.close()
    envs.close()
    rows = [(name, median_row(s)) for name, s in samples.items()]
    ceiling, gauss, fpo = rows[0][1]["sps"], rows[1][1]["sps"], rows[2][1]["sps"]
    print(f"{args.env_id}{' (presets)' if args.preset else ''}, {base.num_envs} envs × {base.num_steps} steps per rollout, "
          f"rollout threads {torch.get_num_threads()}, "
          f"update threads {trainers['fpo'].update_threads}, device {args.device}"
          f"{' (CUDA graphs)' if args.cuda_graphs and args.device.startswith('cuda') else ''}, medians of {args.repeats} interleaved repeats\n")
    print("| row | env steps/s | rollout ms / 1k steps | update ms / 1k steps |")
    print("|---|---:|---:|---:|")
    for name, r in rows:  # the ceiling has no rollout or update: "-", as the table in docs/BENCHMARKS.md shows it
        ms = " | ".join(f"{r[k]:.1f}" if k in r else "-" for k in ("rollout_ms_per_1k", "update_ms_per_1k"))
        print(f"| {name} | {r['sps']:,.0f} | {ms} |")
    print(f"\nFPO / ceiling throughput: {fpo / ceiling:.2f} (target ≥ 0.5); "
          f"FPO / Gaussian wall-clock per step: {gauss / fpo:.2f} (target ≤ 1.2)")
    # each repeat timed the three rows within seconds of each other: their spread says how far to trust the medians
    per_repeat = [(f["sps"] / c["sps"], g["sps"] / f["sps"]) for c, g, f in zip(*samples.values())]
    print("per repeat: FPO / ceiling {:.2f}-{:.2f}, FPO / Gaussian {:.2f}-{:.2f}".format(
        min(r[0] for r in per_repeat), max(r[0] for r in per_repeat), min(r[1] for r in per_repeat), max(r[1] for r in per_repeat)))


if __name__ == "__main__":
    try:
        main()
    except UsageError as e:
        raise SystemExit(f"train_throughput.py: error: {e}") from None
