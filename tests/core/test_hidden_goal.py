"""fpo_sim/HiddenGoal-v0: spaces, seeding, success at the true goal, retry at the decoy, a hidden side."""

import numpy as np
import pytest

from fpo_core.envs import EnvSpec, make_env


@pytest.fixture
def env():
    e = make_env("fpo_sim/HiddenGoal-v0")
    yield e
    e.close()


def walk_to(env, target: np.ndarray, max_steps: int = 20):
    """Step straight towards ``target`` until the episode ends or the point arrives; the last step's results."""
    for _ in range(max_steps):
        base = env.unwrapped
        delta = (target - base.pos) / base.step_size
        out = env.step(np.clip(delta, -1.0, 1.0).astype(np.float32))
        if out[2] or out[4]["decoys"] or np.allclose(base.pos, target):
            return out
    raise AssertionError("did not arrive")


def test_spaces_fit_a_continuous_policy(env):
    spec = EnvSpec.of(env, "fpo_sim/HiddenGoal-v0")
    assert (spec.obs_dim, spec.act_dim) == (4, 2)
    assert spec.action_low == [-1.0, -1.0] and spec.action_high == [1.0, 1.0]
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs) and not info["success"]
    assert env.spec.max_episode_steps == 10


def test_same_seed_same_episode(env):
    other = make_env("fpo_sim/HiddenGoal-v0")
    actions = np.random.default_rng(0).uniform(-1, 1, (10, 2)).astype(np.float32)
    for seed in (3, 4):
        a, ia = env.reset(seed=seed)
        b, ib = other.reset(seed=seed)
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(ia["goal"], ib["goal"])
        for act in actions:
            ra, rb = env.step(act), other.step(act)
            np.testing.assert_array_equal(ra[0], rb[0])
            assert ra[1:4] == rb[1:4]
            if ra[2]:
                break
    other.close()
    sides = {int(np.sign(env.reset(seed=s)[1]["goal"][1])) for s in range(20)}
    assert sides == {-1, 1}, "both hidden sides should occur across seeds"


@pytest.mark.parametrize("side", [-1, 1])
def test_success_at_the_true_goal(env, side):
    _, info = env.reset(seed=1, options={"side": side})
    obs, reward, term, trunc, info = walk_to(env, info["goal"])
    assert term and not trunc and reward == 1.0 and info["success"] and info["decoys"] == 0


def test_decoy_sends_back_to_the_start_unrewarded(env):
    start, info = env.reset(seed=2, options={"side": 1})
    obs, reward, term, _, info = walk_to(env, -info["goal"])
    assert not term and reward == 0.0 and not info["success"] and info["decoys"] == 1
    np.testing.assert_array_equal(obs, start)


def test_the_side_is_absent_from_observations(env):
    """The same actions give the same observations for either side until the true goal is reached."""
    actions = np.array([[0.0, 0.5]] * 3 + [[0.2, -0.5]] * 3 + [[1.0, 0.0]] * 2, np.float32)
    traces = []
    for side in (-1, 1):
        obs, _ = env.reset(seed=5, options={"side": side, "theta": 0.0})
        trace = [obs]
        for act in actions:
            obs, _, term, _, _ = env.step(act)
            if term:
                break
            trace.append(obs)
        traces.append(np.stack(trace))
    n = min(len(t) for t in traces)
    assert n >= 6 and np.ptp(traces[0][:n, 3]) > 0
    np.testing.assert_array_equal(traces[0][:n], traces[1][:n])

