"""CUDA graphs replay the rollout step and the update's gradients as the eager code computes them.

These need a CUDA device; without one they skip (the graphed path is never taken on the CPU).
"""

import pytest
import torch

from fpo_core.trainer import Trainer

from .helpers import tiny_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device: CUDA graphs exist only there")


def twins(tmp_path, **overrides) -> tuple[Trainer, Trainer]:
    """The same run twice on the GPU (same seed: same weights and envs), one graphed, one eager."""
    graphed = Trainer(tiny_config(tmp_path / "graphed", device="cuda", cuda_graphs=True, **overrides))
    eager = Trainer(tiny_config(tmp_path / "eager", device="cuda", cuda_graphs=False, **overrides))
    return graphed, eager


def act(trainer: Trainer, obs: torch.Tensor) -> torch.Tensor:
    """One policy step at rollout step 0; the (unsquashed) actions it stored."""
    trainer._policy_step(obs, trainer.buffer.index[0])
    return trainer.buffer.actions[0].clone()


def close(*trainers: Trainer) -> None:
    for t in trainers:
        t.envs.close()


def test_graphed_rollouts_match_eager(tmp_path):
    graphed, eager = twins(tmp_path, algo="fpo", init_noise="zero")  # zero x₀: the actions are deterministic
    for _ in range(4):  # the step graph is captured in the first rollout, GAE's in the third
        b_g, b_e = graphed.collect(), eager.collect()
        for name in ("actions", "obs", "values", "advantages"):
            torch.testing.assert_close(getattr(b_g, name), getattr(b_e, name), rtol=1e-5, atol=1e-6, msg=name)
    torch.testing.assert_close(graphed.obs_norm.mean, eager.obs_norm.mean)
    torch.testing.assert_close(graphed.obs_norm.count, eager.obs_norm.count)
    assert graphed._policy_step.graph is not None and graphed.buffer.gae.graph is not None
    close(graphed, eager)


@pytest.mark.parametrize("algo", ["fpo", "gaussian", "dppo"])
def test_graphed_updates_match_eager(tmp_path, algo):
    graphed, eager = twins(tmp_path, algo=algo)
    for it in range(3):  # 4 minibatch steps per update: warm-ups and capture in the first, replays after
        batch = eager.collect()
        s_g = graphed.update(batch, torch.Generator().manual_seed(it))
        s_e = eager.update(batch, torch.Generator().manual_seed(it))
        for k in s_e:
            assert s_g[k] == pytest.approx(s_e[k], rel=1e-4, abs=1e-6), k
        for p_g, p_e in zip(graphed.ppo.params, eager.ppo.params):
            torch.testing.assert_close(p_g, p_e, rtol=1e-4, atol=1e-6)
    assert graphed.ppo._gradients.graph is not None
    close(graphed, eager)


@pytest.mark.parametrize("algo", ["fpo", "gaussian", "dppo"])
def test_graphed_sampling_draws_fresh_noise(tmp_path, algo):
    trainer = Trainer(tiny_config(tmp_path / "run", algo=algo, device="cuda"))  # random x₀ / Gaussian noise
    obs = torch.randn(trainer.cfg.num_envs, trainer.spec.obs_dim, device="cuda")
    with torch.no_grad():
        actions = [act(trainer, obs) for _ in range(4)]  # two warm-ups, capture, replay
    assert trainer._policy_step.graph is not None
    assert not torch.equal(actions[2], actions[3]), "each replay must draw new noise"
    close(trainer)


def test_graphed_sampling_follows_the_updated_weights(tmp_path):
    trainer = Trainer(tiny_config(tmp_path / "run", algo="fpo", device="cuda", init_noise="zero"))
    obs = torch.randn(trainer.cfg.num_envs, trainer.spec.obs_dim, device="cuda")
    with torch.no_grad():
        for _ in range(3):  # two warm-ups and the capture
            act(trainer, obs)
        before = act(trainer, obs)
    trainer.update(trainer.collect())  # moves the weights (the time layer's too) in place under the graph
    with torch.no_grad():
        after = act(trainer, obs)
        expected = trainer.policy.sample(trainer.obs_norm(obs), "zero")  # eager, on the updated weights
    assert not torch.allclose(after, before), "the update should have changed the sampled actions"
    torch.testing.assert_close(after, expected, rtol=1e-5, atol=1e-6)
    close(trainer)
