"""``fpo_policy``: an exported flow policy behind ROS topics (observation in, action out).

Thin by design: parameters, QoS, a watchdog and diagnostics around ``FlowPolicy.act``; all
inference lives in ``fpo_core.runtime``.
"""

from __future__ import annotations

import math
import time
from array import array
from collections import deque
from typing import Optional

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import IntegerRange, ParameterDescriptor, SetParametersResult
from rclpy.clock import Clock, ClockType
from rclpy.duration import Duration
from rclpy.parameter import Parameter
from std_msgs.msg import Float64MultiArray

from fpo_core.contract import CONTROL_PERIOD_S, MAX_NUM_STEPS, NOISES
from fpo_core.errors import InvalidInputError
from fpo_core.integrators import INTEGRATORS
from fpo_core.runtime import FlowPolicy
from fpo_ros.common import (FpoNode, StartupError, check_choice, check_overrides, choice_descriptor, declare_number,
                            declare_qos, number)
from fpo_ros.common import main as run_main
from fpo_ros.launch_config import ON_TIMEOUT

NAME = "fpo_policy"
TO_REST = ("zero", "rest")
"""The on_timeout choices that publish ``rest`` (the zero action, or rest_action): also once on shutdown, and where a
rate-limited start ramps in from."""
LIVE = ("num_steps", "integrator", "noise", "seed", "max_action_delta", "active")
"""Parameters that may change while the node runs (applied to the next action)."""
DEFAULT_TIMEOUT_S = 0.5
"""The watchdog's timeout unless two control periods are longer (a slower policy's observations are not late)."""
LATENCY_WINDOW = 1000
WARN_EVERY_S = 1.0
EXIT_ACK_S = 0.5
"""How long the last, safe command on shutdown waits for reliable subscribers to acknowledge it."""


class PolicyNode(FpoNode):
    """Acts on every observation (or on a timer), with a watchdog for stale observations."""

    def __init__(self) -> None:
        super().__init__(NAME)
        model_path = self.declare_parameter("model_path", "", ParameterDescriptor(
            description="Exported policy (.onnx written by `fpo export`); required", read_only=True)).value
        if not model_path:
            raise StartupError("parameter model_path is required: --ros-args -p model_path:=/path/to/policy.onnx")
        self.policy = FlowPolicy.load(model_path)
        c = self.policy.contract
        self.low, self.high = np.asarray(c.action_low), np.asarray(c.action_high)
        self.num_steps = self.declare_parameter("num_steps", c.num_steps, ParameterDescriptor(
            description=f"Integration steps K per action (trained with {c.num_steps}); changeable while running",
            integer_range=[IntegerRange(from_value=1, to_value=MAX_NUM_STEPS, step=1)])).value
        self.integrator = self.declare_parameter("integrator", c.integrator, choice_descriptor(
            "ODE integrator for the flow; changeable while running", INTEGRATORS)).value
        self.noise = self.declare_parameter("noise", "zero", choice_descriptor(
            "Initial noise: zero (deterministic) or random (seeded by `seed`); changeable while running", NOISES)).value
        self.seed = self.declare_parameter("seed", 0, ParameterDescriptor(
            description="Seed of the random initial noise; setting it reseeds (changeable while running)",
            integer_range=[IntegerRange(from_value=0, to_value=2**31 - 1, step=1)])).value
        rate = declare_number(self, "control_rate_hz", 0.0, "0: act on every observation; > 0: act on a timer with the "
                              "latest observation", 0.0, 10_000.0)
        if 0.0 < rate < 1.0 / CONTROL_PERIOD_S[1]:  # a timer period past an hour (1e-12 Hz overflowed rclpy's timer)
            raise StartupError(f"parameter control_rate_hz must be 0 (act on every observation) or at least "
                               f"{1.0 / CONTROL_PERIOD_S[1]:.3g} Hz (one action an hour), got {rate!r}")
        period = 1.0 / rate if rate > 0.0 else c.control_period_s
        self.timeout_s = declare_number(self, "observation_timeout_s", min(max(DEFAULT_TIMEOUT_S, 2.0 * period), 3600.0),
                                        f"Observations older than this are stale and on_timeout applies (default "
                                        f"{DEFAULT_TIMEOUT_S:g} s, or two control periods when longer); 0 disables the "
                                        f"watchdog", 0.0, 3600.0)
        if rate == 0.0 and 0.0 < self.timeout_s < c.control_period_s:  # each observation answered at the trained rate
            raise StartupError(f"parameter observation_timeout_s must be 0 (off) or at least the model's control period "
                               f"{c.control_period_s:g} s, got {self.timeout_s:g}: observations at that rate would turn "
                               f"stale between every two and the on_timeout action would go out between the policy's "
                               f"(twice the period or more rides out one late observation)")
        self.max_action_delta = declare_number(
            self, "max_action_delta", 0.0, "Largest change of any action component from one published action to the "
            "next (0: no limit); with on_timeout zero or rest the first action ramps in from that action; changeable "
            "while running", 0.0, math.inf, read_only=False)
        self.active = self.declare_parameter("active", True, ParameterDescriptor(
            description="false: stop acting and publish the on_timeout action once (pause, software stop); true: act "
                        "again. Changeable while running")).value
        self.on_timeout = self.declare_parameter("on_timeout", "zero", choice_descriptor(
            "Published while observations are stale (every control period), instead of a non-finite action, and once "
            "on shutdown: zero (clipped into the action box), rest (rest_action), hold (the last action) or nothing",
            ON_TIMEOUT, read_only=True)).value
        rest_action = self.declare_parameter("rest_action", None, ParameterDescriptor(
            description="With on_timeout rest: the robot's rest command, one number per action in the model's joint "
                        "order (a position-controlled robot's default pose); inside the action bounds",
            read_only=True, dynamic_typing=True)).value
        qos = declare_qos(self)
        check_overrides(self)  # after the last declaration
        for name, value, choices in (("integrator", self.integrator, INTEGRATORS), ("noise", self.noise, NOISES),
                                     ("on_timeout", self.on_timeout, ON_TIMEOUT)):
            check_choice(name, value, choices)
        self.rest = self._rest(rest_action)
        """on_timeout zero's or rest's action, and where a rate-limited start ramps in from."""
        self.policy.seed(self.seed)
        self.add_on_set_parameters_callback(self._on_set_parameters)

        self.obs: Optional[np.ndarray] = None
        self.obs_time = 0.0
        self.started = time.monotonic()
        self.last_action: Optional[np.ndarray] = None
        self.stale = False
        self.published = self.rejected = self.suppressed = self.limited = 0
        self.rejected_reported = self.suppressed_reported = 0
        self.rejection = ""
        """Why the last observation was rejected."""
        self.latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self.pub = self.create_publisher(Float64MultiArray, "action", qos["action"])
        self.action_msg = Float64MultiArray()
        self.diag_pub = self.create_publisher(DiagnosticArray, "diagnostics", 10)
        self.create_subscription(Float64MultiArray, "observation", self._on_observation, qos["observation"])
        self.timer_mode = rate > 0.0
        self.period = period
        """The control period: an action that takes longer to compute is late."""
        if self.timer_mode:  # on the node's clock: simulated time under use_sim_time, like the robot it drives
            self.create_timer(period, self._on_control_tick)
        # the watchdog and diagnostics on the steady clock: a stopped /clock (a paused or crashed simulator) must not
        # stop them, and their ages are measured on it
        steady = Clock(clock_type=ClockType.STEADY_TIME)
        if self.timeout_s > 0.0:
            self.create_timer(period, self._on_watchdog_tick, clock=steady)
        self.create_timer(1.0, self._publish_diagnostics, clock=steady)
        mode = f"on a {rate:g} Hz timer" if self.timer_mode else "on every observation"
        safe = f"{self.on_timeout} {self.rest.tolist()}" if self.on_timeout == "rest" else self.on_timeout
        watchdog = f"after {self.timeout_s:g} s without observations: {safe}" if self.timeout_s > 0 else "off"
        self.get_logger().info(f"loaded {model_path} ({c.kind} policy for {c.env_id}, obs {c.obs_dim}, act {c.act_dim}); "
                               f"K={self.num_steps} {self.integrator}, noise {self.noise}; acting {mode}; watchdog {watchdog}; "
                               f"action order (the controller's joints): {', '.join(c.joint_names)}")

    def _rest(self, value: object) -> np.ndarray:
        """The zero action clipped into the box, or with on_timeout rest the checked ``rest_action``."""
        c = self.policy.contract
        if self.on_timeout != "rest":
            if value is not None:
                raise StartupError(f"parameter rest_action is used only with on_timeout rest (now {self.on_timeout}): "
                                   f"add -p on_timeout:=rest, or drop rest_action")
            return np.clip(np.zeros_like(self.low), self.low, self.high)
        example = f"-p 'rest_action:=[{', '.join(['0.0'] * c.act_dim)}]'"  # quoted: the shell splits it at its spaces
        if value is None:
            raise StartupError(f"on_timeout rest needs parameter rest_action: the robot's rest command (a position-"
                               f"controlled robot's default pose), {c.act_dim} numbers in the model's joint order "
                               f"({', '.join(c.joint_names)}), e.g. {example}")
        values = [number(v, -math.inf, math.inf) for v in value] if isinstance(value, (list, tuple, array)) else [None]
        if len(values) != c.act_dim or None in values:
            shown = list(value) if isinstance(value, array) else value  # rclpy's arrays print as array('d', [...])
            raise StartupError(f"parameter rest_action must be a list of {c.act_dim} finite number"
                               f"{'s' * (c.act_dim > 1)} (the model's joints: {', '.join(c.joint_names)}), e.g. "
                               f"{example}; got {shown!r}")
        rest = np.asarray(values)
        outside = [f"{name} {v:g} not in [{lo:g}, {hi:g}]" for name, v, lo, hi in zip(c.joint_names, rest, self.low, self.high)
                   if not lo <= v <= hi]
        if outside:
            raise StartupError(f"parameter rest_action must lie inside the action bounds: {'; '.join(outside)}")
        return rest

    def _on_set_parameters(self, params: list[Parameter]) -> SetParametersResult:
        """Validate live changes as a whole; a rejected change keeps every old value."""
        new = {name: getattr(self, name) for name in LIVE}
        for p in params:
            if p.name in new:
                new[p.name] = p.value
        if new["integrator"] not in INTEGRATORS:
            return SetParametersResult(successful=False, reason=f"integrator must be one of {', '.join(INTEGRATORS)}, "
                                                                f"got {new['integrator']!r}")
        if new["noise"] not in NOISES:
            return SetParametersResult(successful=False, reason=f"noise must be one of {', '.join(NOISES)}, got {new['noise']!r}")
        if isinstance(new["num_steps"], bool) or not isinstance(new["num_steps"], int) or new["num_steps"] < 1:
            return SetParametersResult(successful=False, reason=f"num_steps must be an integer >= 1, got {new['num_steps']!r}")
        delta = number(new["max_action_delta"], 0.0, math.inf)
        if delta is None:
            return SetParametersResult(successful=False, reason=f"max_action_delta must be a number >= 0 (0: no limit), "
                                                                f"got {new['max_action_delta']!r}")
        new["max_action_delta"] = delta
        if not isinstance(new["active"], bool):
            return SetParametersResult(successful=False, reason=f"active must be true or false, got {new['active']!r}")
        if any(p.name == "seed" for p in params):  # setting the seed reseeds, also to its current value
            self.policy.seed(new["seed"])
        changed = [f"{k} {getattr(self, k)!r} -> {v!r}" for k, v in new.items() if getattr(self, k) != v]
        stopping = self.active and not new["active"]
        if (new["num_steps"], new["integrator"]) != (self.num_steps, self.integrator):
            self.latencies.clear()  # the latency statistics describe the sampler now in use
        for name, value in new.items():
            setattr(self, name, value)
        if stopping:
            self._publish_safe()
            self.get_logger().warning(f"deactivated: published on_timeout={self.on_timeout} once and stopped acting; "
                                      f"set active to true to resume")
        if changed:
            self.get_logger().info("applied from the next action: " + ", ".join(changed))
        return SetParametersResult(successful=True)

    def _on_observation(self, msg: Float64MultiArray) -> None:
        try:  # the policy's own check, before the watchdog counts the observation as fresh
            obs = self.policy.observation(msg.data)[0]
        except InvalidInputError as e:
            self.rejected += 1
            self.rejection = str(e)
            self.get_logger().warning(f"rejected an observation ({e}); {self.rejected} rejected so far",
                                      throttle_duration_sec=WARN_EVERY_S)
            return
        self.obs, self.obs_time = obs, time.monotonic()
        if self.stale:
            self.stale = False
            self.get_logger().info("observations resumed")
        if not self.timer_mode:
            self._act()

    def _is_stale(self) -> bool:
        return self.timeout_s > 0.0 and time.monotonic() - self.obs_time > self.timeout_s

    def _on_control_tick(self) -> None:
        """Timer mode: act on the latest observation unless it is stale (the watchdog's case)."""
        if self.obs is not None and not self._is_stale():
            self._act()

    def _on_watchdog_tick(self) -> None:
        """While the latest observation is stale, publish the on_timeout action every control period."""
        if self.obs is None or not self.active or not self._is_stale():
            return
        if not self.stale:
            self.stale = True
            self.get_logger().warning(f"no observation for {time.monotonic() - self.obs_time:.3f} s "
                                      f"(timeout {self.timeout_s:g} s): on_timeout={self.on_timeout}")
        self._publish_safe()

    def _act(self) -> None:
        if not self.active:
            return
        try:
            action = self.policy.act(self.obs, num_steps=self.num_steps, integrator=self.integrator, noise=self.noise)
        except InvalidInputError as e:
            self.rejected += 1
            self.get_logger().warning(f"policy refused the observation: {e}", throttle_duration_sec=WARN_EVERY_S)
            return
        self.latencies.append(self.policy.last_latency_s)
        if self.policy.last_latency_s > self.period:
            self.get_logger().warning(
                f"inference took {1e3 * self.policy.last_latency_s:.1f} ms, longer than the control period "
                f"{1e3 * self.period:g} ms: {self._speedup_hint()}", throttle_duration_sec=WARN_EVERY_S)
        action = np.clip(action, self.low, self.high)
        if not np.isfinite(action).all():
            self.suppressed += 1
            self.get_logger().error(f"the policy returned a non-finite action; published on_timeout={self.on_timeout} "
                                    f"instead ({self.suppressed} so far)", throttle_duration_sec=WARN_EVERY_S)
            self._publish_safe()
            return
        self._publish(self._rate_limited(action))

    def _speedup_hint(self) -> str:
        if self.policy.contract.kind == "flow":
            return f"lower num_steps (now {self.num_steps}) or choose a cheaper integrator than {self.integrator}"
        return "a Gaussian policy's cost is fixed: run it on a faster machine or lower the control rate"

    def _rate_limited(self, action: np.ndarray) -> np.ndarray:
        """``action`` moved at most ``max_action_delta`` per component from the last published one (or, before any,
        from ``rest`` when on_timeout is zero or rest: torque and velocity commands ramp in from zero, position commands
        from rest_action; with hold or nothing there is no such reference and the first action goes out as computed)."""
        ref = self.last_action if self.last_action is not None else self.rest if self.on_timeout in TO_REST else None
        if self.max_action_delta <= 0.0 or ref is None:
            return action
        over = np.abs(action - ref) > self.max_action_delta
        if not over.any():
            return action
        self.limited += 1
        return np.where(over, ref + np.sign(action - ref) * self.max_action_delta, action)

    def _publish_safe(self) -> None:
        if self.on_timeout in TO_REST:
            self._publish(self.rest)
        elif self.on_timeout == "hold" and self.last_action is not None:
            self._publish(self.last_action)

    def before_exit(self) -> None:
        """On SIGINT, SIGTERM or an error in a callback, publish the on_timeout action once: a forward command controller
        would otherwise keep applying the policy's last command after the node is gone."""
        if self.published and self.on_timeout in TO_REST:
            self._publish_safe()
            self.pub.wait_for_all_acked(Duration(seconds=EXIT_ACK_S))
            self.get_logger().info(f"shutting down: published the {self.on_timeout} action")

    def _publish(self, action: np.ndarray) -> None:
        self.action_msg.data = array("d", action.tobytes())
        self.pub.publish(self.action_msg)
        self.last_action = action
        self.published += 1

    def _publish_diagnostics(self) -> None:
        lat = np.asarray(self.latencies) * 1e6
        p50, p99 = (np.percentile(lat, [50, 99]) if lat.size else (float("nan"),) * 2)
        age = time.monotonic() - self.obs_time if self.obs is not None else float("nan")
        waited = time.monotonic() - self.started
        if self.obs is None and self.rejected and waited > self.timeout_s:
            level, message = DiagnosticStatus.WARN, (f"no valid observation in {waited:.0f} s: rejected {self.rejected}, "
                                                     f"the last because {self.rejection}")
            self.get_logger().warning(message, throttle_duration_sec=10.0)
        elif self.obs is None and self.timeout_s > 0.0 and waited > self.timeout_s:
            level, message = DiagnosticStatus.WARN, (f"no observation in {waited:.0f} s: is the observation topic remapped "
                                                     f"to the robot's topic, with a compatible QoS?")
            self.get_logger().warning(message, throttle_duration_sec=10.0)
        elif self.obs is None:
            level, message = DiagnosticStatus.OK, "waiting for the first observation"
        elif self.suppressed > self.suppressed_reported:  # before stale: the worse news, and reported only once
            level, message = DiagnosticStatus.ERROR, (f"{self.suppressed - self.suppressed_reported} non-finite actions "
                                                      f"replaced by on_timeout={self.on_timeout}")
        elif self.rejected > self.rejected_reported:  # with the reason, also while that makes the observations stale
            stale = f"; observations stale: on_timeout={self.on_timeout}" if self.stale and self.active else ""
            level, message = DiagnosticStatus.WARN, (f"rejected {self.rejected - self.rejected_reported} observations, the "
                                                     f"last because {self.rejection}{stale}")
        elif self.stale and self.active:
            level, message = DiagnosticStatus.WARN, f"observations stale; on_timeout={self.on_timeout}"
        elif not self.active:
            level, message = DiagnosticStatus.OK, "inactive (parameter active is false): not acting"
        elif lat.size and p99 > 1e6 * self.period:
            level, message = DiagnosticStatus.WARN, (f"inference p99 {p99 / 1e3:.1f} ms exceeds the control period "
                                                     f"{1e3 * self.period:g} ms: {self._speedup_hint()}")
        else:
            level, message = DiagnosticStatus.OK, "acting"
        self.rejected_reported, self.suppressed_reported = self.rejected, self.suppressed
        values = {"active": self.active, "num_steps": self.num_steps, "integrator": self.integrator, "noise": self.noise,
                  "latency_p50_us": f"{p50:.1f}", "latency_p99_us": f"{p99:.1f}", "observation_age_s": f"{age:.4f}",
                  "actions_published": self.published, "observations_rejected": self.rejected,
                  "actions_suppressed": self.suppressed, "actions_rate_limited": self.limited}
        status = DiagnosticStatus(level=level, name=f"{self.get_fully_qualified_name()}: policy", message=message,
                                  hardware_id=str(self.policy.path),
                                  values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.diag_pub.publish(msg)


def main(args: Optional[list[str]] = None) -> int:
    """Entry point of ``policy_node``."""
    return run_main(PolicyNode, NAME, args)


if __name__ == "__main__":
    raise SystemExit(main())
