"""``policy.launch.py`` with ``use_sim:=true``: runs where ROS 2's launch stack and the built package exist."""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest

launch_pytest = pytest.importorskip(
    "launch_pytest", reason="needs ROS 2's launch stack (launch, launch_ros, launch_pytest), e.g. an apt ROS 2 "
                            "with `colcon build --packages-select fpo_ros` sourced; not installable from PyPI")
from ament_index_python.packages import PackageNotFoundError, get_package_prefix  # noqa: E402

try:  # launch finds the nodes through the ament index: without the built package it fails, it does not skip
    get_package_prefix("fpo_ros")
except (PackageNotFoundError, OSError):  # OSError: no AMENT_PREFIX_PATH at all
    pytest.skip("ROS 2's launch stack is here but the fpo_ros package is not built and sourced: `python -m colcon build "
                "--packages-select fpo_ros` in the workspace, then `source install/setup.bash`", allow_module_level=True)

import launch  # noqa: E402
import rclpy  # noqa: E402
from launch.launch_description_sources import PythonLaunchDescriptionSource  # noqa: E402
from rclpy.context import Context  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.evaluate import run_episodes  # noqa: E402
from fpo_core.runtime import FlowPolicy  # noqa: E402
from fpo_ros.sim_node import STATS_QOS  # noqa: E402

LAUNCH_FILE = Path(__file__).resolve().parents[2] / "launch" / "policy.launch.py"
EPISODES, SEED, STEPS = 2, 3, 4
WAIT_S = 120.0


@launch_pytest.fixture
def launch_description(policy_file, ros_env):
    # episodes:=0 keeps the sim running, so the test's late-discovered listener still gets every episode_stats.
    args = {"model_path": str(policy_file), "num_steps": str(STEPS), "noise": "zero", "use_sim": "true",
            "sim_mode": "lockstep", "episodes": "0", "seed": str(SEED), "namespace": "launch_test"}
    return launch.LaunchDescription([
        launch.actions.IncludeLaunchDescription(PythonLaunchDescriptionSource(str(LAUNCH_FILE)),
                                                launch_arguments=args.items()),
        launch_pytest.actions.ReadyToTest(),
    ])


@pytest.mark.launch(fixture=launch_description)
def test_launch_runs_the_policy_against_the_sim(policy_file, ros_env):
    policy = FlowPolicy.load(policy_file)
    expected = run_episodes(policy.contract.env_id, partial(policy.act, num_steps=STEPS, noise="zero"), EPISODES, SEED)
    context = Context()
    rclpy.init(context=context, domain_id=int(ros_env["ROS_DOMAIN_ID"]))
    try:
        node = Node("launch_test_listener", context=context)
        stats: list[Float64MultiArray] = []
        node.create_subscription(Float64MultiArray, "/launch_test/episode_stats", stats.append, STATS_QOS)
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        end = time.monotonic() + WAIT_S
        while len(stats) < EPISODES:
            assert time.monotonic() < end, f"no {EPISODES} episode_stats from the launched sim within {WAIT_S} s"
            executor.spin_once(timeout_sec=0.1)
        returns = [m.data[1] for m in stats[:EPISODES]]
        assert abs(sum(returns) - expected.sum()) <= 0.01 * abs(expected.sum()), f"launch {returns} vs fpo eval {expected}"
    finally:
        rclpy.try_shutdown(context=context)
