"""A node that cannot start ends at once with a clear message and a non-zero exit code."""

from __future__ import annotations

import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S

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
    ({"max_action_delta": -0.5}, "max_action_delta must be a number >= 0"),
])
def test_policy_node_bad_parameter_exits_non_zero(policy_file, start_node, params, expected):
    node = start_node("policy_node", model_path=policy_file, **params)
    assert node.wait(STARTUP_S) != 0, node.output()
    assert expected in node.output() and "Traceback" not in node.output(), node.output()


def test_sim_node_unknown_env_exits_non_zero(start_node):
    node = start_node("sim_node", env_id="NoSuchEnv-v0")
    assert node.wait(STARTUP_S) != 0, node.output()
    assert "unknown environment id" in node.output() and "Traceback" not in node.output(), node.output()


def _write(path, data: bytes):
    path.write_bytes(data)
    return path
