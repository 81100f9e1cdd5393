"""What every policy class gives the shared PPO update: how to act and how to form a ratio."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Literal

import torch
from torch import nn

Noise = Literal["random", "zero"]
NOISE_MODES = ("random", "zero")


class Policy(nn.Module, ABC):
    """A stochastic policy over *unsquashed* actions, on normalised observations.

    ``act`` returns the raw action and the extras the update needs (stored per step in the
    rollout); ``log_ratio`` turns a minibatch of those back into ``log r`` of shape ``[B, M]``:
    ``M`` ratios per sample, each clipped by the trust region and then averaged.
    """

    kind: str  # "flow" or "gaussian": how the policy is exported and deployed

    @abstractmethod
    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Sample actions for training: ``[N, A]`` and the extras kept for the update."""

    @abstractmethod
    def sample(self, obs: torch.Tensor, noise: Noise = "zero", num_steps: int | None = None, integrator: str | None = None) -> torch.Tensor:
        """Actions for evaluation: ``zero`` noise is deterministic, ``random`` samples the policy."""

    @abstractmethod
    def log_ratio(self, obs: torch.Tensor, action: torch.Tensor, extras: dict[str, torch.Tensor]) -> torch.Tensor:
        """``log π_θ/π_θold`` (or its surrogate) per sample: ``[B, M]``."""

    def prepare_update(self, obs: torch.Tensor, action: torch.Tensor, extras: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The extras the update reads, from the rollout's: called once per rollout, while θ is still θ_old,
        for terms cheaper to compute for the whole batch in one pass than in every minibatch."""
        return extras

    @staticmethod
    def initial_noise(obs: torch.Tensor, act_dim: int, noise: Noise) -> torch.Tensor:
        """x₀ for sampling a flow: ``zero`` or ``random`` (N(0, I)), one row per observation."""
        x0 = torch.zeros(obs.shape[0], act_dim, dtype=obs.dtype, device=obs.device)
        if noise == "random":
            return x0.normal_()
        if noise != "zero":
            raise ValueError(f"unknown noise mode {noise!r}: choose random or zero")
        return x0

    def entropy(self, obs: torch.Tensor) -> torch.Tensor | None:
        """Entropy per sample where the policy has a closed form; ``None`` otherwise."""
        return None

    def deploy_info(self) -> dict:
        """Contract fields this policy adds to an exported model (step count, integrator, ...)."""
        return {}
