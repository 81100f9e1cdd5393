"""The CFM loss and its weightings, against hand computations."""

import torch

from fpo_core.flow import cfm_loss, interpolate, target_velocity, weight


def loss(v, a, eps, tau, weighting):
    return cfm_loss(v, target_velocity(a, eps), weight(tau.squeeze(-1), weighting))


def test_interpolant_endpoints():
    a, eps = torch.tensor([[2.0, -1.0]]), torch.tensor([[0.5, 0.5]])
    assert torch.equal(interpolate(a, eps, torch.zeros(1, 1)), eps)  # τ = 0 is noise
    assert torch.equal(interpolate(a, eps, torch.ones(1, 1)), a)  # τ = 1 is the action
    assert torch.allclose(interpolate(a, eps, torch.full((1, 1), 0.25)), torch.tensor([[0.875, 0.125]]))


def test_cfm_loss_matches_hand_computation():
    v = torch.tensor([[1.0, 0.0]])
    a = torch.tensor([[2.0, -1.0]])
    eps = torch.tensor([[0.5, 0.5]])
    tau = torch.tensor([[0.5]])
    # target u = a - eps = (1.5, -1.5); error = (-0.5, 1.5); mean of squares = (0.25 + 2.25) / 2 = 1.25
    assert torch.allclose(loss(v, a, eps, tau, "velocity"), torch.tensor([1.25]))
    assert torch.allclose(loss(v, a, eps, tau, "eps"), torch.tensor([0.25 * 1.25]))


def test_eps_weighting_is_tau_squared_times_velocity_loss():
    g = torch.Generator().manual_seed(0)
    v, a, eps = (torch.randn(64, 3, generator=g) for _ in range(3))
    tau = torch.rand(64, 1, generator=g)
    vel = loss(v, a, eps, tau, "velocity")
    assert torch.allclose(loss(v, a, eps, tau, "eps"), tau.squeeze(-1) ** 2 * vel)


def test_eps_weighting_is_the_eps_prediction_error():
    """With ε̂ = x_τ − τ·v̂ (our convention), ‖ε̂ − ε‖² equals the τ²-weighted velocity error."""
    g = torch.Generator().manual_seed(1)
    v, a, eps = (torch.randn(32, 2, generator=g) for _ in range(3))
    tau = torch.rand(32, 1, generator=g)
    eps_hat = interpolate(a, eps, tau) - tau * v
    assert torch.allclose((eps_hat - eps).square().mean(-1), loss(v, a, eps, tau, "eps"), atol=1e-6)
