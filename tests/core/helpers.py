"""Small configurations shared by the core tests."""

from pathlib import Path

from fpo_core.config import TrainConfig


def tiny_config(run_dir: Path, **overrides) -> TrainConfig:
    """A config that trains for a few seconds: enough to exercise every code path."""
    base = dict(env_id="InvertedPendulum-v5", total_steps=512, num_envs=4, num_steps=32, num_minibatches=2,
                update_epochs=2, run_dir=run_dir, progress=False, tensorboard=False, eval_episodes=0, seed=0)
    base.update(overrides)
    return TrainConfig(**base)
