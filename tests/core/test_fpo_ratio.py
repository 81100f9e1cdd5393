"""The FPO ratio is 1 at θ = θold, also after the observation normaliser has moved on."""

import pytest
import torch

from fpo_core.trainer import Trainer

from .helpers import tiny_config


@pytest.mark.parametrize("algo,ratio", [("fpo", "mean"), ("fpo", "per_sample"), ("dppo", "mean"), ("gaussian", "mean")])
def test_ratio_is_one_before_any_update(tmp_path, algo, ratio):
    trainer = Trainer(tiny_config(tmp_path / "run", algo=algo, ratio=ratio))
    batch = trainer.collect()
    # The normaliser keeps learning after the rollout (as it does in the next rollout) ...
    trainer.obs_norm.update(torch.randn(500, trainer.spec.obs_dim) * 10 + 3)
    with torch.no_grad():
        # ... but the batch stored normalised observations, so the ratio at θ = θold is exactly 1,
        full = trainer.policy.log_ratio(batch.obs, batch.actions, batch.extras)
        assert torch.equal(full, torch.zeros_like(full))
        # and on minibatches (other matrix shapes) it stays 1 to float precision.
        idx = torch.randperm(batch.obs.shape[0])[:17]
        mini = trainer.policy.log_ratio(batch.obs[idx], batch.actions[idx], {k: v[idx] for k, v in batch.extras.items()})
        assert mini.abs().max().item() < 1e-5
    trainer.envs.close()


def test_ratio_moves_after_an_update(tmp_path):
    trainer = Trainer(tiny_config(tmp_path / "run"))
    batch = trainer.collect()
    trainer.ppo.update(batch)
    with torch.no_grad():
        assert trainer.policy.log_ratio(batch.obs, batch.actions, batch.extras).abs().max().item() > 0
    trainer.envs.close()


def test_ratio_is_the_cfm_loss_decrease_averaged_over_the_pairs():
    """log r = mean over an action's (τ, ε) pairs of ℓ_old − ℓ_θ ("mean"), or each pair's own ("per_sample"); at θ = θold
    both are 0, so only moved weights tell the mean from a sum or the two modes apart."""
    from fpo_core.algorithms import FlowSampling, FPOPolicy
    from fpo_core.networks import VelocityField

    torch.manual_seed(0)
    field = VelocityField(3, 2, (16, 16))
    make = lambda ratio, clamp=None: FPOPolicy(field, 2, FlowSampling(), n_mc=4, ratio=ratio, log_ratio_clamp=clamp)  # noqa: E731
    obs, action = torch.randn(6, 3), torch.randn(6, 2)
    with torch.no_grad():
        _, extras = make("mean").act(obs)
        extras = make("mean").prepare_update(obs, action, extras)
        for p in field.parameters():
            p.add_(0.1 * torch.randn_like(p))
        decrease = extras["loss_old"] - make("mean").losses(obs, extras)  # [6, 4]
        assert decrease.shape == (6, 4) and not torch.allclose(decrease, decrease.mean(1, keepdim=True))
        torch.testing.assert_close(make("mean").log_ratio(obs, action, extras), decrease.mean(1, keepdim=True))
        torch.testing.assert_close(make("per_sample").log_ratio(obs, action, extras), decrease)
        mean = decrease.mean(1)
        bound = 0.5 * min(mean.max().item(), -mean.min().item())  # rows beyond it on both sides
        assert bound > 0 and (mean > bound).any() and (mean < -bound).any()
        torch.testing.assert_close(make("mean", bound).log_ratio(obs, action, extras),
                                   decrease.mean(1, keepdim=True).clamp(-bound, bound))
