"""The progress line without a terminal: it counts to where the run really ends and shows no nan."""

from __future__ import annotations

import logging

from fpo_core.trainer import Trainer

from .helpers import tiny_config


def test_progress_counts_to_the_runs_end_and_shows_no_nan(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="fpo")
    # 100 steps round up to two updates of 64; Pendulum's episodes last 200 steps, so none ends in this run
    Trainer(tiny_config(tmp_path / "run", env_id="Pendulum-v1", total_steps=100, num_envs=1, num_steps=64,
                        num_minibatches=1, progress=True)).train()
    lines = [r.getMessage() for r in caplog.records if "steps/s" in r.getMessage()]
    assert lines and lines[-1].startswith("128/128 steps"), lines
    assert all("recent return -" in line and "nan" not in line for line in lines), lines
