"""Shared fixtures: a small trained run (made once per session) and safe process environments."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fpo_ros.discovery import isolate, loopback_env

# Keep MuJoCo headless and DDS discovery on loopback for everything this suite starts.
os.environ.setdefault("MUJOCO_GL", "egl")
isolate()

# The ROS tests skip where rclpy is missing (a machine without ROS 2). scripts/test.sh (CI) installs it and sets
# FPO_REQUIRE_ROS=1: there a missing or broken rclpy fails the run instead of skipping every ROS test in silence.
if os.environ.get("FPO_REQUIRE_ROS") == "1":
    try:
        import rclpy  # noqa: F401
    except ImportError as e:
        raise pytest.UsageError(f"FPO_REQUIRE_ROS=1 but rclpy does not import ({e}): the ROS tests would all skip; run "
                                f"scripts/setup.sh, or set FPO_REQUIRE_ROS=0 on a machine without ROS 2") from None


def pytest_report_header() -> str:
    """Which rclpy the ROS tests run on (CI runs them on ROS 2 Kilted's wheels and on Jazzy's)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        import rclpy
    except ImportError:
        return "rclpy: not importable (the ROS tests skip)"
    try:
        release = version("rclpy")
    except PackageNotFoundError:  # an apt ROS 2's rclpy carries no pip metadata
        release = "(no pip metadata)"
    return f"rclpy {release} from {Path(rclpy.__file__).parent}, ROS_DISTRO={os.environ.get('ROS_DISTRO', 'unset')}"


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A short FPO run on InvertedPendulum-v5 (tens of seconds): a real checkpoint to export and deploy."""
    from fpo_core.config import TrainConfig
    from fpo_core.trainer import Trainer

    run_dir = tmp_path_factory.mktemp("trained") / "run"
    cfg = TrainConfig(env_id="InvertedPendulum-v5", total_steps=20_480, run_dir=run_dir, progress=False,
                      tensorboard=False, eval_episodes=0, seed=3)
    Trainer(cfg).train()
    return run_dir


@pytest.fixture(scope="session")
def policy_file(trained_run: Path, tmp_path_factory) -> Path:
    """The session's trained run exported to ONNX."""
    from fpo_core.export import export_policy

    path = tmp_path_factory.mktemp("exported") / "policy.onnx"
    export_policy(trained_run, path)
    return path


@pytest.fixture
def ros_env(monkeypatch) -> dict[str, str]:
    """Environment for a test that starts ROS processes: loopback discovery, a domain of its own."""
    domain = str(next(_domains))
    for k, v in {**loopback_env(), "ROS_DOMAIN_ID": domain}.items():
        monkeypatch.setenv(k, v)
    return dict(os.environ)


def _domain_ids():
    """Domain ids 1-101, starting at a point set by the pid (two sessions rarely share one): on Linux, ids above 101
    put DDS ports into the ephemeral range, where another socket may already hold them."""
    start = os.getpid() % 101
    n = 0
    while True:
        yield 1 + (start + n) % 101
        n += 1


_domains = _domain_ids()
