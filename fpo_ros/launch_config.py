"""The nodes of ``policy.launch.py`` as plain data, built from launch arguments (testable without launch).

``launch/policy.launch.py`` declares ``ARGUMENTS`` and turns ``describe(values)`` into
``launch_ros.actions.Node`` actions; all parsing and wiring lives here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Optional, Union

from fpo_core.contract import NOISES
from fpo_core.integrators import INTEGRATORS

PACKAGE = "fpo_ros"
ParamValue = Union[str, int, float, bool, list[float]]
BOOLS = {"true": True, "false": False}
ON_TIMEOUT = ("zero", "rest", "hold", "nothing")
"""``fpo_policy``'s on_timeout choices (here, where the launch file reads them without the node's rclpy and onnxruntime)."""


@dataclass(frozen=True)
class Argument:
    """A launch argument: name, default (a string, as launch passes them), description, allowed values."""

    name: str
    default: str
    description: str
    choices: Optional[tuple[str, ...]] = None


ARGUMENTS: tuple[Argument, ...] = (
    Argument("model_path", "", "Exported policy (.onnx from `fpo export`); required"),
    Argument("num_steps", "", "Integration steps K; empty: the value recorded in the model"),
    Argument("integrator", "", "euler, midpoint, heun or rk4; empty: the value recorded in the model"),
    Argument("noise", "", "zero or random; empty: zero (deterministic, the deployment default)"),
    Argument("seed", "0", "Seed of random noise (policy) and of episode resets (sim)"),
    Argument("control_rate_hz", "0", "0: act on every observation; > 0: act on a timer at this rate"),
    Argument("observation_timeout_s", "", "Watchdog: observations older than this are stale; 0 disables it; empty: "
             "0.5 s, or two control periods when longer"),
    Argument("on_timeout", "zero", "Published while observations are stale (rest: rest_action)", ON_TIMEOUT),
    Argument("rest_action", "", "With on_timeout rest (required then): the robot's rest command (default pose) in the "
             "model's joint order, e.g. rest_action:='[0.0, 0.9, -1.8]' (quoted: the shell splits at spaces)"),
    Argument("max_action_delta", "0", "Largest change of any action component between two actions; 0: no limit"),
    Argument("active", "true", "false: start without acting (set the parameter active to true to begin)", ("true", "false")),
    Argument("observation_reliability", "reliable", "Reliability of the observation topic (best_effort: also for "
             "best-effort sensor publishers)", ("reliable", "best_effort")),
    Argument("action_reliability", "reliable", "Reliability of the action topic (forward_command_controller needs "
             "reliable)", ("reliable", "best_effort")),
    Argument("qos_depth", "1", "History depth of observation and action"),
    Argument("use_sim_time", "false", "The nodes' ROS time from /clock of an external simulator (not with use_sim; "
             "the policy's watchdog stays on the steady clock)", ("true", "false")),
    Argument("observation_topic", "observation", "Topic the policy reads observations from (remap)"),
    Argument("action_topic", "action", "Topic the policy publishes actions to, e.g. /my_controller/commands (remap)"),
    Argument("namespace", "", "Namespace of the nodes"),
    Argument("use_sim", "false", "Also start sim_node wired to the policy", ("true", "false")),
    Argument("sim_mode", "realtime", "sim_node mode; lockstep also turns the policy's watchdog off",
             ("realtime", "lockstep")),
    Argument("env_id", "", "sim_node env id; empty: the env recorded in the model"),
    Argument("episodes", "0", "sim_node stops after this many episodes, and the launch with it; 0: never"),
    Argument("real_time_factor", "1.0", "sim_node realtime mode: simulated seconds per wall-clock second (below 1 the "
             "policy's watchdog is off unless observation_timeout_s is given)"),
)


@dataclass
class NodeDescription:
    """What a ``launch_ros.actions.Node`` needs; ``ends_launch``: its exit shuts the whole launch down."""

    executable: str
    name: str
    namespace: str
    parameters: dict[str, ParamValue]
    remappings: list[tuple[str, str]] = field(default_factory=list)
    package: str = PACKAGE
    output: str = "screen"
    ends_launch: bool = False


def _number(values: Mapping[str, str], name: str, minimum: float, cast: type = float) -> float:
    """Parse launch argument ``name`` with ``cast`` (int or float) and check it is >= ``minimum``."""
    text = values[name].strip()
    try:
        x = cast(text)
    except ValueError:
        kind = "an integer" if cast is int else "a number"
        raise ValueError(f"launch argument {name} must be {kind}, got {text!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"launch argument {name} must be a finite number, got {text}")
    if not x >= minimum:
        raise ValueError(f"launch argument {name} must be >= {minimum}, got {text}")
    return x


def _numbers(values: Mapping[str, str], name: str) -> list[float]:
    """Launch argument ``name`` as a list of finite floats: ``[0.0, 0.9]`` or ``0.0, 0.9`` (integers too)."""
    text = values[name].strip()
    try:
        numbers = [float(x) for x in text.removeprefix("[").removesuffix("]").split(",")]
    except ValueError:
        raise ValueError(f"launch argument {name} must be a list of numbers such as [0.0, 0.9], got {text!r}") from None
    if not all(map(math.isfinite, numbers)):
        raise ValueError(f"launch argument {name} must hold finite numbers, got {text}")
    return numbers


def _choice(values: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    text = values[name].strip()
    if text not in choices:
        raise ValueError(f"launch argument {name} must be one of {', '.join(choices)}, got {text!r}")
    return text


def resolve(overrides: Mapping[str, str]) -> dict[str, str]:
    """Defaults of ``ARGUMENTS`` updated with ``overrides``; an unknown name raises ``ValueError``."""
    known = {a.name: a.default for a in ARGUMENTS}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise ValueError(f"unknown launch argument(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return {**known, **overrides}


def describe(overrides: Mapping[str, str]) -> list[NodeDescription]:
    """The policy node (and the sim node with ``use_sim:=true``) for these launch argument values."""
    v = resolve(overrides)
    model_path = v["model_path"].strip()
    if not model_path:
        raise ValueError("launch argument model_path is required: model_path:=/path/to/policy.onnx")
    reliabilities = {f"{topic}_reliability": _choice(v, f"{topic}_reliability", ("reliable", "best_effort"))
                     for topic in ("observation", "action")}
    _choice(v, "on_timeout", ON_TIMEOUT)
    shared = {**reliabilities, "qos_depth": _number(v, "qos_depth", 1, int),
              "use_sim_time": BOOLS[_choice(v, "use_sim_time", tuple(BOOLS))]}
    policy: dict[str, ParamValue] = {
        "model_path": model_path,
        "seed": _number(v, "seed", 0, int),
        "control_rate_hz": _number(v, "control_rate_hz", 0.0),
        "on_timeout": v["on_timeout"].strip(),
        "max_action_delta": _number(v, "max_action_delta", 0.0),
        "active": BOOLS[_choice(v, "active", tuple(BOOLS))],
        **shared,
    }
    if bool(v["rest_action"].strip()) != (policy["on_timeout"] == "rest"):
        raise ValueError("launch arguments on_timeout:=rest and rest_action go together: with on_timeout rest, "
                         "rest_action:='[0.0, 0.9, -1.8]' (the rest command, one number per joint); else no rest_action")
    if policy["on_timeout"] == "rest":
        policy["rest_action"] = _numbers(v, "rest_action")
    if v["observation_timeout_s"].strip():
        policy["observation_timeout_s"] = _number(v, "observation_timeout_s", 0.0)
    if v["num_steps"].strip():
        policy["num_steps"] = _number(v, "num_steps", 1, int)
    if v["integrator"].strip():
        policy["integrator"] = _choice(v, "integrator", INTEGRATORS)
    if v["noise"].strip():
        policy["noise"] = _choice(v, "noise", NOISES)
    remap = [("observation", v["observation_topic"].strip()), ("action", v["action_topic"].strip())]
    for src, dst in remap:
        if not dst:
            raise ValueError(f"launch argument {src}_topic must not be empty")
    namespace = v["namespace"].strip()
    nodes = [NodeDescription("policy_node", "fpo_policy", namespace, policy, remap)]
    if BOOLS[_choice(v, "use_sim", tuple(BOOLS))]:
        if shared["use_sim_time"]:
            raise ValueError("use_sim_time:=true needs a /clock publisher, and sim_node runs on wall time without one "
                             "(its timers would never fire): leave use_sim_time false with use_sim:=true")
        mode = _choice(v, "sim_mode", ("realtime", "lockstep"))
        if mode == "lockstep":
            if policy["control_rate_hz"] > 0:
                raise ValueError("sim_mode lockstep steps once per action, but control_rate_hz > 0 acts on a timer, more "
                                 "than once per observation: leave control_rate_hz at 0 or use sim_mode realtime")
            policy["observation_timeout_s"] = 0.0  # a lockstep sim waits for actions: a watchdog action would step it
        rtf = _number(v, "real_time_factor", 0.01)
        if mode == "realtime" and rtf < 1.0 and "observation_timeout_s" not in policy:
            # slow motion: observations come 1/rtf control periods apart in wall time, and the watchdog's zero actions
            # would replace the policy's before each physics step
            policy["observation_timeout_s"] = 0.0
        sim: dict[str, ParamValue] = {
            "model_path": model_path,
            "env_id": v["env_id"].strip(),
            "mode": mode,
            "seed": policy["seed"],
            "episodes": _number(v, "episodes", 0, int),
            "real_time_factor": rtf,
            **shared,
        }
        nodes.append(NodeDescription("sim_node", "fpo_sim", namespace, sim, list(remap), ends_launch=sim["episodes"] > 0))
    return nodes
