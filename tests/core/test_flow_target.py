"""``--flow-target executed``: FPO stores (and so trains on) the action the env ran, inside the box."""

import torch

from fpo_core.trainer import Trainer

from .helpers import tiny_config


def _stored_actions(tmp_path, **overrides) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    trainer = Trainer(tiny_config(tmp_path, env_id="Hopper-v5", squash="clip", **overrides))  # box [-1, 1]
    try:
        return trainer.collect().actions, trainer.low, trainer.high
    finally:
        trainer.envs.close()


def test_executed_target_stores_actions_inside_the_box(tmp_path):
    raw, low, high = _stored_actions(tmp_path / "raw")
    assert ((raw < low) | (raw > high)).any()  # N(0, I) samples leave the box
    executed, low, high = _stored_actions(tmp_path / "executed", flow_target="executed")
    assert ((executed >= low) & (executed <= high)).all()
    # same seed, same samples: clipping is the only difference
    assert torch.equal(executed, raw.clamp(low, high))
