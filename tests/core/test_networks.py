"""The fast sampling path of the velocity field is the same function as its forward pass."""

import pytest
import torch

from fpo_core import integrators
from fpo_core.networks import ACTIVATIONS, VelocityField
from fpo_core.trainer import Trainer

from .helpers import tiny_config


@pytest.mark.parametrize("fused", [True, False])  # training's Adam is fused: it updates without bumping _version
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_sampling_field_equals_forward_before_and_after_updates(activation, fused):
    torch.manual_seed(0)
    net = VelocityField(5, 3, (32, 32), activation)
    opt = torch.optim.Adam(net.parameters(), lr=0.05, fused=fused)
    obs, x = torch.randn(7, 5), torch.randn(7, 3)
    for _ in range(3):
        for t in (0.0, 0.25, 0.5):
            with torch.no_grad():
                tabled, untabled = net.field(obs, (0.0, 0.25, 0.5))(x, t), net.field(obs, (0.75,))(x, t)
            slow = net(obs, x, torch.full((7, 1), t))
            assert torch.allclose(tabled, slow, atol=1e-6) and torch.allclose(untabled, slow, atol=1e-6)
        slow.square().sum().backward()
        opt.step()  # the time codes must follow the new weights
    other = VelocityField(5, 3, (32, 32), activation)
    net.load_state_dict(other.state_dict())
    with torch.no_grad():
        assert torch.allclose(net.field(obs, (0.5,))(x, 0.5), other(obs, x, torch.full((7, 1), 0.5)), atol=1e-6)


def test_precomputed_pair_input_gives_the_same_velocity():
    torch.manual_seed(0)
    net = VelocityField(5, 3, (32, 32))
    obs, x, tau = torch.randn(7, 5), torch.randn(7, 4, 3), torch.rand(7, 4, 1)
    code = net.encode_obs(obs).unsqueeze(1)
    assert torch.allclose(net.velocity_at(code, net.pair_input(x, tau)), net.velocity(code, x, tau), atol=1e-6)


def test_rollouts_sample_the_field_being_trained(tmp_path):
    """After real updates the sampler at the integrator's own τ grid is still the trained field."""
    trainer = Trainer(tiny_config(tmp_path / "run", algo="fpo"))
    trainer.train()  # several rollouts and updates, each sampling at the same τ grid
    field, k = trainer.policy.field, trainer.policy.sampling.num_steps
    obs, x = torch.randn(6, trainer.spec.obs_dim), torch.randn(6, trainer.spec.act_dim)
    times = integrators.eval_times(k, trainer.policy.sampling.integrator)
    with torch.no_grad():
        for t in times:
            assert torch.allclose(field.field(obs, times)(x, t), field(obs, x, torch.full((6, 1), t)), atol=1e-6), t
