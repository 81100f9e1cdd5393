"""The update runs on the cores the envs leave idle, and the rollout gets its own thread count back."""

import torch

from fpo_core.trainer import Trainer

from .helpers import tiny_config


def test_update_uses_update_threads_then_restores_rollout_threads(tmp_path):
    trainer = Trainer(tiny_config(tmp_path, torch_threads=1, update_threads=2))
    seen = []
    real_update = trainer.ppo.update
    trainer.ppo.update = lambda batch, gen=None: seen.append(torch.get_num_threads()) or real_update(batch, gen)
    try:
        trainer.update(trainer.collect())
        assert seen == [2]
        assert torch.get_num_threads() == 1
    finally:
        trainer.envs.close()
