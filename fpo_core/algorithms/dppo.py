"""DPPO: stochastic Euler denoising, one Gaussian ratio per denoising step sharing the advantage."""

from __future__ import annotations

import math

import torch

from fpo_core import integrators
from fpo_core.algorithms.base import Noise, Policy
from fpo_core.networks import VelocityField


class DPPOPolicy(Policy):
    kind = "flow"

    def __init__(self, field: VelocityField, act_dim: int, num_steps: int = 10, sigma: float = 0.05):
        super().__init__()
        integrators.check("euler", num_steps)
        if sigma <= 0:
            raise ValueError(f"dppo sigma must be > 0, got {sigma}")
        self.field = field
        self.act_dim = act_dim
        self.num_steps = num_steps
        self.sigma = sigma

    def sample(self, obs: torch.Tensor, noise: Noise = "zero", num_steps: int | None = None, integrator: str | None = None) -> torch.Tensor:
        x0 = self.initial_noise(obs, self.act_dim, noise)
        steps, method = num_steps or self.num_steps, integrator or "euler"
        return integrators.integrate(self.field.field(obs, integrators.eval_times(steps, method)), x0, steps, method)

    def _means(self, code: torch.Tensor, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        return x + self.field.velocity(code, x, tau) / self.num_steps

    def _log_prob(self, mean: torch.Tensor, x_next: torch.Tensor) -> torch.Tensor:
        z = (x_next - mean) / self.sigma
        return (-0.5 * z.square() - math.log(self.sigma) - 0.5 * math.log(2 * math.pi)).sum(-1)

    def act(self, obs: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        n, k = obs.shape[0], self.num_steps
        code = self.field.encode_obs(obs)
        chain = [torch.randn(n, self.act_dim, device=obs.device)]
        logps = []
        for i in range(k):
            tau = torch.full((1, 1), i / k, device=obs.device)
            mean = self._means(code, chain[-1], tau)
            chain.append(mean + self.sigma * torch.randn_like(mean))
            logps.append(self._log_prob(mean, chain[-1]))
        return chain[-1], {"chain": torch.stack(chain, 1), "logp": torch.stack(logps, 1)}

    def log_ratio(self, obs: torch.Tensor, action: torch.Tensor, extras: dict[str, torch.Tensor]) -> torch.Tensor:
        chain = extras["chain"]  # [B, K+1, A]
        b, k = chain.shape[0], self.num_steps
        code = self.field.encode_obs(obs).unsqueeze(1).expand(b, k, -1).reshape(b * k, -1)
        tau = (torch.arange(k, device=obs.device, dtype=obs.dtype) / k).repeat(b).unsqueeze(-1)
        mean = self._means(code, chain[:, :-1].reshape(b * k, -1), tau)
        logp = self._log_prob(mean, chain[:, 1:].reshape(b * k, -1)).view(b, k)
        return logp - extras["logp"]

    def deploy_info(self) -> dict:
        return {"num_steps": self.num_steps, "integrator": "euler", "noise": "random"}  # act starts from N(0, I)
