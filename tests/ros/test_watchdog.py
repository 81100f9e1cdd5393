"""Stale observations: the configured on_timeout behaviour follows within the timeout; timer mode."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S

pytest.importorskip("rclpy", reason=ROS_MISSING)

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.runtime import FlowPolicy  # noqa: E402

TIMEOUT_S = 0.3
WAIT_S = 10.0


def _start(policy_file, start_node, ros, on_timeout: str, timeout_s: float = TIMEOUT_S, **params):
    obs = np.full(FlowPolicy.load(policy_file).contract.obs_dim, 0.1)
    node = start_node("policy_node", model_path=policy_file, noise="zero", observation_timeout_s=timeout_s,
                      on_timeout=on_timeout, **params)
    actions = ros.collect(Float64MultiArray, "action")
    diags = ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    send = lambda: pub.publish(Float64MultiArray(data=obs.tolist()))  # noqa: E731
    return node, actions, diags, send


def _stale_reported(diags) -> bool:
    return bool(diags) and diags[-1].status[0].level == DiagnosticStatus.WARN and "stale" in diags[-1].status[0].message


REST = 0.37
"""rest_action's value for each joint: inside the test model's bounds, neither zero nor the policy's action."""


@pytest.mark.parametrize("on_timeout", ["zero", "hold", "rest"])
def test_stale_observations_publish_the_safe_action(policy_file, start_node, ros, on_timeout):
    act_dim = FlowPolicy.load(policy_file).contract.act_dim
    rest = {"rest_action": [REST] * act_dim} if on_timeout == "rest" else {}
    node, actions, diags, send = _start(policy_file, start_node, ros, on_timeout, **rest)
    ros.wait_for(lambda: len(actions) >= 5, STARTUP_S, "actions while observations flow", every=send, proc=node)
    last_policy_action = np.array(actions[-1].data)
    assert np.all(np.abs(last_policy_action) > 1e-3) and not np.allclose(last_policy_action, REST), \
        "the policy's action is near zero or the rest action; the safe actions cannot be told apart"
    safe = {"zero": np.zeros_like(last_policy_action), "hold": last_policy_action, "rest": np.full(act_dim, REST)}[on_timeout]
    assert on_timeout != "rest" or f"without observations: rest [{REST}" in node.output(), node.output()  # logged at start
    n = len(actions)
    ros.wait_for(lambda: len(actions) >= n + 3 and np.array_equal(actions[-1].data, safe), WAIT_S,
                 f"repeated {on_timeout} actions after observations stopped", proc=node)
    ros.wait_for(lambda: _stale_reported(diags), WAIT_S, "diagnostics reporting stale observations", proc=node)
    n = len(actions)
    ros.wait_for(lambda: len(actions) > n and np.array_equal(actions[-1].data, last_policy_action), WAIT_S,
                 "the policy acting again once observations resume", every=send, proc=node)


def test_nothing_stops_publishing(policy_file, start_node, ros):
    node, actions, diags, send = _start(policy_file, start_node, ros, "nothing")
    ros.wait_for(lambda: len(actions) >= 5, STARTUP_S, "actions while observations flow", every=send, proc=node)
    ros.wait_for(lambda: _stale_reported(diags), WAIT_S, "diagnostics reporting stale observations", proc=node)
    n = len(actions)
    ros.spin_for(5 * TIMEOUT_S)
    assert len(actions) == n, f"{len(actions) - n} actions published while observations were stale with on_timeout=nothing"
    assert node.popen.poll() is None, node.output()


def test_timer_mode_acts_on_the_latest_observation_then_times_out(policy_file, start_node, ros):
    # integers, as `-p control_rate_hz:=50` sends them: the float parameters take them
    node, actions, diags, send = _start(policy_file, start_node, ros, "zero", timeout_s=1, control_rate_hz=50)
    ros.wait_for(lambda: len(actions) > 0, STARTUP_S, "a first action in timer mode", every=send, proc=node)
    n, start = len(actions), time.monotonic()
    send()
    ros.wait_for(lambda: len(actions) >= n + 3 and np.array_equal(actions[-1].data, np.zeros(len(actions[-1].data))),
                 WAIT_S, "timer actions, then zeros once the single observation went stale", proc=node)
    policy_actions = [a for a in actions[n:] if np.any(np.array(a.data) != 0.0)]
    assert len(policy_actions) >= 2, (f"timer mode should act repeatedly on one observation before it goes stale; got "
                                      f"{len(policy_actions)} within {time.monotonic() - start:.2f} s")


def test_no_observation_at_all_is_reported(policy_file, start_node, ros):
    """A mis-remapped or QoS-incompatible observation topic must not look healthy: WARN once the timeout has passed."""
    node = start_node("policy_node", model_path=policy_file, observation_timeout_s=TIMEOUT_S)
    diags = ros.collect(DiagnosticArray, "diagnostics")
    ros.wait_for(lambda: bool(diags) and diags[-1].status[0].level == DiagnosticStatus.WARN, STARTUP_S,
                 "diagnostics warning that no observation ever arrived", proc=node)
    assert "no observation" in diags[-1].status[0].message


def test_observations_the_policy_refuses_do_not_feed_the_watchdog(policy_file, start_node, ros):
    """A finite float64 beyond float32's range (a corrupt sensor value) is rejected before it counts as fresh."""
    node, actions, diags, send = _start(policy_file, start_node, ros, "zero")
    ros.wait_for(lambda: len(actions) >= 5, STARTUP_S, "actions while observations flow", every=send, proc=node)
    huge = [1e300] * FlowPolicy.load(policy_file).contract.obs_dim
    pub = ros.publisher("observation")
    n = len(actions)
    ros.wait_for(lambda: len(actions) >= n + 3 and not np.any(actions[-1].data), WAIT_S,
                 "zero actions from the watchdog while only unusable observations arrive",
                 every=lambda: pub.publish(Float64MultiArray(data=huge)), proc=node)
    assert "float32's range" in node.output()


def test_only_rejected_observations_are_reported_as_such(policy_file, start_node, ros):
    """Observations that arrive but are all rejected (a wrong size, say) are reported with the reason, not as silence."""
    node = start_node("policy_node", model_path=policy_file, observation_timeout_s=TIMEOUT_S)
    diags = ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    short = [0.0] * (FlowPolicy.load(policy_file).contract.obs_dim - 1)
    ros.wait_for(lambda: bool(diags) and diags[-1].status[0].level == DiagnosticStatus.WARN, STARTUP_S,
                 "diagnostics warning about the rejected observations",
                 every=lambda: pub.publish(Float64MultiArray(data=short)), proc=node)
    message = diags[-1].status[0].message
    assert "no valid observation" in message and "shape" in message, message


def test_watchdog_and_diagnostics_run_without_a_clock_under_sim_time(policy_file, start_node, ros):
    """use_sim_time with /clock stopped (a paused or crashed simulator; here never started): the watchdog still fires."""
    node, actions, diags, send = _start(policy_file, start_node, ros, "zero", use_sim_time=True)
    ros.wait_for(lambda: len(actions) >= 5, STARTUP_S, "actions while observations flow", every=send, proc=node)
    n = len(actions)
    ros.wait_for(lambda: len(actions) >= n + 3 and not np.any(actions[-1].data), WAIT_S,
                 "zero actions from the watchdog after observations stopped, with no /clock", proc=node)
    ros.wait_for(lambda: _stale_reported(diags), WAIT_S, "diagnostics reporting stale observations", proc=node)


def test_rejections_that_make_observations_stale_are_reported_with_the_reason(policy_file, start_node, ros):
    """Valid observations, then only NaN ones (a sensor failing): the report names the rejections and why, not only
    that observations went stale, although they keep arriving."""
    node, actions, diags, send = _start(policy_file, start_node, ros, "zero")
    ros.wait_for(lambda: len(actions) >= 3, STARTUP_S, "actions while observations flow", every=send, proc=node)
    nan = [float("nan")] * FlowPolicy.load(policy_file).contract.obs_dim
    pub = ros.publisher("observation")
    n = len(diags)
    ros.wait_for(lambda: len(diags) > n + 1, WAIT_S, "two reports while only NaN observations arrive",
                 every=lambda: pub.publish(Float64MultiArray(data=nan)), proc=node)
    message = diags[-1].status[0].message
    assert diags[-1].status[0].level == DiagnosticStatus.WARN and "rejected" in message and "NaN" in message, message
    assert "stale" in message, message
