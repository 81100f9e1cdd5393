"""The `active` parameter: false stops acting and publishes the on_timeout action once; true acts again."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S

pytest.importorskip("rclpy", reason=ROS_MISSING)

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.runtime import FlowPolicy  # noqa: E402
from tests.ros.harness import diagnostic_values  # noqa: E402

WAIT_S = 10.0
WATCHDOG_S = 0.3


def test_deactivating_stops_with_the_safe_action_and_activating_resumes(policy_file, start_node, ros):
    obs = np.full(FlowPolicy.load(policy_file).contract.obs_dim, 0.1)
    node = start_node("policy_node", model_path=policy_file, noise="zero", on_timeout="zero", qos_depth=100,
                      observation_timeout_s=WATCHDOG_S)
    actions, diags = ros.collect(Float64MultiArray, "action"), ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    send = lambda: pub.publish(Float64MultiArray(data=obs.tolist()))  # noqa: E731
    ros.wait_for(lambda: len(actions) >= 3, STARTUP_S, "actions while active", every=send, proc=node)
    acting = np.array(actions[-1].data)
    assert np.any(acting != 0.0), "the policy's action is exactly zero; the test could not see the stop's zero"

    assert ros.set_parameter("active", False, node) == (True, "")
    ros.wait_for(lambda: np.array_equal(actions[-1].data, np.zeros_like(acting)), WAIT_S, "the zero action on deactivation",
                 every=send, proc=node)
    ros.wait_for(lambda: diags and diagnostic_values(diags[-1])["active"] == "False", WAIT_S, "diagnostics showing inactive",
                 every=send, proc=node)
    n, seen = len(actions), len(diags)
    ros.wait_for(lambda: len(diags) > seen, WAIT_S, "another second of diagnostics", every=send, proc=node)
    assert len(actions) == n, "an inactive node published while observations kept coming"
    ros.spin_for(3 * WATCHDOG_S)
    assert len(actions) == n, "an inactive node's watchdog published when observations stopped"
    bad = lambda: pub.publish(Float64MultiArray(data=[float("nan")] * obs.size))  # noqa: E731
    ros.wait_for(lambda: diags[-1].status[0].level == DiagnosticStatus.WARN and "rejected" in diags[-1].status[0].message,
                 WAIT_S, "diagnostics still warning of rejected observations while inactive", every=bad, proc=node)

    assert not ros.set_parameter("active", "yes", node)[0], "active='yes' was accepted"
    assert ros.set_parameter("active", True, node) == (True, "")
    ros.wait_for(lambda: len(actions) > n and np.allclose(actions[-1].data, acting), WAIT_S, "actions again once active",
                 every=send, proc=node)
