"""Live parameter changes through the parameter service (as `ros2 param set` does)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S

pytest.importorskip("rclpy", reason=ROS_MISSING)

from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rcl_interfaces.srv import GetParameters  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.runtime import FlowPolicy  # noqa: E402
from tests.ros.harness import diagnostic_values  # noqa: E402

WAIT_S = 10.0


def test_num_steps_changes_live_and_bad_values_are_rejected(policy_file, start_node, ros):
    policy = FlowPolicy.load(policy_file)
    obs = np.linspace(-0.2, 0.2, policy.contract.obs_dim)
    at10, at2 = (policy.act(obs, num_steps=k, noise="zero") for k in (10, 2))
    assert not np.allclose(at10, at2), "the model gives the same action at K=10 and K=2; the test cannot tell them apart"

    node = start_node("policy_node", model_path=policy_file, num_steps=10, noise="zero")
    actions = ros.collect(Float64MultiArray, "action")
    diags = ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    send = lambda: pub.publish(Float64MultiArray(data=obs.tolist()))  # noqa: E731
    getter = ros.node.create_client(GetParameters, "/fpo_policy/get_parameters")

    ros.wait_for(lambda: len(actions) > 0, STARTUP_S, "a first action at K=10", every=send, proc=node)
    np.testing.assert_allclose(actions[-1].data, at10, rtol=1e-5, atol=1e-6)
    # the start line names the action order a controller's joints must follow
    assert f"action order (the controller's joints): {', '.join(policy.contract.joint_names)}" in node.output()

    assert ros.set_parameter("num_steps", 2, node) == (True, "")
    ros.wait_for(lambda: diags and diagnostic_values(diags[-1])["num_steps"] == "2", WAIT_S, "diagnostics showing num_steps 2",
                 every=send, proc=node)
    n = len(actions)
    ros.wait_for(lambda: len(actions) > n, WAIT_S, "an action after the change", every=send, proc=node)
    np.testing.assert_allclose(actions[-1].data, at2, rtol=1e-5, atol=1e-6)

    for bad in (0, -3, "abc"):
        ok, reason = ros.set_parameter("num_steps", bad, node)
        assert not ok and reason, f"num_steps={bad!r} was accepted"
    for name, bad in (("integrator", "rk5"), ("noise", "pink"), ("model_path", "/elsewhere.onnx")):
        ok, reason = ros.set_parameter(name, bad, node)
        assert not ok and reason, f"{name}={bad!r} was accepted"
    res = ros.call(getter, GetParameters.Request(names=["num_steps", "integrator"]), WAIT_S, "get_parameters")
    assert res.values[0].integer_value == 2 and res.values[1].string_value == policy.contract.integrator

    n = len(actions)
    ros.wait_for(lambda: len(actions) > n + 3, WAIT_S, "actions after the rejected changes", every=send, proc=node)
    np.testing.assert_allclose(actions[-1].data, at2, rtol=1e-5, atol=1e-6)
    assert ros.set_parameter("integrator", "rk4", node) == (True, "")
    n = len(actions)
    ros.wait_for(lambda: len(actions) > n + 1, WAIT_S, "an action with rk4", every=send, proc=node)
    np.testing.assert_allclose(actions[-1].data, policy.act(obs, num_steps=2, integrator="rk4", noise="zero"), rtol=1e-5, atol=1e-6)


def test_setting_the_seed_reseeds_also_to_its_current_value(policy_file, start_node, ros):
    policy = FlowPolicy.load(policy_file)
    obs = np.linspace(-0.2, 0.2, policy.contract.obs_dim)
    policy.seed(7)
    first = policy.act(obs, noise="random")
    assert not np.allclose(first, policy.act(obs, noise="random")), "random noise gave the same action twice"

    node = start_node("policy_node", model_path=policy_file, noise="random", seed=7, observation_timeout_s=0.0)
    actions = ros.collect(Float64MultiArray, "action")
    pub = ros.publisher("observation")
    send = lambda: pub.publish(Float64MultiArray(data=obs.tolist()))  # noqa: E731
    ros.wait_for(lambda: len(actions) >= 3, STARTUP_S, "actions drawing from seed 7's stream", every=send, proc=node)
    for _ in range(2):  # the stream has moved on; setting seed 7 again restarts it
        ros.spin_for(0.3)  # no observation in flight
        assert ros.set_parameter("seed", 7, node) == (True, "")
        n = len(actions)
        ros.wait_for(lambda: len(actions) > n, WAIT_S, "an action after setting the seed", every=send, proc=node)
        np.testing.assert_allclose(actions[n].data, first, rtol=1e-5, atol=1e-6)


def test_inference_slower_than_the_control_period_is_reported(policy_file, start_node, ros):
    """K = 10000 takes longer than the model's control period: the log and diagnostics say so, and what to change."""
    policy = FlowPolicy.load(policy_file)
    obs = np.zeros(policy.contract.obs_dim).tolist()
    node = start_node("policy_node", model_path=policy_file, num_steps=10_000, observation_timeout_s=0.0)
    actions = ros.collect(Float64MultiArray, "action")
    diags = ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    ros.wait_for(lambda: len(actions) > 0 and diags and "exceeds the control period" in diags[-1].status[0].message,
                 WAIT_S * 3, "diagnostics warning that inference is slower than the control period",
                 every=lambda: pub.publish(Float64MultiArray(data=obs)), proc=node)
    assert "longer than the control period" in node.output() and "lower num_steps" in node.output()
    # fixed live: the latency statistics restart with the new sampler, so the warning clears at once
    assert ros.set_parameter("num_steps", 1, node) == (True, "")
    ros.wait_for(lambda: diags[-1].status[0].message == "acting", WAIT_S, "diagnostics back to OK after lowering num_steps",
                 every=lambda: pub.publish(Float64MultiArray(data=obs)), proc=node)
