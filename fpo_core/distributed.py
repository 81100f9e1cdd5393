"""Data-parallel training over ``torch.distributed`` (gloo on CPU, NCCL on GPU), as ``torchrun`` sets it up.

Each rank steps its own environments; gradients are averaged, observation statistics merged, so
every rank holds bit-identical networks and normalisers. A single process needs none of this.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable
from datetime import timedelta

import torch
import torch.distributed as dist

from fpo_core.errors import RankLost


@dataclass
class Comm:
    """The collective operations the trainer needs, for one initialised process group."""

    rank: int
    world_size: int

    @property
    def lead(self) -> bool:
        return self.rank == 0

    def _device(self, like: torch.Tensor) -> torch.Tensor:
        return like.cuda() if dist.get_backend() == "nccl" and not like.is_cuda else like

    def average_grads(self, params: list[torch.nn.Parameter]) -> None:
        """Replace each gradient with its mean over ranks (one flat all-reduce)."""
        grads = [p.grad for p in params if p.grad is not None]
        flat = torch.cat([g.reshape(-1) for g in grads])
        self._collective(dist.all_reduce, flat)
        flat /= self.world_size
        offset = 0
        for g in grads:
            g.copy_(flat[offset : offset + g.numel()].view_as(g))
            offset += g.numel()

    def batch_stats(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, float]:
        """Mean, population variance and count of the union of every rank's ``batch [N, D]``."""
        b = batch.to(torch.float64).reshape(batch.shape[0], -1)
        sums = torch.cat([torch.tensor([float(b.shape[0])], dtype=torch.float64, device=b.device), b.sum(0), b.square().sum(0)])
        sums = self._device(sums)
        self._collective(dist.all_reduce, sums)
        sums = sums.to(batch.device)
        n = sums[0].item()
        d = b.shape[1]
        mean = sums[1 : 1 + d] / n
        var = (sums[1 + d :] / n - mean.square()).clamp_min(0.0)
        return mean.view(batch.shape[1:]), var.view(batch.shape[1:]), n

    def mean(self, value: float) -> float:
        t = self._device(torch.tensor([value], dtype=torch.float64))
        self._collective(dist.all_reduce, t)
        return t.item() / self.world_size

    def broadcast(self, module: torch.nn.Module) -> None:
        """Make every rank's parameters and buffers equal to rank 0's."""
        for t in [*module.parameters(), *module.buffers()]:
            buf = self._device(t.data)
            self._collective(dist.broadcast, buf, src=0)
            t.data.copy_(buf)

    def barrier(self) -> None:
        self._collective(dist.barrier)

    def _collective(self, op: Callable[..., object], *args: object, **kwargs: object) -> None:
        """``op(*args, **kwargs)``, or ``RankLost`` (one line from the CLI, not a backend traceback on every rank left)
        when another rank is gone: it failed a check this rank passed, crashed or was killed, and says why itself."""
        try:
            op(*args, **kwargs)
        except RuntimeError as e:  # gloo and NCCL report a closed connection or a timeout as a RuntimeError
            text = str(e).strip() or type(e).__name__
            reason = re.sub(r"^\[[^\]]*\]\s*", "", text.splitlines()[0]).split(". ")[0]  # gloo: "[file:line] what. advice"
            raise RankLost(f"rank {self.rank} lost the other ranks in {op.__name__} ({reason}): another rank stopped or "
                           f"hung first, and its own error (or torchrun's summary) says why; this rank stopped too, "
                           f"leaving the run's last checkpoint as it was") from None

    def close(self) -> None:
        dist.destroy_process_group()


def launcher_pid() -> int | None:
    """torchrun's agent, this rank's parent, or ``None`` outside torchrun. When the agent is killed (SIGKILL, an OOM
    kill) its ranks live on as orphans; ``os.getppid()`` then no longer returns this pid."""
    return os.getppid() if "TORCHELASTIC_RUN_ID" in os.environ else None


def from_environment(device: torch.device) -> Comm | None:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1), or return ``None``."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend, timeout=timedelta(minutes=10))
    return Comm(dist.get_rank(), dist.get_world_size())
