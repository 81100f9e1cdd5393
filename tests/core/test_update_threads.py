"""The update runs on the cores the envs leave idle, and the rollout gets its own thread count back."""

import os

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


def test_a_busy_machine_is_named_when_the_update_takes_every_core(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    Trainer(tiny_config(tmp_path / "auto", update_threads=0)).envs.close()
    Trainer(tiny_config(tmp_path / "chosen", update_threads=1)).envs.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if len(os.sched_getaffinity(0)) > 1:  # one core: the update never takes more than one
        assert len(warnings) == 1 and "--update-threads 1" in warnings[0]
    else:
        assert warnings == []
