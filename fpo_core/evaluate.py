"""Running episodes with any ``act(obs) -> env action`` function (checkpoint or exported model)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from fpo_core.actions import squash
from fpo_core.checkpoint import LoadedPolicy
from fpo_core.device import resolve_device
from fpo_core.envs import make_env
from fpo_core.errors import UsageError

Actor = Callable[[np.ndarray], np.ndarray]
VIDEO_SUFFIXES = (".mp4", ".gif")


def torch_actor(loaded: LoadedPolicy, num_steps: int | None = None, integrator: str | None = None, noise: str = "zero") -> Actor:
    """``act`` for a checkpointed policy: normalise, sample, squash into the action box."""
    spec, dev = loaded.spec, loaded.obs_norm.mean.device
    low, high = np.asarray(spec.action_low), np.asarray(spec.action_high)

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        o = torch.as_tensor(np.asarray(obs, dtype=np.float32).reshape(1, -1), device=dev)
        raw = loaded.policy.sample(loaded.obs_norm(o), noise, num_steps, integrator)
        return squash(raw.cpu().numpy()[0].astype(np.float64), low, high, loaded.config.squash)

    return act


def run_episodes(env_id: str, act: Actor, episodes: int, seed: int, video: Path | None = None) -> np.ndarray:
    """Returns of ``episodes`` episodes; episode i is reset with seed ``seed + i`` (``video``: the first, as mp4 or gif)."""
    if video is not None and video.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"cannot write video {video}: use a name ending in {' or '.join(VIDEO_SUFFIXES)}")
    env = make_env(env_id, render_mode="rgb_array" if video else None)
    frames: list[np.ndarray] = []
    returns = []
    try:
        for i in range(episodes):
            obs, _ = env.reset(seed=seed + i)
            total, done = 0.0, False
            while not done:
                obs, reward, term, trunc, _ = env.step(act(obs))
                total += float(reward)
                done = term or trunc
                if video is not None and i == 0:
                    frames.append(env.render())
            returns.append(total)
    finally:
        env.close()
    if video is not None:
        import imageio

        video.parent.mkdir(parents=True, exist_ok=True)
        imageio.mimsave(video, frames, fps=int(round(1.0 / env.unwrapped.dt)) if hasattr(env.unwrapped, "dt") else 30)
    return np.asarray(returns)


def load_actor(path: Path, num_steps: int | None, integrator: str | None, noise: str, seed: int,
               device: str = "cpu") -> tuple[Actor, str]:
    """An actor and its env id from a run directory, checkpoint or exported ``.onnx`` model."""
    if Path(path).suffix == ".onnx":
        from fpo_core.runtime import FlowPolicy

        policy = FlowPolicy.load(path)
        policy.seed(seed)
        return partial(policy.act, num_steps=num_steps, integrator=integrator, noise=noise), policy.contract.env_id
    torch.manual_seed(seed)
    loaded = LoadedPolicy.load(path, resolve_device(device))
    return torch_actor(loaded, num_steps, integrator, noise), loaded.spec.env_id
