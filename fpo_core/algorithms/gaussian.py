"""Gaussian PPO: the paper's main baseline (state-independent log-std)."""

from __future__ import annotations

import torch

from fpo_core.algorithms.base import Noise, Policy
from fpo_core.networks import GaussianActor


class GaussianPolicy(Policy):
    kind = "gaussian"

    def __init__(self, actor: GaussianActor):
        super().__init__()
        self.actor = actor

    def sample(self, obs: torch.Tensor, noise: Noise = "zero", num_steps: int | None = None, integrator: str | None = None) -> torch.Tensor:
        if noise == "zero":
            return self.actor(obs)
        if noise == "random":
            return self.actor.distribution(obs).sample()
        raise ValueError(f"unknown noise mode {noise!r}: choose random or zero")

    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        dist = self.actor.distribution(obs)
        action = dist.rsample()  # μ + σ·ε: sample() calls torch.normal, whose σ ≥ 0 check syncs (no CUDA graph)
        return action, {"logp": dist.log_prob(action).sum(-1)}

    def log_ratio(self, obs: torch.Tensor, action: torch.Tensor, extras: dict[str, torch.Tensor]) -> torch.Tensor:
        logp = self.actor.distribution(obs).log_prob(action).sum(-1)
        return (logp - extras["logp"]).unsqueeze(-1)

    def entropy(self, obs: torch.Tensor) -> torch.Tensor:
        return self.actor.distribution(obs).entropy().sum(-1)

    def deploy_info(self) -> dict:
        return {"num_steps": 1, "integrator": "euler", "noise": "zero", "gaussian_std": self.actor.log_std.exp().tolist()}
