"""An FPO update makes positive-advantage actions likelier (lower CFM loss) and negative ones less likely."""

import pytest
import torch

from fpo_core.algorithms import FlowSampling, FPOPolicy
from fpo_core.algorithms.ppo import PPO
from fpo_core.networks import Critic, VelocityField
from fpo_core.rollout import Batch


def mean_cfm_loss(policy: FPOPolicy, obs, action, samples=4096) -> float:
    g = torch.Generator().manual_seed(123)
    tau = torch.rand(1, samples, 1, generator=g)
    eps = torch.randn(1, samples, action.shape[-1], generator=g)
    with torch.no_grad():
        return policy.losses(obs, policy.cfm_terms(action, tau, eps)).mean().item()


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_update_follows_the_advantage(sign):
    torch.manual_seed(0)
    policy = FPOPolicy(VelocityField(3, 2, (32, 32)), 2, FlowSampling(), n_mc=16, weighting="velocity")
    critic = Critic(3, (16,))
    obs = torch.randn(1, 3).expand(64, 3).clone()
    action = torch.tensor([[0.7, -0.4]]).expand(64, 2).clone()
    with torch.no_grad():
        _, extras = policy.act(obs)  # draws (τ, ε), as a rollout does
        extras = policy.prepare_update(obs, action, extras)
    batch = Batch(obs, action, torch.zeros(64), torch.full((64,), sign), torch.zeros(64), extras)
    before = mean_cfm_loss(policy, obs[:1], action[:1])
    PPO(policy, critic, lr=1e-3, clip=0.2, epochs=4, minibatches=2, norm_adv=False).update(batch)
    after = mean_cfm_loss(policy, obs[:1], action[:1])
    assert (after < before) if sign > 0 else (after > before), (sign, before, after)
