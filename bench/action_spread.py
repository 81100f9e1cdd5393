"""How wide a trained policy's action distribution is at the states it visits.

    python bench/action_spread.py RUN_DIR [RUN_DIR ...] [--states 300] [--samples 32]

Rolls each policy out with zero noise for ``--states`` steps, then at every visited state draws
``--samples`` actions with random initial noise (flow policies) or from the Gaussian, and prints the
per-dimension standard deviation averaged over states and dimensions, before the squash (the
policy's own space) and after it (what the env receives, in box units).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

from fpo_core.actions import squash
from fpo_core.checkpoint import LoadedPolicy
from fpo_core.envs import CheckedEnv
from fpo_core.errors import FpoError


def spread(loaded: LoadedPolicy, states: int, samples: int) -> tuple[float, float]:
    low, high = (torch.tensor(b, dtype=torch.float32) for b in (loaded.spec.action_low, loaded.spec.action_high))
    env: gym.Env = CheckedEnv.make(loaded.config.env_id)  # the dtype and box it was trained in
    obs, _ = env.reset(seed=0)
    visited = []
    with torch.no_grad():
        for _ in range(states):
            visited.append(obs)
            raw = loaded.policy.sample(loaded.obs_norm(torch.as_tensor(obs, dtype=torch.float32)[None]), "zero")
            obs, _, term, trunc, _ = env.step(squash(raw[0], low, high, loaded.config.squash).numpy())
            if term or trunc:
                obs, _ = env.reset()
        o = loaded.obs_norm(torch.as_tensor(np.array(visited), dtype=torch.float32))
        draws = torch.stack([loaded.policy.sample(o, "random") for _ in range(samples)])  # [S, N, A]
    env.close()
    return draws.std(0).mean().item(), squash(draws, low, high, loaded.config.squash).std(0).mean().item()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--states", type=int, default=300)
    p.add_argument("--samples", type=int, default=32)
    args = p.parse_args()
    if args.states < 1 or args.samples < 2:
        p.error("--states must be >= 1 and --samples >= 2 (a spread needs two draws)")
    try:
        policies = [LoadedPolicy.load(run) for run in args.runs]  # every run, before the first rollout
    except FpoError as e:  # a missing run, an exported .onnx: one line
        p.error(str(e))
    print("| run | algo | squash | action std (policy space) | action std (env box) |\n|---|---|---|---:|---:|")
    for run, loaded in zip(args.runs, policies):
        raw, boxed = spread(loaded, args.states, args.samples)
        print(f"| {run} | {loaded.config.algo} | {loaded.config.squash} | {raw:.3f} | {boxed:.3f} |")


if __name__ == "__main__":
    main()
