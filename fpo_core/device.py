"""Choosing the torch device from a user's ``--device``, and copying results back to the host."""

from __future__ import annotations

import re
from typing import Callable

import numpy as np
import torch

from fpo_core.errors import UsageError


def resolve_device(name: str) -> torch.device:
    """``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA if torch sees one), checked against this machine."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not re.fullmatch(r"cpu|cuda(:\d+)?", name):
        raise UsageError(f"unknown device {name!r}: use cpu, cuda, cuda:N or auto")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError("--device cuda was asked for but torch sees no CUDA device; use --device cpu or auto")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s), cuda:0 to "
                             f"cuda:{torch.cuda.device_count() - 1}")
    return torch.device(name)


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
