"""Running statistics: incremental and merged updates equal the statistics of all the data."""

import torch

from fpo_core.normalize import RunningNorm


def test_incremental_updates_equal_batch_statistics():
    data = torch.randn(300, 4, dtype=torch.float64) * 3 + 1
    norm = RunningNorm(4)
    for chunk in data.split(37):
        norm.update(chunk)
    assert torch.allclose(norm.mean, data.mean(0))
    assert torch.allclose(norm.var, data.var(0, unbiased=False))
    assert norm.count.item() == 300


def test_merging_two_normalisers_equals_one_over_all_data():
    a, b = torch.randn(50, 3, dtype=torch.float64), torch.randn(80, 3, dtype=torch.float64) + 5
    na, nb, nall = RunningNorm(3), RunningNorm(3), RunningNorm(3)
    na.update(a)
    nb.update(b)
    nall.update(torch.cat([a, b]))
    na.merge(nb.mean, nb.var, nb.count.item())
    assert torch.allclose(na.mean, nall.mean) and torch.allclose(na.var, nall.var)


def test_normalised_output_is_clipped():
    norm = RunningNorm(1, clip=5.0)
    norm.update(torch.tensor([[0.0], [1.0]]))
    assert norm(torch.tensor([[1e6]])).item() == 5.0


def test_return_scaler_divides_by_the_std_of_discounted_returns():
    import numpy as np

    from fpo_core.normalize import ReturnScaler

    rng = np.random.default_rng(0)
    scaler, gamma = ReturnScaler(3, 0.9), 0.9
    ret, seen = np.zeros(3), []
    for t in range(200):
        r, done = rng.normal(size=3) * 5, rng.random(3) < 0.05
        ret = ret * gamma + r
        seen.append(ret.copy())
        scaled = scaler(r, done)
        ret[done] = 0.0
    assert np.allclose(scaled, r / np.sqrt(np.var(np.concatenate(seen)) + 1e-8))


def test_return_scaler_clips_the_first_steps_before_the_returns_spread():
    import numpy as np

    from fpo_core.normalize import ReturnScaler

    scaler = ReturnScaler(4, 0.99)
    first = scaler(np.ones(4), np.zeros(4, bool))  # every env the same return: a std of 0
    np.testing.assert_array_equal(first, np.full(4, 10.0))  # not 1 / sqrt(1e-8) = 10⁴
    second = scaler(np.ones(4), np.zeros(4, bool))
    assert 0 < second[0] < 10  # the returns have spread over the steps: scaled, not clipped
    rewards = np.ones(4, np.float32)
    third = scaler(rewards, np.zeros(4, bool))
    assert third.dtype == np.float64 and np.array_equal(rewards, np.ones(4))  # float64 out; the input left alone


def test_without_obs_norm_observations_pass_unchanged_also_after_loading(tmp_path):
    """``--no-obs-norm`` must not clip raw observations (HalfCheetah's reach 23) in training or in a loaded policy."""
    from fpo_core.checkpoint import LoadedPolicy
    from fpo_core.trainer import Trainer
    from tests.core.helpers import tiny_config

    trainer = Trainer(tiny_config(tmp_path / "run", obs_norm=False, total_steps=128))
    trainer.train()
    raw = torch.tensor([[25.0, -15.0, 3.0, 0.5]])
    assert torch.equal(trainer.obs_norm(raw), raw)
    assert torch.equal(LoadedPolicy.load(tmp_path / "run").obs_norm(raw), raw)
    assert torch.equal(RunningNorm.for_observations(4, True)(raw)[0, :2], torch.tensor([10.0, -10.0]))
