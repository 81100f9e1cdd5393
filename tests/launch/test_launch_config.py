"""fpo_ros.launch_config: launch arguments → node descriptions (no launch stack needed)."""

from __future__ import annotations

import re

import pytest

from fpo_ros.launch_config import ARGUMENTS, describe


def test_defaults_start_the_policy_node_only():
    (policy,) = describe({"model_path": "/m/policy.onnx"})
    assert (policy.package, policy.executable, policy.name, policy.namespace) == ("fpo_ros", "policy_node", "fpo_policy", "")
    assert policy.parameters == {"model_path": "/m/policy.onnx", "seed": 0, "control_rate_hz": 0.0,
                                 "on_timeout": "zero", "max_action_delta": 0.0, "active": True,
                                 "observation_reliability": "reliable", "action_reliability": "reliable", "qos_depth": 1,
                                 "use_sim_time": False}
    assert policy.remappings == [("observation", "observation"), ("action", "action")]


def test_values_are_typed_and_model_defaults_are_left_to_the_model():
    (policy,) = describe({"model_path": "m.onnx", "num_steps": "4", "integrator": "rk4", "noise": "zero",
                          "control_rate_hz": "500", "observation_timeout_s": "0.25", "action_topic": "/arm_controller/commands", "namespace": "robot1"})
    p = policy.parameters
    assert (p["num_steps"], p["integrator"], p["noise"], p["control_rate_hz"]) == (4, "rk4", "zero", 500.0)
    assert isinstance(p["control_rate_hz"], float) and isinstance(p["num_steps"], int) and p["observation_timeout_s"] == 0.25
    assert ("action", "/arm_controller/commands") in policy.remappings and policy.namespace == "robot1"
    (plain,) = describe({"model_path": "m.onnx"})
    assert not {"num_steps", "integrator", "noise", "observation_timeout_s"} & set(plain.parameters)


def test_each_topic_has_its_own_reliability():
    (policy,) = describe({"model_path": "m.onnx", "observation_reliability": "best_effort"})
    assert (policy.parameters["observation_reliability"], policy.parameters["action_reliability"]) == ("best_effort", "reliable")


def test_a_rest_action_is_a_list_of_floats():
    """`rest_action:=[0, 0.9]` (a default pose): floats, so the node gets a double array (rcl refuses [0, 0.9] mixed)."""
    for text in ("[0, 0.9, -1.8]", "0, 0.9, -1.8", " [0.0,0.9,-1.8] "):
        (policy,) = describe({"model_path": "m.onnx", "on_timeout": "rest", "rest_action": text})
        assert policy.parameters["rest_action"] == [0.0, 0.9, -1.8] and all(isinstance(x, float) for x in policy.parameters["rest_action"])
    (plain,) = describe({"model_path": "m.onnx"})
    assert "rest_action" not in plain.parameters


def test_use_sim_time_reaches_the_policy_node_but_not_with_our_sim():
    (policy,) = describe({"model_path": "m.onnx", "use_sim_time": "true"})
    assert policy.parameters["use_sim_time"] is True
    with pytest.raises(ValueError, match="sim_node runs on wall time"):  # no /clock: its timers would never fire
        describe({"model_path": "m.onnx", "use_sim": "true", "use_sim_time": "true"})


def test_use_sim_wires_the_sim_to_the_same_topics():
    policy, sim = describe({"model_path": "m.onnx", "use_sim": "true", "sim_mode": "lockstep", "episodes": "3", "seed": "5",
                            "observation_topic": "obs", "action_topic": "cmd"})
    assert (sim.executable, sim.name) == ("sim_node", "fpo_sim")
    assert sim.remappings == policy.remappings == [("observation", "obs"), ("action", "cmd")]
    assert sim.parameters["mode"] == "lockstep" and sim.parameters["episodes"] == 3 and sim.parameters["seed"] == 5
    assert policy.parameters["observation_timeout_s"] == 0.0, "a lockstep sim waits for actions; the watchdog must be off"
    assert sim.ends_launch and not policy.ends_launch, "after its episodes the sim ends the launch (policy node included)"
    _, realtime_sim = describe({"model_path": "m.onnx", "use_sim": "true"})
    assert realtime_sim.parameters["mode"] == "realtime" and not realtime_sim.ends_launch, "episodes 0 runs forever"


def test_a_slow_motion_sim_turns_the_default_watchdog_off():
    """At real_time_factor 0.05 a 0.04 s step comes every 0.8 s: the default 0.5 s watchdog would publish zeros that
    replace each action before the next physics step. A timeout given explicitly is kept."""
    slow = {"model_path": "m.onnx", "use_sim": "true", "real_time_factor": "0.05"}
    policy, sim = describe(slow)
    assert policy.parameters["observation_timeout_s"] == 0.0 and sim.parameters["real_time_factor"] == 0.05
    policy, _ = describe({**slow, "observation_timeout_s": "2"})
    assert policy.parameters["observation_timeout_s"] == 2.0
    for rtf in ("1", "4"):
        policy, _ = describe({"model_path": "m.onnx", "use_sim": "true", "real_time_factor": rtf})
        assert "observation_timeout_s" not in policy.parameters, "at or above real time the node's default applies"


@pytest.mark.parametrize("overrides, message", [
    ({}, "model_path is required"),
    ({"model_path": "m.onnx", "num_steps": "0"}, "num_steps must be >= 1"),
    ({"model_path": "m.onnx", "num_steps": "four"}, "num_steps must be an integer"),
    ({"model_path": "m.onnx", "integrator": "rk5"}, "integrator must be one of"),
    ({"model_path": "m.onnx", "on_timeout": "panic"}, "on_timeout must be one of"),
    ({"model_path": "m.onnx", "on_timeout": "rest", "rest_action": "[0, up]"},
     "rest_action must be a list of numbers such as [0.0, 0.9]"),
    ({"model_path": "m.onnx", "on_timeout": "rest", "rest_action": "[nan]"}, "rest_action must hold finite numbers"),
    ({"model_path": "m.onnx", "on_timeout": "rest"}, "on_timeout:=rest and rest_action go together"),
    ({"model_path": "m.onnx", "rest_action": "[0.0]"}, "on_timeout:=rest and rest_action go together"),
    ({"model_path": "m.onnx", "max_action_delta": "-0.1"}, "max_action_delta must be >= 0.0"),
    ({"model_path": "m.onnx", "max_action_delta": "inf"}, "max_action_delta must be a finite number"),
    ({"model_path": "m.onnx", "active": "off"}, "active must be one of"),
    ({"model_path": "m.onnx", "observation_reliability": "sensor"}, "observation_reliability must be one of"),
    ({"model_path": "m.onnx", "qos_reliability": "best_effort"}, "unknown launch argument(s) qos_reliability"),
    ({"model_path": "m.onnx", "use_sim": "yes"}, "use_sim must be one of"),
    ({"model_path": "m.onnx", "action_topic": ""}, "action_topic must not be empty"),
    ({"model_path": "m.onnx", "modle_path": "x"}, "unknown launch argument(s) modle_path"),
    ({"model_path": "m.onnx", "use_sim": "true", "sim_mode": "lockstep", "control_rate_hz": "50"},
     "leave control_rate_hz at 0"),
])
def test_bad_arguments_raise_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        describe(overrides)


def test_argument_defaults_are_valid_choices():
    for a in ARGUMENTS:
        assert a.choices is None or a.default in a.choices, a.name
