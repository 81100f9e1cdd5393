"""Malformed observations (sizes, NaN, inf, empty, bursts) are rejected and counted; the node keeps acting."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S

pytest.importorskip("rclpy", reason=ROS_MISSING)

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.runtime import FlowPolicy  # noqa: E402
from tests.ros.harness import diagnostic_values  # noqa: E402

WAIT_S = 10.0
BURST = 500


def _rejected(diags) -> int:
    return int(diagnostic_values(diags[-1])["observations_rejected"]) if diags else 0


def test_malformed_observations_are_rejected_and_counted(policy_file, start_node, ros):
    n = FlowPolicy.load(policy_file).contract.obs_dim
    good = np.full(n, 0.05).tolist()
    bad = [[], [0.0] * (n - 1), [0.0] * (n + 1), [0.0] * 1000, [float("nan")] + [0.0] * (n - 1),
           [0.0] * (n - 1) + [float("inf")], [float("-inf")] * n]
    node = start_node("policy_node", model_path=policy_file, noise="zero", qos_depth=100, observation_timeout_s=0.0)
    actions = ros.collect(Float64MultiArray, "action")
    diags = ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    ros.wait_for(lambda: len(actions) > 0, STARTUP_S, "a first action", every=lambda: pub.publish(Float64MultiArray(data=good)),
                 proc=node)

    ros.spin_for(0.5)  # answers to the repeated first observation still in flight
    published = len(actions)
    for data in bad:
        pub.publish(Float64MultiArray(data=data))
        ros.spin_for(0.02)
    ros.wait_for(lambda: _rejected(diags) >= len(bad), WAIT_S, f"diagnostics counting {len(bad)} rejected observations",
                 proc=node)
    assert len(actions) == published, "an action was published for a malformed observation"

    before = _rejected(diags)
    for i in range(BURST):
        pub.publish(Float64MultiArray(data=bad[i % len(bad)]))
    ros.wait_for(lambda: _rejected(diags) > before, WAIT_S, "the burst to be counted", proc=node)
    assert _rejected(diags) <= len(bad) + BURST
    assert diagnostic_values(diags[-1])["actions_suppressed"] == "0"

    n_actions = len(actions)
    ros.wait_for(lambda: len(actions) > n_actions, WAIT_S, "an action for a valid observation after the malformed ones",
                 every=lambda: pub.publish(Float64MultiArray(data=good)), proc=node)
    assert np.isfinite(actions[-1].data).all()
    assert "rejected an observation" in node.output()
