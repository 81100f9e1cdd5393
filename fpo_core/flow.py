"""Conditional flow matching: the interpolant and the per-sample CFM loss (τ = 0 noise, 1 action)."""

from __future__ import annotations

from typing import Literal

import torch

Weighting = Literal["velocity", "eps"]


def interpolate(action: torch.Tensor, eps: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
    """``x_τ = τ·a + (1 − τ)·ε``; ``tau`` broadcasts against the action's last dimension."""
    return tau * action + (1.0 - tau) * eps


def target_velocity(action: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """``u = dx_τ/dτ = a − ε``: what the velocity field regresses onto."""
    return action - eps


def weight(tau: torch.Tensor, weighting: Weighting) -> torch.Tensor:
    """``w(τ)``: 1 for the velocity MSE, ``τ²`` for the ε-MSE (ε̂ − ε = −τ·(v̂ − u))."""
    if weighting == "velocity":
        return torch.ones_like(tau)
    if weighting == "eps":
        return tau * tau
    raise ValueError(f"unknown loss weighting {weighting!r}: choose velocity or eps")


def cfm_loss(velocity: torch.Tensor, target: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``w(τ)·mean_d (v − u)²`` per sample: ``velocity`` and ``target`` ``[..., A]``, ``w`` ``[...]``, output ``[...]``."""
    return w * (velocity - target).square().mean(dim=-1)
