"""Policy classes (FPO, Gaussian, DPPO) over one shared PPO update."""

from __future__ import annotations

from fpo_core.algorithms.base import NOISE_MODES, Noise, Policy
from fpo_core.algorithms.dppo import DPPOPolicy
from fpo_core.algorithms.fpo import FlowSampling, FPOPolicy
from fpo_core.algorithms.gaussian import GaussianPolicy
from fpo_core.config import TrainConfig
from fpo_core.networks import GaussianActor, VelocityField

__all__ = ["NOISE_MODES", "Noise", "Policy", "FPOPolicy", "GaussianPolicy", "DPPOPolicy", "FlowSampling", "build_policy"]


def build_policy(cfg: TrainConfig, obs_dim: int, act_dim: int) -> Policy:
    """The policy ``cfg.algo`` names, with freshly initialised networks."""
    if cfg.algo == "gaussian":
        return GaussianPolicy(GaussianActor(obs_dim, act_dim, cfg.actor_hidden, cfg.activation, cfg.init_log_std))
    field = VelocityField(obs_dim, act_dim, cfg.actor_hidden, cfg.activation)
    if cfg.algo == "dppo":
        return DPPOPolicy(field, act_dim, cfg.flow_steps, cfg.dppo_sigma)
    return FPOPolicy(
        field,
        act_dim,
        FlowSampling(cfg.flow_steps, cfg.integrator, cfg.init_noise),
        n_mc=cfg.n_mc,
        weighting=cfg.loss_weighting,
        ratio=cfg.ratio,
        tau_sampling=cfg.tau_sampling,
        log_ratio_clamp=cfg.log_ratio_clamp,
    )
