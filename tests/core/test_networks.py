"""The fast sampling path of the velocity field is the same function as its forward pass."""

import pytest
import torch

from fpo_core.networks import ACTIVATIONS, VelocityField


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_sampling_field_equals_forward_before_and_after_updates(activation):
    torch.manual_seed(0)
    net = VelocityField(5, 3, (32, 32), activation)
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    obs, x = torch.randn(7, 5), torch.randn(7, 3)
    for _ in range(3):
        for t in (0.0, 0.25, 0.5):
            with torch.no_grad():
                fast = net.field(obs)(x, t)
            slow = net(obs, x, torch.full((7, 1), t))
            assert torch.allclose(fast, slow, atol=1e-6)
        slow.square().sum().backward()
        opt.step()  # the cached time codes must follow the new weights
    other = VelocityField(5, 3, (32, 32), activation)
    net.load_state_dict(other.state_dict())
    with torch.no_grad():
        assert torch.allclose(net.field(obs)(x, 0.5), other(obs, x, torch.full((7, 1), 0.5)), atol=1e-6)


def test_precomputed_pair_input_gives_the_same_velocity():
    torch.manual_seed(0)
    net = VelocityField(5, 3, (32, 32))
    obs, x, tau = torch.randn(7, 5), torch.randn(7, 4, 3), torch.rand(7, 4, 1)
    code = net.encode_obs(obs).unsqueeze(1)
    assert torch.allclose(net.velocity_at(code, net.pair_input(x, tau)), net.velocity(code, x, tau), atol=1e-6)
