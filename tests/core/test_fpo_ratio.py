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
