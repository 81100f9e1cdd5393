"""FPO: a flow policy whose PPO ratio is ``exp(ℓ_old − ℓ_θ)`` from conditional flow matching losses."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch

from fpo_core import integrators
from fpo_core.algorithms.base import Noise, Policy
from fpo_core.flow import Weighting, cfm_loss, interpolate, target_velocity, weight
from fpo_core.networks import VelocityField


@dataclass
class FlowSampling:
    """How the flow is integrated: step count, integrator and the initial noise."""

    num_steps: int = 10
    integrator: str = "euler"
    noise: Noise = "random"


class FPOPolicy(Policy):
    kind = "flow"

    def __init__(
        self,
        field: VelocityField,
        act_dim: int,
        sampling: FlowSampling,
        n_mc: int = 8,
        weighting: Weighting = "eps",
        ratio: Literal["mean", "per_sample"] = "mean",
        tau_sampling: Literal["uniform", "grid"] = "uniform",
        log_ratio_clamp: float | None = None,
    ):
        super().__init__()
        integrators.check(sampling.integrator, sampling.num_steps)
        if n_mc < 1:
            raise ValueError(f"n_mc must be >= 1, got {n_mc}")
        self.field = field
        self.act_dim = act_dim
        self.sampling = sampling
        self.n_mc = n_mc
        self.weighting = weighting
        self.ratio = ratio
        self.tau_sampling = tau_sampling
        self.log_ratio_clamp = log_ratio_clamp

    def sample(self, obs: torch.Tensor, noise: Noise = "zero", num_steps: int | None = None, integrator: str | None = None) -> torch.Tensor:
        x0 = self.initial_noise(obs, self.act_dim, noise)
        steps, method = num_steps or self.sampling.num_steps, integrator or self.sampling.integrator
        return integrators.integrate(self.field.field(obs, integrators.eval_times(steps, method)), x0, steps, method)

    def _draw_tau(self, n: int, device: torch.device) -> torch.Tensor:
        if self.tau_sampling == "grid":
            k = self.sampling.num_steps
            return torch.randint(0, k, (n, self.n_mc, 1), device=device).float() / k
        return torch.rand(n, self.n_mc, 1, device=device)

    def cfm_terms(self, action: torch.Tensor, tau: torch.Tensor, eps: torch.Tensor) -> dict[str, torch.Tensor]:
        """The parameter-free parts of ℓ for the pairs ``tau [B, N_mc, 1]``, ``eps [B, N_mc, A]`` of each action."""
        a = action.unsqueeze(1).expand_as(eps)
        return {"pairs": self.field.pair_input(interpolate(a, eps, tau), tau), "target": target_velocity(a, eps),
                "weight": weight(tau.squeeze(-1), self.weighting)}

    def losses(self, obs: torch.Tensor, terms: dict[str, torch.Tensor]) -> torch.Tensor:
        """ℓ_θ for every pair in one forward pass: ``[B, N_mc]``."""
        # [B, 1, H] observation code broadcast over the N_mc pairs: no copies, one pass.
        v = self.field.velocity_at(self.field.encode_obs(obs).unsqueeze(1), terms["pairs"])
        return cfm_loss(v, terms["target"], terms["weight"])

    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        action = self.sample(obs, self.sampling.noise)
        tau = self._draw_tau(obs.shape[0], obs.device)
        eps = torch.randn(obs.shape[0], self.n_mc, self.act_dim, device=obs.device)
        return action, {"tau": tau, "eps": eps}

    def prepare_update(self, obs: torch.Tensor, action: torch.Tensor, extras: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """The pairs' parameter-free terms, computed once instead of in every minibatch, and ℓ_θold.

        θ has not changed since the rollout, so ℓ here is the loss the rollout would have stored.
        """
        terms = self.cfm_terms(action, extras["tau"], extras["eps"])
        return {**terms, "loss_old": self.losses(obs, terms)}

    def log_ratio(self, obs: torch.Tensor, action: torch.Tensor, extras: dict[str, torch.Tensor]) -> torch.Tensor:
        diff = extras["loss_old"] - self.losses(obs, extras)
        if self.ratio == "mean":
            diff = diff.mean(dim=1, keepdim=True)
        if self.log_ratio_clamp is not None:
            diff = diff.clamp(-self.log_ratio_clamp, self.log_ratio_clamp)
        return diff

    def deploy_info(self) -> dict:
        s = self.sampling
        return {"num_steps": s.num_steps, "integrator": s.integrator, "noise": s.noise}
