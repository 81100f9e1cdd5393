"""The GridWorld bimodality check (FPO paper §4.1): actions and rollouts from the saddle point."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from fpo_core.actions import squash
from fpo_core.checkpoint import LoadedPolicy
from fpo_core.config import TrainConfig
from fpo_core.envs import make_env
from fpo_core.evaluate import torch_actor
from fpo_sim.gridworld import BOTTOM, TOP, GridWorldEnv

ENV_ID = "fpo_sim/GridWorld-v0"


def train_config(algo: str, total_steps: int = 122_880, seed: int = 1, run_dir: Path | None = None) -> TrainConfig:
    """Settings that learn the GridWorld in under a minute on a CPU (paper: clip 0.2, 64-64 ReLU).

    Batches of 2,048 (32 envs) and 60 updates: the mode weights at the saddle random-walk with
    every update, so fewer, larger updates keep both modes (longer training drifts to one goal).
    """
    extra = {"n_mc": 16, "clip_coef": 0.2} if algo == "fpo" else {}
    return TrainConfig(env_id=ENV_ID, algo=algo, total_steps=total_steps, seed=seed, run_dir=run_dir, gamma=0.9,
                       num_envs=32, activation="relu", progress=False, tensorboard=False, eval_episodes=0, **extra)


def dip_ratio(up: np.ndarray) -> float:
    """How empty the middle between two action modes is: the density of ``up`` at |a_y| < 0.25 over the weaker
    mode's beyond ±0.5 (equal-width bins; about 1 for one broad mode, near 0 for two, inf with one side empty)."""
    weaker = min((up > 0.5).mean(), (up < -0.5).mean())
    return float((np.abs(up) < 0.25).mean() / weaker) if weaker > 0 else float("inf")


@torch.no_grad()
def saddle_actions(loaded: LoadedPolicy, samples: int) -> np.ndarray:
    """``samples`` env actions ``[N, 2]`` at the saddle, each from fresh random initial noise."""
    obs, _ = GridWorldEnv(start="saddle").reset()
    o = torch.as_tensor(np.repeat(obs[None], samples, 0), device=loaded.obs_norm.mean.device)
    raw = loaded.policy.sample(loaded.obs_norm(o), "random").cpu().numpy()
    return squash(raw, np.asarray(loaded.spec.action_low), np.asarray(loaded.spec.action_high), loaded.config.squash)


@dataclass
class Rollouts:
    """Episodes from the saddle: positions ``[T+1, 2]`` per episode and the goal each reached (TOP, BOTTOM, NONE)."""

    paths: list[np.ndarray]
    goals: np.ndarray

    def fraction(self, goal: int) -> float:
        return float((self.goals == goal).mean())


def saddle_rollouts(loaded: LoadedPolicy, episodes: int, seed: int = 0) -> Rollouts:
    """``episodes`` episodes from the saddle with random initial noise (seeded)."""
    torch.manual_seed(seed)
    act = torch_actor(loaded, noise="random")
    env = make_env(ENV_ID, start="saddle")
    paths, goals = [], []
    for i in range(episodes):
        obs, info = env.reset(seed=seed + i)
        path, done = [env.unwrapped.pos.copy()], False
        while not done:
            obs, _, term, trunc, info = env.step(act(obs))
            path.append(env.unwrapped.pos.copy())
            done = term or trunc
        paths.append(np.asarray(path))
        goals.append(info["goal"])
    env.close()
    return Rollouts(paths, np.asarray(goals))


def plot_saddle(fpo_run: Path, gaussian_run: Path, out_png: Path, samples: int = 2000, episodes: int = 64) -> dict:
    """Draw FPO beside Gaussian PPO: actions at the saddle and rollouts from it; returns goal fractions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = GridWorldEnv().top
    fig, axes = plt.subplots(2, 3, figsize=(11, 6.6), gridspec_kw={"width_ratios": [1, 1, 1.1]})
    result = {}
    for row, (name, run) in zip(axes, (("FPO", fpo_run), ("Gaussian PPO", gaussian_run))):
        loaded = LoadedPolicy.load(run)
        acts = saddle_actions(loaded, samples)
        roll = saddle_rollouts(loaded, episodes)
        top, bottom = roll.fraction(TOP), roll.fraction(BOTTOM)
        result[name] = {"top": top, "bottom": bottom}
        row[0].scatter(acts[:, 0], acts[:, 1], s=3, alpha=0.3)
        row[0].set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), xlabel="action x", ylabel="action y",
                   title=f"{name}: {samples} actions at the saddle")
        row[1].hist(acts[:, 1], bins=40, range=(-1, 1), color="tab:orange")
        row[1].set(xlabel="action y (up > 0)", ylabel="count", title="vertical component")
        for path in roll.paths:
            row[2].plot(path[:, 0], path[:, 1], lw=0.8, alpha=0.5)
        row[2].axhspan(size - 0.5, size + 0.5, color="tab:green", alpha=0.3)
        row[2].axhspan(-0.5, 0.5, color="tab:green", alpha=0.3)
        row[2].plot(size / 2, size / 2, "k*", ms=10)
        row[2].set(xlim=(-0.5, size + 0.5), ylim=(-0.5, size + 0.5), aspect="equal",
                   title=f"{episodes} rollouts: top {top:.0%}, bottom {bottom:.0%}")
    fig.tight_layout()
    Path(out_png).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out_png, dpi=80)
    plt.close(fig)
    return result
