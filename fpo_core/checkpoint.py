"""Checkpoints: written atomically, loaded with errors that say what is wrong."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from fpo_core.algorithms import Policy, build_policy
from fpo_core.atomic import write_atomic
from fpo_core.config import TrainConfig
from fpo_core.envs import EnvSpec
from fpo_core.errors import CheckpointError
from fpo_core.normalize import RunningNorm

FORMAT = "fpo-checkpoint"
VERSION = 1
LATEST = Path("checkpoints") / "latest.pt"


def save_checkpoint(path: Path, payload: dict) -> None:
    """Write ``payload`` to ``path`` so that a crash at any moment leaves the old file or the new one."""
    write_atomic(path, lambda f: torch.save({"format": FORMAT, "version": VERSION, **payload}, f))


def resolve(run_or_checkpoint: Path) -> Path:
    """A run directory means its latest checkpoint; a file is taken as it is."""
    p = Path(run_or_checkpoint)
    if p.is_dir():
        p = p / LATEST
        if not p.exists():
            raise CheckpointError(f"{run_or_checkpoint} has no checkpoint ({LATEST}); is it a run directory of `fpo train`?")
    elif not p.exists():
        raise CheckpointError(f"checkpoint {p} does not exist; pass a run directory or a .pt file written by `fpo train`")
    return p


PASS_A_CHECKPOINT = "pass a run directory or a .pt checkpoint written by `fpo train`"
EVAL_TAKES_ONNX = "`fpo eval` also takes an .onnx from `fpo export`"


def load_checkpoint(run_or_checkpoint: Path, device: str | torch.device = "cpu") -> dict:
    path = resolve(run_or_checkpoint)
    try:
        data = torch.load(path, map_location=device, weights_only=True)
    except Exception as e:  # torch raises what its unpickler or zip reader meets (EOFError, IndexError, RuntimeError, ...)
        from fpo_core.runtime import is_onnx_model

        if is_onnx_model(path):
            raise CheckpointError(f"{path} is an exported ONNX model, not an fpo checkpoint; {PASS_A_CHECKPOINT}") from None
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if "weights_only" in first:  # torch's advice to unpickle arbitrary objects is not ours to give
            first = "it holds objects an fpo checkpoint never does"
        raise CheckpointError(f"{path} is not a readable fpo checkpoint (truncated, corrupt or another format?): {first}; "
                              f"{PASS_A_CHECKPOINT} (copy it again if it was cut short; {EVAL_TAKES_ONNX})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not an fpo checkpoint; {PASS_A_CHECKPOINT} ({EVAL_TAKES_ONNX})")
    if data.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {data.get('version')}; this fpo reads version {VERSION}")
    return data


@dataclass
class LoadedPolicy:
    """A trained policy ready for inference: normaliser, policy, and what it was trained on."""

    policy: Policy
    obs_norm: RunningNorm
    spec: EnvSpec
    config: TrainConfig
    global_step: int

    @classmethod
    def load(cls, run_or_checkpoint: Path, device: str | torch.device = "cpu") -> "LoadedPolicy":
        data = load_checkpoint(run_or_checkpoint, device)
        cfg = TrainConfig.from_dict(data["config"])
        spec = EnvSpec(**data["env"])
        policy = build_policy(cfg, spec.obs_dim, spec.act_dim).to(device)
        policy.load_state_dict(data["policy"])
        norm = RunningNorm.for_observations(spec.obs_dim, cfg.obs_norm).to(device)
        norm.load_state_dict(data["obs_norm"])
        policy.eval()
        return cls(policy, norm, spec, cfg, int(data["global_step"]))
