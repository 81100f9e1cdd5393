"""A node that cannot start ends at once with a clear message and a non-zero exit code."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S, Proc

pytest.importorskip("rclpy", reason=ROS_MISSING)


@pytest.mark.parametrize("setup, expected", [
    (lambda tmp: {"model_path": tmp / "missing.onnx"}, "does not exist"),
    (lambda tmp: {"model_path": _write(tmp / "garbage.onnx", b"not an onnx model")}, "not a readable ONNX model"),
    (lambda tmp: {}, "model_path is required"),
])
def test_policy_node_bad_model_exits_non_zero(start_node, tmp_path, setup, expected):
    node = start_node("policy_node", **setup(tmp_path))
    assert node.wait(STARTUP_S) != 0, node.output()
    out = node.output()
    assert expected in out and "cannot start" in out, out
    assert "Traceback" not in out, out


@pytest.mark.parametrize("params, expected", [
    ({"integrator": "rk5"}, "integrator must be one of"),
    ({"num_steps": 0}, "num_steps"),
    ({"on_timeout": "explode"}, "on_timeout must be one of"),
    ({"num_steps": "abc"}, "num_steps"),
    ({"control_rate_hz": -1}, "control_rate_hz must be a number in [0, 10000]"),
    ({"control_rate_hz": 1e-12}, "control_rate_hz must be 0 (act on every observation) or at least"),
    ({"observation_timeout_s": "soon"}, "observation_timeout_s must be a number in [0, 3600]"),
    # below InvertedPendulum's 0.04 s control period: the zero action would go out between every two of the policy's
    ({"observation_timeout_s": 0.02}, "observation_timeout_s must be 0 (off) or at least the model's control period 0.04 s"),
    ({"max_action_delta": -0.5}, "max_action_delta must be a number >= 0"),
    ({"on_timeout": "rest"}, "on_timeout rest needs parameter rest_action: the robot's rest command"),
    ({"rest_action": [0.1]}, "parameter rest_action is used only with on_timeout rest (now zero)"),
    ({"on_timeout": "rest", "rest_action": [0.1, 0.2]}, "parameter rest_action must be a list of 1 finite number (the model's joints: "),
    ({"on_timeout": "rest", "rest_action": "[up]"}, "parameter rest_action must be a list of 1 finite number (the model's joints: "),
    ({"on_timeout": "rest", "rest_action": 0.1}, "parameter rest_action must be a list of 1 finite number (the model's joints: "),
    ({"on_timeout": "rest", "rest_action": [7]}, "parameter rest_action must lie inside the action bounds: "),
    ({"on_timeout": "rest", "rest_action": "[0, 1.5]"},  # rcl: one type per list
     "cannot start: failed to initialize rcl: Couldn't parse parameter override rule: '-p rest_action:=[0, 1.5]'"),
    ({"on_timeout": "rest", "rest_action": "[0, 1.5]"},  # older rcl names the wrong type ('bool'): the hint says it all
     "(a list's items must all be of one type: [0.0, 1.5], not [0, 1.5])"),
])
def test_policy_node_bad_parameter_exits_non_zero(policy_file, start_node, params, expected):
    node = start_node("policy_node", model_path=policy_file, **params)
    assert node.wait(STARTUP_S) != 0, node.output()
    assert expected in node.output() and "Traceback" not in node.output(), node.output()


def test_sim_node_unknown_env_exits_non_zero(start_node):
    node = start_node("sim_node", env_id="NoSuchEnv-v0")
    assert node.wait(STARTUP_S) != 0, node.output()
    assert "unknown environment id" in node.output() and "Traceback" not in node.output(), node.output()


@pytest.mark.parametrize("params, expected", [
    ({"qos_reliability": "best_effort"}, "unknown parameter qos_reliability (renamed: use observation_reliability and "
                                         "action_reliability)"),
    ({"num_step": 2}, "unknown parameter num_step (did you mean num_steps?)"),
])
def test_policy_node_unknown_parameter_exits_non_zero(policy_file, start_node, params, expected):
    """rclpy ignores an override of an undeclared parameter: a typo or a renamed parameter would leave the default
    (e.g. a reliable observation subscription that never hears a best_effort sensor) without a word."""
    node = start_node("policy_node", model_path=policy_file, **params)
    assert node.wait(STARTUP_S) != 0, node.output()
    out = node.output()
    assert expected in out and "cannot start" in out and "Traceback" not in out, out


def test_sim_node_unknown_parameter_exits_non_zero(start_node):
    node = start_node("sim_node", env_id="InvertedPendulum-v5", episodez=2)
    assert node.wait(STARTUP_S) != 0, node.output()
    assert "unknown parameter episodez (did you mean episodes?)" in node.output(), node.output()


PARAMS_FILE = """\
/**:
  ros__parameters:
    use_sim_time: false
{key}:
  ros__parameters:
    model_path: {model}
    num_steps: 3
    {extra}
other_node:
  ros__parameters:
    update_rate: 100
"""


@pytest.mark.parametrize("key, namespace", [("fpo_policy", "/"), ("/robot1/fpo_policy", "/robot1"), ("/**", "/robot1")])
def test_params_file_unknown_entry_exits_non_zero_and_known_ones_start(policy_file, ros_env, tmp_path, key, namespace):
    """A --params-file entry for this node (by name, by namespaced name or under /**) that it does not declare refuses
    the start; rclpy's use_sim_time and another node's entries are fine."""
    def run(extra: str, name: str) -> Proc:
        path = tmp_path / f"{name}.yaml"
        path.write_text(PARAMS_FILE.format(key=key, model=policy_file, extra=extra))
        return _with_params_file("policy_node", path, ros_env, "-r", f"__ns:={namespace}")

    bad = run("qos_reliability: best_effort", "bad")
    try:
        assert bad.wait(STARTUP_S) != 0, bad.output()
        assert "unknown parameter qos_reliability" in bad.output(), bad.output()
    finally:
        bad.stop()
    good = run("on_timeout: hold", "good")
    try:
        out = _output_once(good, "loaded")
        assert "loaded" in out or good.popen.poll() is None, f"a valid params file was refused:\n{out}"
        assert "loaded" in out, f"no start line:\n{out}"
        assert "K=3" in good.output(), good.output()
    finally:
        good.stop()
    assert good.popen.returncode == 0, good.output()


@pytest.mark.parametrize("sim_mode", ["realtime", "lockstep"])
def test_every_parameter_the_launch_file_passes_is_accepted(policy_file, ros_env, tmp_path, sim_mode):
    """policy.launch.py's parameters, written under /** as launch_ros writes them: since an unknown one refuses the
    start, a launch argument the node does not declare would break the launch."""
    import yaml

    from fpo_ros.launch_config import describe

    for d in describe({"model_path": str(policy_file), "use_sim": "true", "sim_mode": sim_mode, "num_steps": "3",
                       "integrator": "rk4", "noise": "zero", "observation_timeout_s": "1", "on_timeout": "rest",
                       "rest_action": "[0.0]"}):
        path = tmp_path / f"{d.name}_{sim_mode}.yaml"
        path.write_text(yaml.safe_dump({"/**": {"ros__parameters": d.parameters}}))
        node = _with_params_file(d.executable, path, ros_env, "-r", f"__node:={d.name}")
        try:
            assert "[INFO]" in _output_once(node, "[INFO]") and node.popen.poll() is None, node.output()
        finally:
            node.stop()
        assert node.popen.returncode == 0, node.output()


def test_the_default_watchdog_timeout_waits_two_control_periods_of_a_slow_policy(policy_file, start_node, tmp_path):
    """A policy trained at 1 Hz: the default 0.5 s timeout would be below its control period (refused when given): by
    default the watchdog waits two periods, and an explicit 0.5 s is still refused. On a 50 Hz timer the period is the
    timer's, and the default stays 0.5 s."""
    import json

    import onnx

    model = onnx.load(policy_file)
    for prop in model.metadata_props:
        if prop.key == "control_period_s":
            prop.value = json.dumps(1.0)
    slow = tmp_path / "slow.onnx"
    onnx.save(model, slow)
    node = start_node("policy_node", model_path=slow)
    assert "watchdog after 2 s without observations" in _output_once(node, "loaded"), node.output()
    timer = start_node("policy_node", model_path=slow, control_rate_hz=50)  # its control period is the timer's
    assert "watchdog after 0.5 s without observations" in _output_once(timer, "loaded"), timer.output()
    refused = start_node("policy_node", model_path=slow, observation_timeout_s=0.5)
    assert refused.wait(STARTUP_S) != 0 and "at least the model's control period 1 s" in refused.output(), refused.output()


def _with_params_file(executable: str, path: Path, ros_env: dict[str, str], *ros_args: str) -> Proc:
    """An fpo_ros node started with ``--params-file path`` (as launch_ros starts it), logging next to the file."""
    return Proc([sys.executable, "-m", f"fpo_ros.{executable}", "--ros-args", *ros_args, "--params-file", str(path)],
                ros_env, path.with_suffix(".log"))


def _output_once(node: Proc, text: str) -> str:
    """The node's output once it holds ``text``, or once the node exited or STARTUP_S passed."""
    end = time.monotonic() + STARTUP_S
    while node.popen.poll() is None and text not in node.output() and time.monotonic() < end:
        time.sleep(0.1)
    return node.output()


def _write(path, data: bytes):
    path.write_bytes(data)
    return path
