"""max_action_delta: actions move at most that much per component between two published actions."""

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


def _unlimited(policy_file) -> tuple[np.ndarray, np.ndarray]:
    """The observation the tests send, and the action the node publishes for it without a limit."""
    policy = FlowPolicy.load(policy_file)
    obs = np.full(policy.contract.obs_dim, 0.1)
    return obs, policy.act(obs, noise="zero")


def _start(policy_file, start_node, ros, delta, on_timeout: str, n: int, alternate: bool = False, **params):
    """A rate-limited node fed one observation over and over (``alternate``: once it has acted on it, that observation
    and its negative in turn); returns the node, the list its actions arrive in (``n`` so far), diagnostics and the
    send call."""
    obs, _ = _unlimited(policy_file)
    node = start_node("policy_node", model_path=policy_file, noise="zero", observation_timeout_s=0.0,
                      on_timeout=on_timeout, max_action_delta=delta, qos_depth=100, **params)  # depth: no action lost
    actions, diags = ros.collect(Float64MultiArray, "action"), ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    sent = [0]

    def send() -> None:
        flip = alternate and actions and sent[0] % 2  # the first observations may be lost while discovery completes
        pub.publish(Float64MultiArray(data=(-obs if flip else obs).tolist()))
        sent[0] += 1

    ros.wait_for(lambda: len(actions) >= n, STARTUP_S, f"{n} actions", every=send, proc=node)
    return node, actions, diags, send


def test_torque_commands_ramp_in_from_rest_and_the_limit_changes_live(policy_file, start_node, ros):
    _, target = _unlimited(policy_file)
    delta = float(np.abs(target).max()) / 20  # 20 actions to get there from the zero action (on_timeout zero)
    assert delta > 1e-3, "the policy's action is almost zero; the test could not see a ramp"
    node, actions, diags, send = _start(policy_file, start_node, ros, delta, "zero", n=4)
    ros.spin_for(0.3)  # nothing is sent now: every action computed under the first limit has arrived
    ramp = np.array([a.data for a in actions])
    steps = np.abs(np.diff(np.vstack([np.zeros_like(target), ramp]), axis=0))
    assert steps.max() <= delta * (1 + 1e-9), f"a component moved {steps.max()} > max_action_delta {delta}"
    assert not np.allclose(ramp[-1], target), "the ramp ended early"
    ros.wait_for(lambda: diags and int(diagnostic_values(diags[-1])["actions_rate_limited"]) >= 3, WAIT_S,
                 "diagnostics counting the limited actions", proc=node)

    for bad in (-0.5, "fast"):
        ok, reason = ros.set_parameter("max_action_delta", bad, node)
        assert not ok and "max_action_delta must be a number >= 0" in reason, (bad, reason)
    # a rejected value keeps the old limit (-0.5 taken for "no limit" would let the next action jump to the target)
    n = len(actions)
    assert np.abs(target - actions[-1].data).max() > delta, "the ramp is within one step of the target"
    send()  # one observation (reliable, already matched): once its action is here none is in flight to race the new limit
    ros.wait_for(lambda: len(actions) > n, WAIT_S, "an action after the rejected limits", proc=node)
    step = np.abs(np.subtract(actions[n].data, actions[n - 1].data)).max()
    assert step <= delta * (1 + 1e-9), f"after the rejected changes a component moved {step} > max_action_delta {delta}"
    assert ros.set_parameter("max_action_delta", 100, node) == (True, "")  # an integer, as `ros2 param set ... 100` sends
    n = len(actions)
    ros.wait_for(lambda: len(actions) > n, WAIT_S, "an action under the new limit", every=send, proc=node)
    np.testing.assert_allclose(actions[n].data, target, rtol=1e-6, atol=1e-9)  # the rest of the way in one step


def test_position_commands_are_not_pulled_toward_zero_at_start(policy_file, start_node, ros):
    """With on_timeout hold (position control) zero is no rest pose: the first action goes out as computed."""
    obs, target = _unlimited(policy_file)
    other = FlowPolicy.load(policy_file).act(-obs, noise="zero")
    assert np.abs(other - target).max() > 1e-3, "the actions for obs and -obs are alike; the test could not see a limit"
    _, actions, _, _ = _start(policy_file, start_node, ros, 1e-6, "hold", n=4, alternate=True)
    actions = np.array([a.data for a in actions])
    np.testing.assert_allclose(actions[0], target, rtol=1e-6, atol=1e-9)
    assert np.abs(np.diff(actions, axis=0)).max() <= 1e-6 * (1 + 1e-9)  # later ones are limited all the same


def test_position_commands_ramp_in_from_the_rest_action(policy_file, start_node, ros):
    """With on_timeout rest (a position-controlled robot's default pose) the first actions blend in from rest_action."""
    _, target = _unlimited(policy_file)
    rest = target + 0.5  # the test model's box is wide (InvertedPendulum: ±3)
    delta = 0.5 / 20
    _, actions, _, _ = _start(policy_file, start_node, ros, delta, "rest", n=4, rest_action=rest.tolist())
    ramp = np.array([a.data for a in actions])
    np.testing.assert_allclose(ramp[0], rest - delta, rtol=1e-9, atol=1e-12)  # one step from rest toward the policy's
    steps = np.abs(np.diff(ramp, axis=0))
    assert steps.max() <= delta * (1 + 1e-9) and not np.allclose(ramp[-1], target), ramp


def test_an_integer_limit_is_taken_at_startup(policy_file, start_node, ros):
    """`-p max_action_delta:=1` is an integer to ROS: the node starts with it (rclpy alone refuses it for a double)."""
    _, target = _unlimited(policy_file)
    _, actions, _, _ = _start(policy_file, start_node, ros, 1, "zero", n=1)
    np.testing.assert_allclose(actions[0].data, np.clip(target, -1, 1), rtol=1e-6, atol=1e-9)
