"""Each integrator converges at its order, on numpy arrays and torch tensors alike."""

import math

import numpy as np
import pytest
import torch

from fpo_core import integrators


def field(x, t):
    """dx/dτ = cos(τ)·x, so x(1) = x(0)·exp(sin 1)."""
    return math.cos(t) * x


EXACT = math.exp(math.sin(1.0))


@pytest.mark.parametrize("name", integrators.INTEGRATORS)
def test_convergence_order(name):
    x0 = np.array([1.0])
    errors = [abs(integrators.integrate(field, x0, k, name)[0] - EXACT) for k in (8, 16, 32)]
    observed = [math.log2(errors[i] / errors[i + 1]) for i in range(2)]
    expected = integrators.ORDER[name]
    assert all(abs(o - expected) < 0.25 for o in observed), (name, observed)


@pytest.mark.parametrize("name", integrators.INTEGRATORS)
def test_numpy_and_torch_agree(name):
    x_np = integrators.integrate(field, np.array([0.3, -2.0]), 5, name)
    x_t = integrators.integrate(field, torch.tensor([0.3, -2.0], dtype=torch.float64), 5, name)
    assert np.allclose(x_np, x_t.numpy(), atol=1e-12)


def test_time_runs_from_noise_to_action():
    seen = []
    integrators.integrate(lambda x, t: seen.append(t) or x * 0, np.zeros(1), 4, "euler")
    assert seen == [0.0, 0.25, 0.5, 0.75]


@pytest.mark.parametrize("name,steps", [("verlet", 4), ("euler", 0), ("rk4", -2), ("euler", 2.5)])
def test_bad_arguments_are_named(name, steps):
    with pytest.raises(ValueError, match="integrator|num_steps"):
        integrators.integrate(field, np.zeros(1), steps, name)


@pytest.mark.parametrize("name,times", [
    ("euler", (0.0, 0.5)),
    ("midpoint", (0.0, 0.25, 0.5, 0.75)),
    ("heun", (0.0, 0.5, 1.0)),
    ("rk4", (0.0, 0.25, 0.5, 0.75, 1.0)),
])
def test_eval_times_are_where_two_steps_evaluate_the_field(name, times):
    """A sampler precomputes the time codes of exactly these τ (VelocityField.field)."""
    asked: list[float] = []
    integrators.integrate(lambda x, t: asked.append(t) or 0.0, 0.0, 2, name)
    assert integrators.eval_times(2, name) == times and sorted(set(asked)) == list(times)
