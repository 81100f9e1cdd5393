"""ROS fixtures: an exported policy, node subprocesses, and an rclpy node in the test process.

Every process gets ``ros_env`` (loopback discovery, a domain id of its own test); every wait is
bounded and fails with a message saying what did not happen. rclpy is imported only by the
``ros`` fixture, so test modules can skip cleanly where ROS 2 is not installed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

from tests.ros.procs import Proc

if TYPE_CHECKING:
    from tests.ros.harness import RosHarness


@pytest.fixture
def start_node(ros_env: dict[str, str], tmp_path: Path) -> Iterator[Callable[..., Proc]]:
    """``start_node("policy_node", model_path=..., num_steps=4)``: a node subprocess, stopped after the test."""
    procs: list[Proc] = []

    def start(module: str, **params: Any) -> Proc:
        args = [sys.executable, "-m", f"fpo_ros.{module}", "--ros-args"]
        for k, v in params.items():
            args += ["-p", f"{k}:={_param_text(v)}"]
        proc = Proc(args, ros_env, tmp_path / f"{module}_{len(procs)}.log")
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        p.stop()


def _param_text(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


@pytest.fixture
def ros(ros_env: dict[str, str]) -> Iterator["RosHarness"]:
    """The test process's own rclpy node, on the same domain as the nodes it starts."""
    from tests.ros.harness import RosHarness

    harness = RosHarness(int(ros_env["ROS_DOMAIN_ID"]))
    try:
        yield harness
    finally:
        harness.close()
