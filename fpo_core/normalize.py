"""Running mean/variance statistics (mergeable across processes) for observations and returns."""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn


class RunningNorm(nn.Module):
    """Normalises inputs with running statistics: ``clip((x − mean)/sqrt(var + eps))`` (``clip`` None: no clip).

    Statistics are float64 buffers, so they travel with ``state_dict`` (checkpoints) and are
    baked into the exported graph. ``update`` is the only thing that changes them.
    """

    def __init__(self, size: int | tuple[int, ...], clip: float | None = 10.0, eps: float = 1e-8):
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
        var, mean = torch.var_mean(batch, dim=0, correction=0)
        self.merge(mean, var, float(batch.shape[0]))

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
        x = (x - self.mean.to(x.dtype)) / std
        return x if self.clip is None else x.clamp(-self.clip, self.clip)

    @classmethod
    def for_observations(cls, size: int, enabled: bool) -> "RunningNorm":
        """The observation normaliser of a run: with ``--no-obs-norm`` it never updates (mean 0, var 1)
        and must not clip either, or raw observations past ±10 (HalfCheetah's reach 23) would be cut."""
        return cls(size, clip=10.0 if enabled else None)


class ReturnScaler(nn.Module):
    """Divides rewards by the running std of the discounted return (as gymnasium's NormalizeReward), then
    clips them to ``±clip`` (None: not) as CleanRL and Stable-Baselines3 do: until the returns have spread
    the std is near 0 (with equal rewards in every env, as on InvertedPendulum's first step, exactly 0),
    and a first reward would otherwise be scaled by up to 1/sqrt(eps) = 10⁴.

    Lives on the CPU; the arithmetic is numpy on views of its buffers (a few scalars per env step).
    """

    def __init__(self, num_envs: int, gamma: float, eps: float = 1e-8, clip: float | None = 10.0):
        super().__init__()
        self.gamma, self.eps, self.clip = gamma, eps, clip
        self.register_buffer("ret", torch.zeros(num_envs, dtype=torch.float64))
        self.register_buffer("stats", torch.tensor([0.0, 0.0, 0.0], dtype=torch.float64))  # count, mean, M2

    def forward(self, reward: np.ndarray, done: np.ndarray,
                union: Callable[[np.ndarray], tuple[float, float, float]] | None = None) -> np.ndarray:
        """Scale one step's rewards. ``union``: the count, mean and sum of squared deviations of every process's
        returns (data-parallel training; default: this process's)."""
        ret, stats = self.ret.numpy(), self.stats.numpy()
        ret *= self.gamma
        ret += reward
        n, mean, m2 = stats.tolist()  # Python floats: a fraction of numpy scalars' cost, on every env step
        if union is None:
            b_n, b_mean = ret.size, float(ret.sum()) / ret.size
            centred = ret - b_mean
            b_m2 = float(centred @ centred)
        else:
            b_n, b_mean, b_m2 = union(ret)
        total = n + b_n
        delta = b_mean - mean
        mean, m2 = mean + delta * b_n / total, m2 + b_m2 + delta**2 * n * b_n / total
        stats[:] = (total, mean, m2)
        ret[done] = 0.0
        scaled = np.array(reward, dtype=np.float64)  # a new array whatever came in (clipped in place below)
        scaled /= math.sqrt(m2 / total + self.eps)
        if self.clip is not None:  # np.minimum/maximum in place: np.clip costs several times more at this size
            np.minimum(np.maximum(scaled, -self.clip, out=scaled), self.clip, out=scaled)
        return scaled
