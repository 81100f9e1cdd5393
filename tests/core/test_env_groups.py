"""Env groups: the envs split into groups that take turns collect the rollout one vector env collects."""

import numpy as np
import pytest
import torch

from fpo_core.trainer import Trainer

from .helpers import tiny_config


def rollouts(trainer: Trainer, n: int) -> list[tuple[dict, np.ndarray, np.ndarray]]:
    """``n`` rollouts (copies: a batch views the buffer), each with the rewards and dones as stored (before GAE)."""
    out = []
    for _ in range(n):
        batch = trainer.collect()
        fields = {name: getattr(batch, name).clone() for name in ("obs", "actions", "values", "advantages")}
        out.append((fields, trainer.buffer.rewards.copy(), trainer.buffer.dones.copy()))
    trainer.envs.close()
    return out


def test_two_groups_collect_what_one_vector_env_collects(tmp_path):
    # FPO's actions are deterministic with zero x₀ (a Gaussian's noise is drawn in another order, and the
    # trajectories part after one step). The normalisers are off: they fold each group in as it comes, so a
    # group is scaled by statistics that have seen it and the groups before it (tests/core/test_normalize.py).
    overrides = dict(algo="fpo", obs_norm=False, reward_norm=False, init_noise="zero", num_envs=4)
    one = Trainer(tiny_config(tmp_path / "one", env_groups=1, **overrides))
    two = Trainer(tiny_config(tmp_path / "two", env_groups=2, **overrides))
    assert [s.num_envs for s in two.envs.groups] == [2, 2]
    for (b1, r1, d1), (b2, r2, d2) in zip(rollouts(one, 3), rollouts(two, 3)):
        assert d1.any(), "the test needs episode ends (InvertedPendulum falls within a few dozen steps)"
        np.testing.assert_array_equal(d1, d2)
        np.testing.assert_array_equal(r1, r2)
        for name, x1 in b1.items():
            torch.testing.assert_close(b2[name], x1, rtol=1e-5, atol=1e-6, msg=name)
    assert sorted(one.recent_returns) == pytest.approx(sorted(two.recent_returns))


def test_each_observation_is_folded_into_the_normaliser_once(tmp_path):
    trainer = Trainer(tiny_config(tmp_path / "run", env_groups=2))
    trainer.collect()
    cfg = trainer.cfg
    assert trainer.obs_norm.count.item() == cfg.num_steps * cfg.num_envs
    trainer.envs.close()
