"""``fpo_sim``: a gymnasium MuJoCo env as a robot (action in; observation, joint_states, episode_stats out).

Modes:
- ``realtime``: physics advances every ``dt / real_time_factor`` seconds holding the last action,
  like hardware; observations flow from the start, physics starts with the first action.
- ``lockstep``: one env step per action, deterministic. Handshake: the current observation is
  re-published every ``HANDSHAKE_PERIOD_S`` until an action arrives; actions are then ignored for
  ``SETTLE_S`` (answers to the repeats), the observation is published once more, and from then on
  every action answers exactly one observation. With no action for ``STALL_S`` the handshake
  starts again (the policy node restarted, or a message was lost on a best_effort topic).

Episode i resets with seed ``seed + i``, like ``fpo_core.evaluate.run_episodes``.
"""

from __future__ import annotations

import time
from typing import Optional, Sequence

import numpy as np
from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
from rclpy.duration import Duration
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import JointState
from std_msgs.msg import Float64MultiArray

from fpo_core.envs import CheckedEnv, EnvSpec
from fpo_core.runtime import FlowPolicy
from fpo_ros.common import (FpoNode, StartupError, check_choice, check_overrides, choice_descriptor, declare_number,
                            declare_qos, main as run_main)

NAME = "fpo_sim"
MODES = ("realtime", "lockstep")
HANDSHAKE_PERIOD_S = 0.1
SETTLE_S = 0.3
STALL_S = 2.0
LINGER_S = 1.0
ACK_TIMEOUT_S = 5.0
"""After the last episode: time for the last messages to reach (and be acknowledged by) subscribers."""
STATS_QOS = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE, durability=DurabilityPolicy.TRANSIENT_LOCAL)


class SimNode(FpoNode):
    """A simulated robot; sets ``finished`` after ``episodes`` episodes (0: never)."""

    def __init__(self) -> None:
        super().__init__(NAME)
        env_id = self.declare_parameter("env_id", "", ParameterDescriptor(
            description="gymnasium env id; empty: the env recorded in model_path's metadata", read_only=True)).value
        model_path = self.declare_parameter("model_path", "", ParameterDescriptor(
            description="Exported policy whose env id is used when env_id is empty", read_only=True)).value
        self.mode = self.declare_parameter("mode", "realtime", choice_descriptor(
            "realtime (hold the last action, fixed rate) or lockstep (one step per action)", MODES, read_only=True)).value
        rtf = declare_number(self, "real_time_factor", 1.0, "realtime mode: simulated seconds per wall-clock second",
                             0.01, 100.0)
        self.seed = self.declare_parameter("seed", 0, ParameterDescriptor(
            description="Episode i is reset with seed + i (as `fpo eval`)", read_only=True,
            integer_range=[IntegerRange(from_value=0, to_value=2**31 - 1, step=1)])).value
        self.episodes = self.declare_parameter("episodes", 0, ParameterDescriptor(
            description="Stop after this many episodes; 0 runs forever", read_only=True,
            integer_range=[IntegerRange(from_value=0, to_value=2**31 - 1, step=1)])).value
        qos = declare_qos(self)
        check_overrides(self)  # after the last declaration
        check_choice("mode", self.mode, MODES)
        if not env_id:
            if not model_path:
                raise StartupError("set env_id (e.g. -p env_id:=InvertedPendulum-v5) or model_path (its env id is used)")
            env_id = FlowPolicy.load(model_path).contract.env_id
        self.env = CheckedEnv.make(env_id)  # actions in the env's dtype and box, as in training
        self.spec = EnvSpec.of(self.env, env_id)
        self.joints = joint_addresses(getattr(self.env.unwrapped, "model", None), self.spec.joint_names)

        self.obs_pub = self.create_publisher(Float64MultiArray, "observation", qos["observation"])
        self.joint_pub = self.create_publisher(JointState, "joint_states", qos["observation"])
        self.stats_pub = self.create_publisher(Float64MultiArray, "episode_stats", STATS_QOS)
        self.create_subscription(Float64MultiArray, "action", self._on_action, qos["action"])
        self.episode, self.ep_return, self.ep_length = 0, 0.0, 0
        self.action: Optional[np.ndarray] = None
        self.rejected = 0
        self.done_at: Optional[float] = None
        self.obs = self._reset()
        self.state = "handshake"
        self.state_since = time.monotonic()
        self.last_action_time = time.monotonic()
        if self.mode == "lockstep":
            self.create_timer(HANDSHAKE_PERIOD_S, self._on_lockstep_timer)
        else:
            self.create_timer(self.spec.dt / rtf, self._on_realtime_tick)
        self._publish_observation()
        self.get_logger().info(f"{env_id} in {self.mode} mode (dt {self.spec.dt:g} s), seed {self.seed}, "
                               f"{self.episodes or 'unlimited'} episodes")

    def _reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=self.seed + self.episode)
        self.ep_return, self.ep_length = 0.0, 0
        return obs

    def _on_action(self, msg: Float64MultiArray) -> None:
        action = np.asarray(msg.data, dtype=np.float64)
        if action.shape != (self.spec.act_dim,) or not np.isfinite(action).all():
            self.rejected += 1
            self.get_logger().warning(f"rejected an action with {action.size} values (expected {self.spec.act_dim}, finite); "
                                      f"{self.rejected} rejected so far", throttle_duration_sec=1.0)
            return
        self.action = action
        self.last_action_time = time.monotonic()
        if self.mode != "lockstep" or self.done_at is not None:
            return
        if self.state == "handshake":
            self.state, self.state_since = "settle", time.monotonic()
        elif self.state == "running":
            self._step()

    def _on_lockstep_timer(self) -> None:
        now = time.monotonic()
        if self._linger_over(now):
            return
        if self.state == "handshake":
            self._publish_observation()
        elif self.state == "settle" and now - self.state_since >= SETTLE_S:
            self.state = "running"
            self._publish_observation()
        elif self.state == "running" and now - self.last_action_time > STALL_S:
            self.get_logger().warning(f"no action for {STALL_S:g} s; repeating the observation until the policy answers")
            self.state = "handshake"

    def _on_realtime_tick(self) -> None:
        if self._linger_over(time.monotonic()):
            return
        if self.action is not None:
            self._step()
        else:
            self._publish_observation()

    def _linger_over(self, now: float) -> bool:
        """True once the last episode is done (and ``finished`` after ``LINGER_S``)."""
        if self.done_at is None:
            return False
        if now - self.done_at >= LINGER_S:
            self.stats_pub.wait_for_all_acked(Duration(seconds=ACK_TIMEOUT_S))
            self.finished = True
        return True

    def _step(self) -> None:
        obs, reward, terminated, truncated, _ = self.env.step(self.action)
        self.ep_return += float(reward)
        self.ep_length += 1
        if terminated or truncated:
            self.stats_pub.publish(Float64MultiArray(data=[float(self.episode), self.ep_return, float(self.ep_length)]))
            self.get_logger().info(f"episode {self.episode}: return {self.ep_return:.2f}, length {self.ep_length}")
            self.episode += 1
            if self.episodes and self.episode >= self.episodes:
                self.done_at = time.monotonic()
                return
            obs = self._reset()
        self.obs = obs
        self._publish_observation()

    def _publish_observation(self) -> None:
        self.obs_pub.publish(Float64MultiArray(data=np.asarray(self.obs, dtype=np.float64).tolist()))
        js = JointState(name=[name for name, _, _ in self.joints] if self.joints else list(self.spec.joint_names))
        js.header.stamp = self.get_clock().now().to_msg()
        if self.joints:
            js.position, js.velocity, js.effort = joint_readings(self.env.unwrapped.data, self.joints)
        self.joint_pub.publish(js)

    def destroy_node(self) -> None:
        self.env.close()
        super().destroy_node()


def joint_addresses(model, names: Sequence[str]) -> list[tuple[str, int, int]]:
    """(name, qpos, dof) of each named joint of a MuJoCo model; names that are no joint (an actuator on a tendon
    or a site: ``joint_<i>``) are left out, and a model that is not MuJoCo's gives none."""
    found = []
    for n in names:
        try:
            joint = model.joint(n)
        except (AttributeError, KeyError, TypeError):
            continue
        found.append((n, int(joint.qposadr[0]), int(joint.dofadr[0])))
    return found


def joint_readings(data, joints: list[tuple[str, int, int]]) -> tuple[list[float], list[float], list[float]]:
    """Position, velocity and effort of each joint. The effort is what the actuators apply at the joint
    (``qfrc_actuator``: gear × actuator force), as a JointState means it, not the actuator's own force."""
    return ([float(data.qpos[q]) for _, q, _ in joints], [float(data.qvel[v]) for _, _, v in joints],
            [float(data.qfrc_actuator[v]) for _, _, v in joints])


def main(args: Optional[list[str]] = None) -> int:
    """Entry point of ``sim_node``."""
    return run_main(SimNode, NAME, args)


if __name__ == "__main__":
    raise SystemExit(main())
