"""Running mean/variance statistics (mergeable across processes) for observations and returns."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class RunningNorm(nn.Module):
    """Normalises inputs with running statistics: ``clip((x − mean)/sqrt(var + eps))``.

    Statistics are float64 buffers, so they travel with ``state_dict`` (checkpoints) and are
    baked into the exported graph. ``update`` is the only thing that changes them.
    """

    def __init__(self, size: int | tuple[int, ...], clip: float = 10.0, eps: float = 1e-8):
        super().__init__()
        self.register_buffer("mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("var", torch.ones(size, dtype=torch.float64))
        self.register_buffer("count", torch.tensor(0.0, dtype=torch.float64))
        self.clip = clip
        self.eps = eps

    @torch.no_grad()
    def update(self, batch: torch.Tensor) -> None:
        """Fold a batch ``[N, *size]`` into the statistics (Chan et al. parallel update)."""
        batch = batch.to(torch.float64).reshape(-1, *self.mean.shape)
        self.merge(batch.mean(0), batch.var(0, unbiased=False), float(batch.shape[0]))

    @torch.no_grad()
    def merge(self, mean: torch.Tensor, var: torch.Tensor, count: float) -> None:
        """Combine these statistics with another set's (mean, population variance, count)."""
        if count <= 0:
            return
        total = self.count + count
        delta = mean.to(self.mean) - self.mean
        m2 = self.var * self.count + var.to(self.var) * count + delta.square() * self.count * count / total
        self.mean += delta * count / total
        self.var.copy_(m2 / total)
        self.count.copy_(total)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        std = (self.var + self.eps).sqrt().to(x.dtype)
        return ((x - self.mean.to(x.dtype)) / std).clamp(-self.clip, self.clip)


class ReturnScaler(nn.Module):
    """Divides rewards by the running std of the discounted return (as gymnasium's NormalizeReward)."""

    def __init__(self, num_envs: int, gamma: float):
        super().__init__()
        self.gamma = gamma
        self.stats = RunningNorm(())
        self.register_buffer("ret", torch.zeros(num_envs, dtype=torch.float64))

    def forward(self, reward: np.ndarray, done: np.ndarray) -> np.ndarray:
        ret = self.ret.numpy() * self.gamma + reward
        self.stats.update(torch.from_numpy(ret))
        self.ret.copy_(torch.from_numpy(np.where(done, 0.0, ret)))
        return reward / np.sqrt(self.stats.var.item() + self.stats.eps)
