"""A diverging run stops with a clear error and keeps its last good checkpoint (never overwritten by NaN weights)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from fpo_core.checkpoint import LATEST, load_checkpoint
from fpo_core.errors import TrainingDiverged
from fpo_core.trainer import Trainer

from .helpers import logged_updates, tiny_config


def test_a_nan_weight_stops_the_run_before_it_is_saved(tmp_path):
    trainer = Trainer(tiny_config(tmp_path / "run", total_steps=5 * 128, checkpoint_every=1))
    update, calls = trainer.update, []

    def poisoned(batch, gen=None):  # the third update leaves a NaN weight behind, as a blown-up step would
        stats = update(batch, gen)
        calls.append(1)
        if len(calls) == 3:
            with torch.no_grad():
                next(trainer.policy.parameters()).view(-1)[0] = float("nan")
        return stats

    trainer.update = poisoned
    with pytest.raises(TrainingDiverged, match=r"update 3 .*policy not finite.*from before it"):
        trainer.train()
    saved = load_checkpoint(tmp_path / "run", "cpu")
    assert saved["iteration"] == 2
    assert all(torch.isfinite(t).all() for t in saved["policy"].values())
    assert logged_updates(tmp_path / "run") == 2


def test_an_overflowing_reward_exits_non_zero_with_one_line(tmp_path):
    """1e30 × reward passes the option checks; the value loss overflows float32 in the first update."""
    run = tmp_path / "run"
    r = subprocess.run([sys.executable, "-m", "fpo_core.cli", "train", "--env-id", "InvertedPendulum-v5", "--total-steps", "256",
                        "--num-envs", "2", "--num-steps", "64", "--reward-scale", "1e30", "--no-reward-norm", "--no-progress",
                        "--eval-episodes", "0", "--run-dir", str(run)], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "training diverged in update 1" in r.stderr and "no checkpoint was written" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and not (run / LATEST).exists()
