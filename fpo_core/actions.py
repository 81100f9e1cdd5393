"""Mapping the policy's unbounded output to the environment's action box (numpy or torch)."""

from __future__ import annotations

from typing import TypeVar

import numpy as np

A = TypeVar("A")
SQUASHES = ("tanh", "clip")


def squash(x: A, low: A, high: A, kind: str = "tanh") -> A:
    """``tanh``: ``low + (tanh(x) + 1)/2·(high − low)``; ``clip``: clamp ``x`` to ``[low, high]``."""
    if kind == "tanh":
        t = x.tanh() if hasattr(x, "tanh") else np.tanh(x)
        return low + (t + 1.0) * 0.5 * (high - low)
    if kind == "clip":
        return x.clip(low, high)
    raise ValueError(f"unknown squash {kind!r}: choose one of {', '.join(SQUASHES)}")
