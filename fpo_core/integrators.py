"""ODE integrators for flow sampling, shared by training, evaluation, export and the ROS node.

Every integrator works on any array type with ``+`` and scalar ``*`` (numpy arrays and torch
tensors alike) and never imports torch. Time runs from τ = 0 (noise) to τ = 1 (action).
"""

from __future__ import annotations

from numbers import Integral
from typing import Callable, TypeVar

A = TypeVar("A")
Field = Callable[[A, float], A]
"""A velocity field ``v(x, τ)``; τ is a Python float shared by the whole batch."""


def euler_step(v: Field, x: A, t: float, dt: float) -> A:
    return x + dt * v(x, t)


def midpoint_step(v: Field, x: A, t: float, dt: float) -> A:
    k1 = v(x, t)
    return x + dt * v(x + (0.5 * dt) * k1, t + 0.5 * dt)


def heun_step(v: Field, x: A, t: float, dt: float) -> A:
    k1 = v(x, t)
    k2 = v(x + dt * k1, t + dt)
    return x + (0.5 * dt) * (k1 + k2)


def rk4_step(v: Field, x: A, t: float, dt: float) -> A:
    k1 = v(x, t)
    k2 = v(x + (0.5 * dt) * k1, t + 0.5 * dt)
    k3 = v(x + (0.5 * dt) * k2, t + 0.5 * dt)
    k4 = v(x + dt * k3, t + dt)
    return x + (dt / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


STEPS: dict[str, Callable[[Field, A, float, float], A]] = {
    "euler": euler_step,
    "midpoint": midpoint_step,
    "heun": heun_step,
    "rk4": rk4_step,
}
ORDER = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}
EVALS_PER_STEP = {"euler": 1, "midpoint": 2, "heun": 2, "rk4": 4}
INTEGRATORS = tuple(STEPS)


def check(name: str, num_steps: int) -> None:
    """Raise ``ValueError`` naming the problem for an unknown integrator or a step count < 1."""
    if name not in STEPS:
        raise ValueError(f"unknown integrator {name!r}: choose one of {', '.join(INTEGRATORS)}")
    if isinstance(num_steps, bool) or not isinstance(num_steps, Integral) or num_steps < 1:  # numpy's ints too
        raise ValueError(f"num_steps must be an integer >= 1, got {num_steps!r}")


def eval_times(num_steps: int, method: str = "euler") -> tuple[float, ...]:
    """Every τ at which ``integrate`` evaluates the field, in order and once each (the same floats it passes)."""
    seen: dict[float, None] = {}
    integrate(lambda x, t: seen.setdefault(t) or 0.0, 0.0, num_steps, method)
    return tuple(seen)


def integrate(v: Field, x0: A, num_steps: int, method: str = "euler") -> A:
    """Integrate ``dx/dτ = v(x, τ)`` from τ = 0 to 1 in ``num_steps`` equal steps."""
    check(method, num_steps)
    step = STEPS[method]
    num_steps = int(num_steps)  # Python floats for τ and dt whatever integer type came in (a numpy one would not be)
    dt = 1.0 / num_steps
    x = x0
    for k in range(num_steps):
        x = step(v, x, k * dt, dt)
    return x
