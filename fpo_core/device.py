"""Choosing the torch device from a user's ``--device``, and feeding it host arrays."""

from __future__ import annotations

import re

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
            raise UsageError("--device cuda (asked for, or saved in the run being resumed) but torch sees no CUDA device; "
                             "pass --device cpu or auto")
        index = int(name.partition(":")[2] or 0)
        if index >= torch.cuda.device_count():
            raise UsageError(f"--device {name}: this machine has {torch.cuda.device_count()} CUDA device(s), cuda:0 to "
                             f"cuda:{torch.cuda.device_count() - 1}")
    return torch.device(name)


class HostToDevice:
    """Copies same-shaped host arrays into one float32 device tensor through a pinned buffer.

    On a GPU the copy is queued without waiting (``torch.as_tensor`` of a numpy array allocates and
    synchronises on every call); the next call first waits until the device has read the buffer (at once
    in a rollout, which has waited for the step's actions). Returns the same tensor every call.
    """

    def __init__(self, shape: tuple[int, ...], device: torch.device):
        on_gpu = device.type == "cuda"
        self.host = torch.empty(shape, dtype=torch.float32, pin_memory=on_gpu)
        self.array = self.host.numpy()
        self.device = torch.empty(shape, dtype=torch.float32, device=device) if on_gpu else self.host
        self.read = torch.cuda.Event() if on_gpu else None

    def __call__(self, x: np.ndarray) -> torch.Tensor:
        if self.read is not None:
            self.read.synchronize()
        self.array[...] = x
        if self.read is not None:
            self.device.copy_(self.host, non_blocking=True)
            self.read.record()
        return self.device
