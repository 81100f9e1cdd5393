"""Replaying a fixed-shape tensor function as one CUDA graph: one launch instead of hundreds.

At rollout and minibatch sizes a GPU finishes each kernel faster than Python can launch the next
(a profile of one FPO rollout on an H200: 19.5k ops, 190 ms of CPU time, 13 ms of GPU time), so
the loop is launch-bound. A graph records the launches once and replays them with one call.
"""

from __future__ import annotations

from typing import Any, Callable

import torch


class GraphedCall:
    """``fn(*tensors)`` run eagerly ``warmup`` times (on a side stream, as capture requires), then captured
    and replayed.

    The warm-up calls are real calls whose results are returned, so nothing has to be undone. After
    capture the tensor arguments are copied into static inputs (other arguments are constants of the
    graph and must not change) and the same output tensors are returned every call: copy what must
    outlive the next call. ``fn`` must be pure tensor work (no host sync, no Python branch on tensor
    values) with the same shapes every call, and must update state in place (parameters, normaliser
    buffers), so every replay sees the current values.
    """

    def __init__(self, fn: Callable[..., Any], warmup: int = 2):
        self.fn, self.warmup = fn, warmup
        self.calls = 0
        self.graph: torch.cuda.CUDAGraph | None = None
        self.inputs: tuple[torch.Tensor, ...] = ()
        self.outputs: Any = None

    def __call__(self, *args: Any) -> Any:
        if self.graph is not None:
            for static, arg in zip(self.inputs, args, strict=True):
                if isinstance(static, torch.Tensor):
                    static.copy_(arg)
                elif static != arg:
                    raise ValueError(f"a non-tensor argument of a captured CUDA graph changed: {static!r} → {arg!r}")
            self.graph.replay()
            return self.outputs
        self.calls += 1
        if self.calls <= self.warmup:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                out = self.fn(*args)
            torch.cuda.current_stream().wait_stream(side)
            return out
        self.inputs = tuple(a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph):
                self.outputs = self.fn(*self.inputs)
        except RuntimeError as e:  # torch's own error names the CUDA call, not what to do
            name = getattr(self.fn, "__qualname__", repr(self.fn))
            raise RuntimeError(f"capturing {name} as a CUDA graph failed (it synchronised with the host or changed "
                               f"shape); run with --no-cuda-graphs, or make it pure tensor work: {e}") from e
        self.graph = graph
        graph.replay()  # capture records without running: this call's work happens here
        return self.outputs


def graphed(fn: Callable[..., Any], enabled: bool) -> Callable[..., Any]:
    """``fn`` as a ``GraphedCall`` when ``enabled`` (a CUDA device), else ``fn`` itself."""
    return GraphedCall(fn) if enabled else fn
