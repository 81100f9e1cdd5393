"""sim_node + policy_node over DDS: lockstep reproduces `fpo eval` (same model, seed, K, noise); realtime runs."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest

from tests.ros.procs import ROS_MISSING, STARTUP_S

pytest.importorskip("rclpy", reason=ROS_MISSING)

from sensor_msgs.msg import JointState  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.evaluate import run_episodes  # noqa: E402
from fpo_core.runtime import FlowPolicy  # noqa: E402
from fpo_ros.sim_node import STATS_QOS  # noqa: E402

EPISODES, SEED, STEPS, INTEGRATOR = 3, 7, 4, "midpoint"


def test_closed_loop_matches_fpo_eval(policy_file, start_node, ros):
    policy = FlowPolicy.load(policy_file)
    expected = run_episodes(policy.contract.env_id, partial(policy.act, num_steps=STEPS, integrator=INTEGRATOR, noise="zero"),
                            EPISODES, SEED)

    stats = ros.collect(Float64MultiArray, "episode_stats", STATS_QOS)
    sim = start_node("sim_node", model_path=policy_file, mode="lockstep", episodes=EPISODES, seed=SEED)
    # The sim repeats its first observation until a policy answers; the policy comes once we can hear the sim.
    ros.wait_for(lambda: ros.node.count_publishers("episode_stats") > 0, STARTUP_S, "discovery of the sim", proc=sim)
    start_node("policy_node", model_path=policy_file, num_steps=STEPS, integrator=INTEGRATOR, noise="zero",
               observation_timeout_s=0.0)
    budget = STARTUP_S + 0.05 * expected.sum() + 10.0
    ros.wait_for(lambda: len(stats) >= EPISODES, budget, lambda: f"{EPISODES} episode_stats messages (got {len(stats)})", proc=sim)
    assert sim.wait(STARTUP_S) == 0, sim.output()

    got = np.array([list(m.data) for m in stats])
    assert got[:, 0].tolist() == list(range(EPISODES)), f"episode indices {got[:, 0]}"
    returns = got[:, 1]
    assert abs(returns.mean() - expected.mean()) <= 0.01 * abs(expected.mean()), (
        f"ROS closed loop {returns} vs fpo eval {expected}\nsim output:\n{sim.output()}")


def test_realtime_sim_runs_episodes_and_publishes_joint_states(policy_file, start_node, ros):
    names = FlowPolicy.load(policy_file).contract.joint_names
    stats = ros.collect(Float64MultiArray, "episode_stats", STATS_QOS)
    joints = ros.collect(JointState, "joint_states")
    start_node("policy_node", model_path=policy_file, noise="zero")
    sim = start_node("sim_node", model_path=policy_file, mode="realtime", real_time_factor=4)  # an integer, as -p ...:=4 sends
    ros.wait_for(lambda: len(stats) >= 1 and len(joints) > 0, STARTUP_S + 60.0, "an episode and joint_states in realtime mode",
                 proc=sim)
    index, ret, length = stats[0].data
    assert index == 0 and length >= 1 and np.isfinite(ret)
    assert list(joints[-1].name) == names and len(joints[-1].position) == len(names)


def test_joint_effort_is_the_force_at_the_joint():
    """JointState.effort is gear × actuator force (HalfCheetah's gears 120, 90, 60, 120, 60, 30), not the actuator's force."""
    import mujoco

    from fpo_core.envs import EnvSpec, make_env
    from fpo_ros.sim_node import joint_addresses, joint_readings

    env = make_env("HalfCheetah-v5")
    env.reset(seed=0)
    model, data = env.unwrapped.model, env.unwrapped.data
    joints = joint_addresses(model, EnvSpec.of(env, "HalfCheetah-v5").joint_names)
    data.ctrl[:] = 0.5
    mujoco.mj_forward(model, data)
    _, _, effort = joint_readings(data, joints)
    np.testing.assert_allclose(effort, 0.5 * model.actuator_gear[:, 0])
    assert len(set(effort)) > 1
    env.close()


STRICT_ENV = '''
import gymnasium as gym
import numpy as np


class Strict(gym.Env):  # a float32 box it checks every action against, as gymnasium's LunarLander does
    observation_space = gym.spaces.Box(-1.0, 1.0, (3,))
    action_space = gym.spaces.Box(-0.3, 0.3, (2,))
    dt = 0.02

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(3, np.float32), {}

    def step(self, action):
        assert self.action_space.contains(action), f"{action!r} is not in {self.action_space}"
        return np.zeros(3, np.float32), 1.0, False, False, {}


gym.register("Strict-v0", entry_point=Strict, max_episode_steps=5)
'''


def test_sim_steps_a_users_env_that_checks_its_actions(start_node, ros, ros_env, tmp_path):
    """The sim once handed such an env the float64 action off the topic (no member of a float32 box), or one past the
    box: the env's assertion stopped the robot at its first step. It now fits actions to the env as training does."""
    (tmp_path / "fpo_strict_env.py").write_text(STRICT_ENV)
    ros_env["PYTHONPATH"] = f"{tmp_path}:{ros_env.get('PYTHONPATH', '')}"
    stats = ros.collect(Float64MultiArray, "episode_stats", STATS_QOS)
    sim = start_node("sim_node", env_id="fpo_strict_env:Strict-v0", mode="realtime", episodes=1)
    pub = ros.publisher("action")
    ros.wait_for(lambda: len(stats) >= 1, STARTUP_S, "an episode of the strict env", proc=sim,
                 every=lambda: pub.publish(Float64MultiArray(data=[0.1, 5.0])))  # the second beyond the box
    assert stats[0].data.tolist() == [0.0, 5.0, 5.0]
    assert sim.wait(STARTUP_S) == 0, sim.output()
