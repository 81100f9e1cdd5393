"""Choosing the torch device from a user's ``--device``, and copying results back to the host."""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from fpo_core.errors import UsageError


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("--device cuda was asked for but torch sees no CUDA device; use --device cpu or auto")
    try:
        return torch.device(name)
    except RuntimeError:
        raise UsageError(f"unknown device {name!r}: use cpu, cuda, cuda:N or auto") from None


def to_host(x: torch.Tensor) -> Callable[[], np.ndarray]:
    """Start copying ``x`` to the host and return a call that waits for the copy and gives it as an array.

    From a GPU the copy is queued behind the work that computes ``x`` (into pinned memory) and the host
    goes on meanwhile; the wait is an event, so it does not stall work queued after the copy.
    """
    if x.device.type != "cuda":
        array = x.numpy()
        return lambda: array
    host = x.to("cpu", non_blocking=True)
    done = torch.cuda.Event()
    done.record()

    def wait() -> np.ndarray:
        done.synchronize()
        return host.numpy()

    return wait
