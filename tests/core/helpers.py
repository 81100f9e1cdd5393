"""Small configurations and waits shared by the core tests."""

import subprocess
import time
from pathlib import Path
from typing import Callable

from fpo_core.config import TrainConfig

TINY = ["--total-steps", "64", "--num-envs", "1", "--num-steps", "64", "--num-minibatches", "1", "--no-progress",
        "--eval-episodes", "0", "--no-tensorboard"]
"""`fpo train` options for a run of one short update (the command-line counterpart of ``tiny_config``)."""


def tiny_config(run_dir: Path, **overrides) -> TrainConfig:
    """A config that trains for a few seconds: enough to exercise every code path."""
    base = dict(env_id="InvertedPendulum-v5", total_steps=512, num_envs=4, num_steps=32, num_minibatches=2,
                update_epochs=2, run_dir=run_dir, progress=False, tensorboard=False, eval_episodes=0, seed=0)
    base.update(overrides)
    return TrainConfig(**base)


def wait_while_running(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 120.0) -> None:
    """Poll ``ready`` until it holds, ``proc`` exits or ``timeout`` passes; the caller asserts which it was."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None and not ready():
        time.sleep(0.05)


def logged_updates(run_dir: Path) -> int:
    """The updates a run has written to its metrics.csv so far (0 before the file exists)."""
    metrics = run_dir / "metrics.csv"
    return max(0, len(metrics.read_text().splitlines()) - 1) if metrics.exists() else 0
