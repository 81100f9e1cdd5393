"""fpo_core.envs: the joints an environment's actions drive, and users' own environments by `module:id`."""

import importlib
import logging
from types import SimpleNamespace

import gymnasium as gym
import mujoco
import pytest
from gymnasium.spaces import Box

from fpo_core.checkpoint import load_checkpoint
from fpo_core.cli import main
from fpo_core.envs import EnvSpec, joint_names, make_vec_env
from fpo_core.errors import UsageError
from fpo_core.trainer import Trainer

from .helpers import TINY, tiny_config

USER_ENVS = """
import gymnasium as gym
from gymnasium.envs.classic_control.pendulum import PendulumEnv


class Broken(PendulumEnv):
    def __init__(self, **kwargs):
        raise ValueError("the robot description is missing")


gym.register("UserPendulum-v0", entry_point=PendulumEnv, max_episode_steps=20)
gym.register("UserBroken-v0", entry_point=Broken)


class Plain(gym.Env):  # takes no constructor arguments, not even render_mode
    observation_space = gym.spaces.Box(-1.0, 1.0, (3,))
    action_space = gym.spaces.Box(-1.0, 1.0, (2,))

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action):
        return self.observation_space.sample(), 0.0, False, False, {}


gym.register("UserPlain-v0", entry_point=Plain, max_episode_steps=20)


class Fast(Plain):  # a 20 kHz loop: one step per physics step
    dt = 5e-5


gym.register("UserFast-v0", entry_point=Fast, max_episode_steps=20)


class Strict(Plain):  # asserts each action is in its box, as gymnasium's LunarLander does
    def __init__(self, dtype="float32", bound=1.0):
        self.action_space = gym.spaces.Box(-bound, bound, (2,), dtype=dtype)

    def step(self, action):
        assert self.action_space.contains(action), f"{action!r} is not in {self.action_space}"
        return super().step(action)


gym.register("UserStrict32-v0", entry_point=Strict, max_episode_steps=20)
gym.register("UserStrict64-v0", entry_point=Strict, max_episode_steps=20, kwargs={"dtype": "float64", "bound": 0.3})


class Faulty(Plain):  # its 5th step returns what ``fault`` names
    def __init__(self, fault="nan"):
        self.fault, self.t = fault, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.t += 1
        if self.t == 5:
            obs, reward = {"nan": (obs * float("nan"), reward), "inf": (obs, float("inf")), "shape": (obs[:2], reward)}[self.fault]
        return obs, reward, terminated, truncated, info


for fault in ("nan", "inf", "shape"):
    gym.register(f"UserFaulty-{fault}-v0", entry_point=Faulty, max_episode_steps=20, kwargs={"fault": fault})


class Flaky(Plain):  # its step number ``fail_at`` (counted over all instances) raises, as a lost connection would
    steps, fail_at = 0, None

    def step(self, action):
        Flaky.steps += 1
        if Flaky.steps == Flaky.fail_at:
            raise ConnectionError("the motor driver stopped answering")
        return super().step(action)


gym.register("UserFlaky-v0", entry_point=Flaky, max_episode_steps=20)
"""

MODEL = """
<mujoco><worldbody><body><joint name="hinge_a"/><geom size=".1"/><site name="s"/>
  <body pos="0 0 1"><joint name="hinge_b"/><geom size=".1"/></body></body></worldbody>
  <tendon><fixed name="t"><joint joint="hinge_a" coef="1"/></fixed></tendon>
  <actuator><motor tendon="t"/><motor joint="hinge_b"/><motor site="s" gear="1 0 0 0 0 0"/></actuator></mujoco>"""


def test_joint_names_only_name_joints_an_actuator_drives():
    """A tendon or site actuator drives no joint of its own: it must not borrow one's name (the sim would publish it)."""
    model = mujoco.MjModel.from_xml_string(MODEL)
    assert joint_names(SimpleNamespace(model=model), 3) == ["joint_0", "hinge_b", "joint_2"]


def test_the_sim_publishes_the_joints_it_finds():
    """A tendon actuator's ``joint_<i>`` is no joint: the other joints' states are still published."""
    pytest.importorskip("rclpy", reason="fpo_ros.sim_node needs rclpy")
    from fpo_ros.sim_node import joint_addresses, joint_readings

    model = mujoco.MjModel.from_xml_string(MODEL)
    data = mujoco.MjData(model)
    data.ctrl[:] = 0.5
    mujoco.mj_forward(model, data)
    joints = joint_addresses(model, joint_names(SimpleNamespace(model=model), 3))
    assert [name for name, _, _ in joints] == ["hinge_b"]
    assert joint_readings(data, joints)[2] == [0.5]


def test_a_users_own_environment_by_module_and_id(tmp_path, monkeypatch, capsys):
    """README: `--env-id my_module:MyTask-v0` imports the module that registers the task; the id is recorded, so
    export and eval of the exported model find the task the same way. A task whose own code fails is named with where
    it failed, in one line."""
    (tmp_path / "fpo_user_envs.py").write_text(USER_ENVS)
    monkeypatch.syspath_prepend(str(tmp_path))
    run, onnx = tmp_path / "run", tmp_path / "user.onnx"
    assert main(["train", "--env-id", "fpo_user_envs:UserPendulum-v0", *TINY, "--run-dir", str(run)]) == 0
    assert main(["export", str(run), "-o", str(onnx)]) == 0
    assert "policy for fpo_user_envs:UserPendulum-v0" in capsys.readouterr().out
    assert main(["eval", str(onnx), "--episodes", "1"]) == 0
    assert "return over 1 episodes" in capsys.readouterr().out
    assert main(["train", "--env-id", "fpo_user_envs:UserBroken-v0", *TINY, "--run-dir", str(tmp_path / "broken")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "ValueError: the robot description is missing" in err, err
    assert f"{tmp_path / 'fpo_user_envs.py'}:8" in err, err


class Task(gym.Env):
    """A user's task with the spaces a test gives it."""

    def __init__(self, observation_space: gym.Space, action_space: gym.Space):
        self.observation_space, self.action_space = observation_space, action_space


def test_a_multidimensional_action_space_is_refused_with_the_wrapper_that_flattens_it():
    """A (2, 3) box once trained until its first step, where a (2,)-sized box squashed the actions: a tensor error."""
    env = Task(Box(-1, 1, (3,)), Box(-1, 1, (2, 3)))
    with pytest.raises(UsageError, match=r"shape \(2, 3\); fpo needs a flat one.*TransformAction"):
        EnvSpec.of(env, "user:Grid-v0")


@pytest.mark.parametrize("obs,act,needle", [(0, 2, "an empty observation space"), (3, 0, "an empty action space"),
                                            (0, 0, "an empty observation and an empty action space")])
def test_an_empty_space_is_refused(obs, act, needle):
    """A (0,) box once crashed in the observation normaliser's first update (a reshape of 0 elements)."""
    with pytest.raises(UsageError, match=needle):
        EnvSpec.of(Task(Box(-1, 1, (obs,)), Box(-1, 1, (act,))), "user:Blind-v0")


@pytest.mark.parametrize("space", [Box(-1, 1, (4, 1)), gym.spaces.Dict({"pos": Box(-1, 1, (2,)), "vel": Box(-1, 1, (1,))})])
def test_an_observation_space_that_is_not_flat_names_the_wrapper_that_flattens_it(space):
    """The advice once said only "flatten it with a wrapper"; FlattenObservation takes a Dict and a (4, 1) box alike."""
    with pytest.raises(UsageError, match=r"flat Box observation space.*gymnasium\.wrappers\.FlattenObservation\(env\)"):
        EnvSpec.of(Task(space, Box(-1, 1, (2,))), "user:Arm-v0")
    EnvSpec.of(gym.wrappers.FlattenObservation(Task(space, Box(-1, 1, (2,)))), "user:Arm-v0")  # the advice works


@pytest.fixture
def user_envs(tmp_path, monkeypatch) -> str:
    """The module of USER_ENVS, importable as ``fpo_user_envs``."""
    (tmp_path / "fpo_user_envs.py").write_text(USER_ENVS)
    monkeypatch.syspath_prepend(str(tmp_path))
    return "fpo_user_envs"


def test_an_env_whose_constructor_takes_no_render_mode_is_evaluated(user_envs, tmp_path):
    """Episodes once made their env with ``render_mode=None``, which such an env refuses: a train with the default
    --eval-episodes stopped before its first update, and `fpo eval` could not run it at all."""
    run = tmp_path / "run"
    assert main(["train", "--env-id", f"{user_envs}:UserPlain-v0", *TINY, "--eval-episodes", "1", "--run-dir", str(run)]) == 0
    assert main(["eval", str(run), "--episodes", "1"]) == 0


def test_actions_fit_the_dtype_and_box_of_an_env_that_checks_them(user_envs, tmp_path):
    """A saturated float32 squash gave 0.3f > 0.3 to a float64 box in training, and evaluation gave float64 actions to
    a float32 box: an env asserting ``action_space.contains(action)`` failed on both."""
    run = tmp_path / "run"
    wide = ["--algo", "gaussian", "--init-log-std", "5"]  # nearly every action saturates at a bound
    assert main(["train", "--env-id", f"{user_envs}:UserStrict64-v0", *wide, *TINY, "--run-dir", str(run)]) == 0
    assert main(["eval", str(run), "--env-id", f"{user_envs}:UserStrict32-v0", "--episodes", "1"]) == 0


@pytest.mark.parametrize("fault,needle", [
    ("nan", "step() returned an observation holding NaN or inf"),
    ("inf", "step() returned a reward holding NaN or inf"),
    ("shape", "step() returned an observation of shape (2,), but its observation space is Box(-1.0, 1.0, (3,), float32)"),
])
def test_observations_and_rewards_fpo_cannot_use_are_named(user_envs, tmp_path, capsys, fault, needle):
    """A NaN once stopped training as "diverged" (blaming the learning rate), and a wrong shape with numpy's "Output array
    is the wrong shape" from inside the vector env."""
    env_id = f"{user_envs}:UserFaulty-{fault}-v0"
    assert main(["train", "--env-id", env_id, *TINY, "--run-dir", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"{env_id}'s {needle}" in err, err


def test_an_evaluation_in_an_env_returning_an_infinite_reward_is_refused(user_envs, tmp_path, capsys):
    """It once printed "return over 1 episodes: inf ± nan"."""
    run = tmp_path / "run"
    assert main(["train", "--env-id", f"{user_envs}:UserPlain-v0", *TINY, "--run-dir", str(run)]) == 0
    assert main(["eval", str(run), "--env-id", f"{user_envs}:UserFaulty-inf-v0", "--episodes", "1"]) == 2
    assert "UserFaulty-inf-v0's step() returned a reward holding NaN or inf" in capsys.readouterr().err


def test_an_env_that_raises_mid_training_is_named_in_one_line_and_the_run_resumes(user_envs, tmp_path, capsys):
    """A step() that raised once ended training with its traceback, saying nothing of the checkpoint; the message names
    the exception, where it was raised, the checkpoint kept and the resume."""
    run, env_id = tmp_path / "run", f"{user_envs}:UserFlaky-v0"
    flaky = importlib.import_module(user_envs).Flaky
    flaky.steps, flaky.fail_at = 0, 100  # in the second update's rollout, after the first update's checkpoint
    assert main(["train", "--env-id", env_id, *TINY, "--total-steps", "128", "--checkpoint-every", "1",
                 "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "UserFlaky-v0's step() raised ConnectionError: the motor driver stopped answering (at " in err, err
    line = next(i for i, text in enumerate(USER_ENVS.splitlines(), 1) if "raise ConnectionError" in text)
    assert f"fpo_user_envs.py:{line};" in err, err
    assert f"the last checkpoint ({run / 'checkpoints' / 'latest.pt'}) is intact" in err and f"--run-dir {run} --resume" in err, err
    assert load_checkpoint(run)["global_step"] == 64
    flaky.fail_at = None  # the environment fixed
    assert main(["train", "--run-dir", str(run), "--resume", "--no-progress"]) == 0
    assert load_checkpoint(run)["global_step"] == 128
    flaky.fail_at = flaky.steps + 3
    assert main(["eval", str(run), "--episodes", "1"]) == 2
    assert "UserFlaky-v0's step() raised ConnectionError" in capsys.readouterr().err


def test_an_env_that_raises_in_the_evaluation_after_training_says_the_training_is_saved(user_envs, tmp_path, capsys):
    """There is nothing left to resume then: the message once gave only the env's error, as if training had failed."""
    run = tmp_path / "run"
    flaky = importlib.import_module(user_envs).Flaky
    flaky.steps, flaky.fail_at = 0, 20 + 64 + 3  # the evaluation before (an episode of 20 steps), 64 trained, then 3
    assert main(["train", "--env-id", f"{user_envs}:UserFlaky-v0", *TINY, "--eval-episodes", "1", "--run-dir", str(run)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "step() raised ConnectionError" in err, err
    assert f"training finished and its checkpoint ({run / 'checkpoints' / 'latest.pt'}) is saved" in err, err
    assert "--resume" not in err and load_checkpoint(run)["global_step"] == 64


def test_a_run_of_an_env_without_a_step_time_warns_of_the_control_period_it_records(user_envs, caplog):
    """Without ``dt`` or ``render_fps`` the run silently recorded 1 s: an exported model ran at 1 Hz on the robot."""
    for env_id, guessed in ((f"{user_envs}:UserPlain-v0", True), (f"{user_envs}:UserPendulum-v0", False)):  # dt 0.05
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="fpo"):
            envs, spec = make_vec_env(env_id, 1)
        envs.close()
        assert (spec.dt == 1.0) == guessed
        assert ("records a control period of 1 s" in caplog.text) == guessed, caplog.text


def test_a_run_of_an_env_stepping_faster_than_an_export_can_carry_is_warned_of_at_its_start(user_envs, caplog):
    """A dt of 5e-5 s trained to the end, then `fpo export` refused the run (control_period_s out of range)."""
    with caplog.at_level(logging.WARNING, logger="fpo"):
        envs, _ = make_vec_env(f"{user_envs}:UserFast-v0", 1)
    envs.close()
    assert "steps every 5e-05 s, outside the control periods an exported model can carry (0.0001 to 3600 s)" in caplog.text


def test_only_rank_0_warns_of_the_step_time_under_torchrun(user_envs, tmp_path, caplog):
    """Every rank once logged the same warning: torchrun printed it once per rank."""
    rank1 = SimpleNamespace(rank=1, world_size=2, barrier=lambda: None, broadcast=lambda module: None)
    with caplog.at_level(logging.WARNING, logger="fpo"):
        trainer = Trainer(tiny_config(tmp_path / "run", env_id=f"{user_envs}:UserFast-v0"), rank1)
    trainer.envs.close()
    assert "steps every 5e-05 s" not in caplog.text, caplog.text
