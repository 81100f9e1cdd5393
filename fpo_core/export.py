"""Exporting a checkpointed policy to ONNX: the velocity field (or Gaussian mean) with its normaliser.

A flow policy exports ``v(observation, x, tau) → velocity``; a Gaussian one ``observation →
action_mean``. ``fused_steps=K`` adds ``<name>.fused.onnx``: the whole K-step sampler unrolled with
``fpo_core.integrators.integrate``, ``(observation, x0) → action`` (unsquashed ``x_1``). The
contract (``fpo_core.contract``) goes into both files' metadata.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path
from typing import Optional

import onnx
import torch
from torch import nn

from fpo_core import integrators
from fpo_core.atomic import write_atomic
from fpo_core.checkpoint import LoadedPolicy
from fpo_core.contract import FUSED_IO, FUSED_ROLE, GRAPH_ROLE_KEY, PolicyContract, check_step_count
from fpo_core.errors import UsageError
from fpo_core.normalize import RunningNorm

OPSET = 18


class FlowGraph(nn.Module):
    """``v(observation, x, tau)`` on raw observations (the normaliser is part of the graph)."""

    def __init__(self, norm: RunningNorm, field: nn.Module):
        super().__init__()
        self.norm, self.field = norm, field

    def forward(self, observation: torch.Tensor, x: torch.Tensor, tau: torch.Tensor) -> torch.Tensor:
        return self.field(self.norm(observation), x, tau)


class GaussianGraph(nn.Module):
    """The Gaussian actor's (unsquashed) mean on raw observations."""

    def __init__(self, norm: RunningNorm, actor: nn.Module):
        super().__init__()
        self.norm, self.actor = norm, actor

    def forward(self, observation: torch.Tensor) -> torch.Tensor:
        return self.actor(self.norm(observation))


class FusedGraph(nn.Module):
    """The K-step sampler unrolled: ``x_1`` (unsquashed) from raw observations and ``x0``."""

    def __init__(self, norm: RunningNorm, field: nn.Module, num_steps: int, integrator: str):
        super().__init__()
        self.norm, self.field, self.num_steps, self.integrator = norm, field, num_steps, integrator

    def forward(self, observation: torch.Tensor, x0: torch.Tensor) -> torch.Tensor:
        times = integrators.eval_times(self.num_steps, self.integrator)
        return integrators.integrate(self.field.field(self.norm(observation), times), x0, self.num_steps, self.integrator)


def export_policy(run_or_checkpoint: Path, out_path: Path, overwrite: bool = False, fused_steps: Optional[int] = None,
                  fused_integrator: Optional[str] = None, opset: int = OPSET) -> PolicyContract:
    """Write ``out_path`` (and ``<stem>.fused.onnx`` with ``fused_steps`` steps of ``fused_integrator``, euler when
    None); returns the contract they carry."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".onnx":
        raise UsageError(f"-o {out_path}: name the model *.onnx (the ROS node and launch file expect it)")
    fused_path = out_path.with_name(out_path.stem + ".fused.onnx") if fused_steps is not None else None
    for p in (out_path, fused_path):
        if p is not None and p.exists() and not overwrite:
            raise UsageError(f"{p} already exists; pass --overwrite to replace it or choose another -o path")
    try:  # before loading: an unknown integrator is wrong with or without --fused-steps
        integrators.check(fused_integrator or "euler", 1 if fused_steps is None else fused_steps)
    except ValueError as e:
        raise UsageError(f"fused graph: {e}") from None
    if fused_steps is not None:
        check_step_count(fused_steps, "--fused-steps")
    if fused_integrator is not None and fused_steps is None:
        raise UsageError("--fused-integrator chooses the fused graph's integrator, which only --fused-steps K writes: "
                         "add --fused-steps K, or drop --fused-integrator")
    fused_integrator = fused_integrator or "euler"
    loaded = LoadedPolicy.load(run_or_checkpoint)
    policy, norm = loaded.policy, loaded.obs_norm
    if fused_steps is not None and policy.kind != "flow":
        raise UsageError("--fused-steps needs a flow policy (fpo or dppo); a gaussian policy has no sampler to fuse")
    contract = PolicyContract.from_loaded(loaded, fused_steps, fused_integrator if fused_steps else None,
                                          fused_path.name if fused_path else None)
    o, a = contract.obs_dim, contract.act_dim
    if policy.kind == "flow":
        graph = FlowGraph(norm, policy.field)
        args = (torch.zeros(2, o), torch.zeros(2, a), torch.zeros(2, 1))
    else:
        graph = GaussianGraph(norm, policy.actor)
        args = (torch.zeros(2, o),)
    models = [(out_path, _to_onnx(graph, args, contract.input_names, contract.output_names, opset), {})]
    if fused_path is not None:
        fused = FusedGraph(norm, policy.field, fused_steps, fused_integrator)
        models.append((fused_path, _to_onnx(fused, args[:2], *FUSED_IO, opset), {GRAPH_ROLE_KEY: FUSED_ROLE}))
    for path, model, extra in models:
        try:
            _write(model, path, {**contract.to_metadata(), **extra})
        except OSError as e:
            raise UsageError(f"cannot write {path}: {e.strerror or e}; choose a writable -o path") from None
    return contract


def _to_onnx(module: nn.Module, args: tuple[torch.Tensor, ...], inputs: list[str], outputs: list[str], opset: int) -> onnx.ModelProto:
    """Trace ``module`` (float32, dynamic batch) with the TorchScript exporter, quietly."""
    module.eval()
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(module, args, buf, input_names=inputs, output_names=outputs, opset_version=opset, dynamo=False,
                          dynamic_axes={n: {0: "batch"} for n in [*inputs, *outputs]})
    return onnx.load_from_string(buf.getvalue())


def _write(model: onnx.ModelProto, path: Path, metadata: dict[str, str]) -> None:
    """Attach ``metadata``, check the model and write it atomically."""
    onnx.helper.set_model_props(model, metadata)
    onnx.checker.check_model(model, full_check=True)
    write_atomic(path, lambda f: f.write(model.SerializeToString()))
