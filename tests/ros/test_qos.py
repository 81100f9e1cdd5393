"""Per-topic reliability: a best-effort sensor publisher drives a node whose actions reach a reliable subscriber
(forward_command_controller subscribes reliably), the wiring one reliability for both topics could not make."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S

pytest.importorskip("rclpy", reason=ROS_MISSING)

from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.runtime import FlowPolicy  # noqa: E402


def test_best_effort_observations_reliable_actions(policy_file, start_node, ros):
    obs = np.full(FlowPolicy.load(policy_file).contract.obs_dim, 0.1).tolist()
    node = start_node("policy_node", model_path=policy_file, observation_reliability="best_effort")
    sensor = ros.node.create_publisher(Float64MultiArray, "observation",
                                       QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT))
    actions = ros.collect(Float64MultiArray, "action", QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
    ros.wait_for(lambda: len(actions) >= 3, STARTUP_S, "reliable actions for best-effort observations",
                 every=lambda: sensor.publish(Float64MultiArray(data=obs)), proc=node)


def test_a_bad_reliability_stops_the_node(policy_file, start_node):
    node = start_node("policy_node", model_path=policy_file, action_reliability="sensor_data")
    assert node.wait(STARTUP_S) != 0, node.output()
    assert "action_reliability must be one of reliable, best_effort" in node.output(), node.output()


@pytest.mark.parametrize("depth", [1, 100])
def test_a_deeper_history_spins_single_threaded(ros, depth):
    """The EventsExecutor queues an event per message and runs timers from that queue: with a deep history and
    observations faster than the node acts, the policy node's diagnostics went 3.7 s apart (measured at 5 kHz with
    qos_depth 100). Only the default depth of 1 takes it."""
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from rclpy.parameter import Parameter

    from fpo_ros.common import declare_qos, make_executor

    try:
        from rclpy.experimental import EventsExecutor  # noqa: F401
        events = True
    except ImportError:  # rclpy before 7.1.4 (Humble): always single-threaded
        events = False
    node = Node("fpo_depth_probe", context=ros.context, parameter_overrides=[Parameter("qos_depth", value=depth)])
    try:
        declare_qos(node)
        executor = make_executor(node)
        assert isinstance(executor, SingleThreadedExecutor) == (depth > 1 or not events), type(executor)
        executor.shutdown()
    finally:
        node.destroy_node()
