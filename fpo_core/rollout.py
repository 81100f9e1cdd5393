"""Rollout storage and generalised advantage estimation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from fpo_core.cuda_graph import graphed


@dataclass
class Batch:
    """A flattened rollout: everything the update reads, ``[T·N, ...]``."""

    obs: torch.Tensor
    actions: torch.Tensor
    values: torch.Tensor
    advantages: torch.Tensor
    returns: torch.Tensor
    extras: dict[str, torch.Tensor]

    def __len__(self) -> int:
        return self.obs.shape[0]

    def take(self, idx: torch.Tensor | slice) -> Batch:
        """The rows ``idx`` selects: an index tensor gathers copies, a slice makes views."""
        # index_select, not x[idx]: 3-5x faster row gathers on the CPU (FPO's [B, N_mc, 14] pairs: 14 vs 74 µs)
        rows = (lambda x: x[idx]) if isinstance(idx, slice) else (lambda x: x.index_select(0, idx))
        return Batch(rows(self.obs), rows(self.actions), rows(self.values), rows(self.advantages), rows(self.returns),
                     {k: rows(v) for k, v in self.extras.items()})


class RolloutBuffer:
    """``[T, N, ...]`` storage for one rollout; observations are stored already normalised, so
    the statistics used for a batch are frozen with it (the FPO ratio is 1 at θ = θold).

    Rewards and dones come from the envs on the host and stay there until ``finish`` moves them to the
    device in one copy each (not two small copies per step). A batch views this storage: it is valid
    until the next rollout.
    """

    def __init__(self, num_steps: int, num_envs: int, obs_dim: int, act_dim: int, device: torch.device,
                 cuda_graphs: bool = False):
        shape = (num_steps, num_envs)
        self.device = device
        self.obs = torch.zeros(*shape, obs_dim, device=device)
        self.actions = torch.zeros(*shape, act_dim, device=device)
        self.values = torch.zeros(shape, device=device)
        self.rewards = np.zeros(shape, dtype=np.float32)
        self.dones = np.zeros(shape, dtype=np.float32)
        self.extras: dict[str, torch.Tensor] = {}
        self.index = torch.arange(num_steps, device=device).split(1)
        """``index[t]``: step ``t`` as the one-element index tensor ``store`` takes (made once, not per step)."""
        self.gae: Callable[..., torch.Tensor] = graphed(gae, cuda_graphs)

    def store(self, t: torch.Tensor, obs: torch.Tensor, action: torch.Tensor, value: torch.Tensor,
              extras: dict[str, torch.Tensor]) -> None:
        """What the policy computed at the step ``t`` names (one of ``index``): written through an index tensor, so a
        CUDA graph replays the writes."""
        self.obs.index_copy_(0, t, obs.unsqueeze(0))
        self.actions.index_copy_(0, t, action.unsqueeze(0))
        self.values.index_copy_(0, t, value.unsqueeze(0))
        for k, v in extras.items():
            if k not in self.extras:
                self.extras[k] = torch.zeros(*self.values.shape, *v.shape[1:], dtype=v.dtype, device=v.device)
            self.extras[k].index_copy_(0, t, v.unsqueeze(0))

    def add_env(self, t: int, reward: np.ndarray, done: np.ndarray) -> None:
        """What the envs returned for step ``t``'s actions."""
        self.rewards[t], self.dones[t] = reward, done

    def finish(self, last_value: torch.Tensor, gamma: float, lam: float) -> Batch:
        """GAE(γ, λ). ``dones[t]`` means the episode ended at step t, so step t+1 starts a new one;
        truncated episodes already had ``γ·V(final obs)`` added to their last reward."""
        rewards, dones = (torch.as_tensor(x, device=self.device) for x in (self.rewards, self.dones))
        adv = self.gae(rewards, self.values, dones, last_value, gamma, lam)
        flat = lambda x: x.reshape(-1, *x.shape[2:])  # noqa: E731
        return Batch(flat(self.obs), flat(self.actions), flat(self.values), flat(adv), flat(adv + self.values),
                     {k: flat(v) for k, v in self.extras.items()})


def gae(rewards: torch.Tensor, values: torch.Tensor, dones: torch.Tensor, last_value: torch.Tensor, gamma: float, lam: float) -> torch.Tensor:
    """Advantages ``[T, N]`` by the backward GAE recursion."""
    adv = torch.zeros_like(rewards)
    running = torch.zeros_like(last_value)
    next_value = last_value
    for t in reversed(range(rewards.shape[0])):
        live = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_value * live - values[t]
        running = delta + gamma * lam * live * running
        adv[t] = running
        next_value = values[t]
    return adv
