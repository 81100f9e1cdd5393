"""The PPO update shared by every policy class: trust region, value loss, minibatch epochs."""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

from fpo_core.algorithms.base import Policy
from fpo_core.cuda_graph import graphed
from fpo_core.distributed import Comm
from fpo_core.rollout import Batch


def surrogate_loss(
    log_ratio: torch.Tensor, adv: torch.Tensor, clip: float, trust_region: Literal["ppo", "aspo"] = "ppo"
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Policy loss from ``log r [B, M]`` and advantages ``[B]``: each of the M ratios is trust-regioned, then averaged.

    The stats stay on the device (a ``.item()`` per minibatch would stall a GPU every step)."""
    ratio = log_ratio.exp()
    adv = adv.unsqueeze(-1).expand_as(ratio)
    clipped = torch.minimum(ratio * adv, ratio.clamp(1 - clip, 1 + clip) * adv)
    if trust_region == "aspo":
        spo = ratio * adv - adv.abs() / (2 * clip) * (ratio - 1).square()
        objective = torch.where(adv >= 0, clipped, spo)
    elif trust_region == "ppo":
        objective = clipped
    else:
        raise ValueError(f"unknown trust region {trust_region!r}: choose ppo or aspo")
    with torch.no_grad():
        stats = {"approx_kl": ((ratio - 1) - log_ratio).mean(), "clipfrac": ((ratio - 1).abs() > clip).float().mean()}
    return -objective.mean(), stats


class PPO:
    """Runs epochs of minibatch updates of a policy and critic on one rollout."""

    def __init__(
        self,
        policy: Policy,
        critic: nn.Module,
        lr: float,
        clip: float,
        epochs: int,
        minibatches: int,
        trust_region: Literal["ppo", "aspo"] = "ppo",
        vf_coef: float = 0.5,
        ent_coef: float = 0.0,
        max_grad_norm: float | None = 0.5,
        norm_adv: bool = True,
        target_kl: float | None = None,
        comm: Comm | None = None,
        cuda_graphs: bool = False,
    ):
        if ent_coef and policy.kind != "gaussian":
            raise ValueError("an entropy bonus needs a closed-form entropy: Gaussian policies only")
        self.policy, self.critic = policy, critic
        self.params = [*policy.parameters(), *critic.parameters()]
        self.optimizer = torch.optim.Adam(self.params, lr=lr, eps=1e-5, fused=True)
        self.clip, self.epochs, self.minibatches = clip, epochs, minibatches
        self.trust_region, self.vf_coef, self.ent_coef = trust_region, vf_coef, ent_coef
        self.max_grad_norm, self.norm_adv, self.target_kl = max_grad_norm, norm_adv, target_kl
        self.comm = comm
        self.stat_names = ["policy_loss", "value_loss", "approx_kl", "clipfrac", *(["entropy"] if ent_coef else [])]
        self._gradients = graphed(self.gradients, cuda_graphs)

    def update(self, batch: Batch, generator: torch.Generator | None = None) -> dict[str, float]:
        n = len(batch)
        size = n // self.minibatches
        keys = list(batch.extras)
        total: torch.Tensor | None = None
        count = 0
        for _ in range(self.epochs):
            # one gather per epoch, then every minibatch is a view: 4-32x fewer indexing calls
            shuffled = batch.take(torch.randperm(n, generator=generator, device="cpu").to(batch.obs.device))
            for start in range(0, n, size):
                mb = shuffled.take(slice(start, start + size))
                stats = self._gradients(keys, mb.obs, mb.actions, mb.advantages, mb.returns, *mb.extras.values())
                if self.comm is not None:
                    self.comm.average_grads(self.params)
                if self.max_grad_norm is not None:
                    nn.utils.clip_grad_norm_(self.params, self.max_grad_norm, foreach=True)
                self.optimizer.step()
                total = stats.clone() if total is None else total + stats  # the graph's outputs are reused: copy
                count += 1
            if self.target_kl is not None:
                kl = stats[self.stat_names.index("approx_kl")].item()
                kl = self.comm.mean(kl) if self.comm else kl
                if kl > self.target_kl:  # every rank takes the same decision
                    break
        out = dict(zip(self.stat_names, (total / count).tolist()))
        var_y = batch.returns.var()
        out["explained_variance"] = float("nan") if var_y == 0 else (1 - (batch.returns - batch.values).var() / var_y).item()
        return out

    def gradients(self, keys: list[str], obs: torch.Tensor, actions: torch.Tensor, adv: torch.Tensor, returns: torch.Tensor,
                  *extras: torch.Tensor) -> torch.Tensor:
        """One minibatch's losses and gradients (left in ``.grad``); its stats as one tensor, ``stat_names`` order.

        Pure tensor work on fixed shapes, so with ``cuda_graphs`` it is replayed as a CUDA graph. The gradients are
        set to ``None`` first, so backward writes them afresh (in a graph: into the same tensors every replay).
        """
        if self.norm_adv and adv.numel() > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        log_ratio = self.policy.log_ratio(obs, actions, dict(zip(keys, extras)))
        pg_loss, stats = surrogate_loss(log_ratio, adv, self.clip, self.trust_region)
        v_loss = 0.5 * (self.critic(obs) - returns).square().mean()
        loss = pg_loss + self.vf_coef * v_loss
        if self.ent_coef:
            entropy = self.policy.entropy(obs).mean()
            loss = loss - self.ent_coef * entropy
            stats["entropy"] = entropy.detach()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        return torch.stack([pg_loss.detach(), v_loss.detach(), *stats.values()])
