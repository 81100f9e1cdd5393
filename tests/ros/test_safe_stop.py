"""The policy node's last words: on SIGINT/SIGTERM and in place of a non-finite action it publishes on_timeout's action."""

from __future__ import annotations

import signal
import sys

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.ros.procs import ROS_MISSING, STARTUP_S, Proc

pytest.importorskip("rclpy", reason=ROS_MISSING)

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.runtime import FlowPolicy  # noqa: E402
from tests.ros.harness import diagnostic_values  # noqa: E402

WAIT_S = 10.0


def _acting(policy_file, start_node, ros, **params):
    """A policy node whose watchdog stays quiet, and the actions it published while observations flowed."""
    obs = np.full(FlowPolicy.load(policy_file).contract.obs_dim, 0.1)
    node = start_node("policy_node", model_path=policy_file, noise="zero", observation_timeout_s=0.0, **params)
    actions, diags = ros.collect(Float64MultiArray, "action"), ros.collect(DiagnosticArray, "diagnostics")
    pub = ros.publisher("observation")
    ros.wait_for(lambda: len(actions) >= 5, STARTUP_S, "actions while observations flow",
                 every=lambda: pub.publish(Float64MultiArray(data=obs.tolist())), proc=node)
    return node, actions, diags


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_shutdown_publishes_the_zero_action(policy_file, start_node, ros, sig):
    node, actions, _ = _acting(policy_file, start_node, ros, on_timeout="zero")
    last = np.array(actions[-1].data)
    assert np.any(last != 0.0), "the policy's action is exactly zero; the test could not see the shutdown's zero"
    node.popen.send_signal(sig)
    assert node.wait(WAIT_S) == 0, node.output()
    ros.wait_for(lambda: np.array_equal(actions[-1].data, np.zeros_like(last)), WAIT_S,
                 "the zero action published on shutdown (a forward command controller would keep the last command)")


def test_shutdown_with_on_timeout_rest_publishes_the_rest_action(policy_file, start_node, ros):
    rest = [0.37] * FlowPolicy.load(policy_file).contract.act_dim
    node, actions, _ = _acting(policy_file, start_node, ros, on_timeout="rest", rest_action=rest)
    assert not np.allclose(actions[-1].data, rest), "the policy's action is the rest action; the test could not see it"
    node.popen.send_signal(signal.SIGINT)
    assert node.wait(WAIT_S) == 0, node.output()
    ros.wait_for(lambda: np.array_equal(actions[-1].data, rest), WAIT_S, "the rest action published on shutdown")
    assert "published the rest action" in node.output(), node.output()


def test_hold_leaves_the_last_command_on_shutdown(policy_file, start_node, ros):
    node, actions, _ = _acting(policy_file, start_node, ros, on_timeout="hold")
    n = len(actions)
    node.popen.send_signal(signal.SIGINT)
    assert node.wait(WAIT_S) == 0, node.output()
    ros.spin_for(0.5)
    assert len(actions) == n, "hold means the last command stays: nothing more may be published on shutdown"


FAILING_ACT = """
import fpo_core.runtime as runtime
act, calls = runtime.FlowPolicy.act, [0]
def failing_act(self, *args, **kwargs):  # inference that breaks after a few actions (an ONNX Runtime error, a bug)
    calls[0] += 1
    if calls[0] > 5:
        raise RuntimeError("injected inference failure")
    return act(self, *args, **kwargs)
runtime.FlowPolicy.act = failing_act
from fpo_ros.policy_node import main
raise SystemExit(main())
"""


def test_an_unexpected_error_publishes_the_zero_action_and_exits_non_zero(policy_file, ros_env, ros, tmp_path):
    """A callback that raises ends the node; with on_timeout zero the zero action still goes out, else a forward command
    controller would keep applying the last command of a dead node."""
    obs = np.full(FlowPolicy.load(policy_file).contract.obs_dim, 0.1)
    node = Proc([sys.executable, "-c", FAILING_ACT, "--ros-args", "-p", f"model_path:={policy_file}", "-p", "noise:=zero",
                 "-p", "observation_timeout_s:=0.0"], ros_env, tmp_path / "failing.log")
    try:
        actions = ros.collect(Float64MultiArray, "action")
        pub = ros.publisher("observation")
        ros.wait_for(lambda: node.popen.poll() is not None, STARTUP_S, "the node to stop on the injected failure",
                     every=lambda: pub.publish(Float64MultiArray(data=obs.tolist())))
        assert node.popen.returncode == 1, node.output()
        assert "injected inference failure" in node.output(), node.output()
        # the policy's actions, then the zero one (a depth-1 reliable topic may drop some of the policy's: not counted)
        ros.wait_for(lambda: len(actions) > 1 and not np.any(actions[-1].data) and any(np.any(a.data) for a in actions[:-1]),
                     WAIT_S,
                     lambda: f"the zero action after the policy's {len(actions)} actions (last {list(actions[-1].data)})")
    finally:
        node.stop()


def _nan_model(policy_file, tmp_path):
    """The exported policy with its weights replaced by NaN (metadata intact): every action comes out non-finite."""
    model = onnx.load(policy_file)
    for init in model.graph.initializer:
        w = numpy_helper.to_array(init)
        if w.dtype == np.float32:
            init.CopyFrom(numpy_helper.from_array(np.full_like(w, np.nan), init.name))
    path = tmp_path / "nan_policy.onnx"
    onnx.save(model, path)
    return path


def test_non_finite_actions_are_replaced_by_the_safe_action_and_reported(policy_file, start_node, ros, tmp_path):
    node, actions, diags = _acting(_nan_model(policy_file, tmp_path), start_node, ros, on_timeout="zero")
    assert all(np.array_equal(a.data, np.zeros(len(a.data))) for a in actions), "a NaN policy must publish on_timeout's zeros"

    def error_reported() -> bool:
        return bool(diags) and diags[-1].status[0].level == DiagnosticStatus.ERROR
    ros.wait_for(error_reported, WAIT_S, "diagnostics at ERROR for non-finite actions", proc=node)
    assert "non-finite" in diags[-1].status[0].message and int(diagnostic_values(diags[-1])["actions_suppressed"]) > 0


def test_non_finite_actions_are_reported_as_error_also_when_observations_then_stop(policy_file, start_node, ros, tmp_path):
    """One observation, then silence: the non-finite action is reported at ERROR although observations go stale
    before the next report (three rounds: the 1 s report may fall before or after the watchdog's 0.3 s)."""
    model = _nan_model(policy_file, tmp_path)
    obs = np.full(FlowPolicy.load(policy_file).contract.obs_dim, 0.1).tolist()
    node = start_node("policy_node", model_path=model, observation_timeout_s=0.3, on_timeout="zero")
    diags, actions = ros.collect(DiagnosticArray, "diagnostics"), ros.collect(Float64MultiArray, "action")
    pub = ros.publisher("observation")
    for round_ in range(3):
        n, n_actions = len(diags), len(actions)
        ros.wait_for(lambda: len(actions) > n_actions, STARTUP_S, f"the safe action for a non-finite one in round {round_}",
                     every=lambda: pub.publish(Float64MultiArray(data=obs)), proc=node)
        ros.wait_for(lambda: len(diags) > n and "stale" in diags[-1].status[0].message, WAIT_S,
                     f"stale observations reported in round {round_}", proc=node)
        levels = [d.status[0].level for d in diags[n:]]
        assert DiagnosticStatus.ERROR in levels, f"round {round_}: the non-finite action was never reported: {levels}"
