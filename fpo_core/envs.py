"""Making (vector) gymnasium environments by id, checking they suit a continuous policy."""

from __future__ import annotations

import difflib
import logging
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import gymnasium as gym
import numpy as np

from fpo_core.contract import CONTROL_PERIOD_S
from fpo_core.errors import EnvFailed, FpoError, UsageError
from fpo_core.signals import sigint_ignored

log = logging.getLogger("fpo")
_QUIET = ("settotalmass",)
_ASYNC_FILE = gym.vector.async_vector_env.__file__
"""Where an ``AsyncVectorEnv`` re-raises its workers' exceptions, without their tracebacks."""


def quiet_mujoco() -> None:
    """Route MuJoCo's warnings to logging (no ``MUJOCO_LOG.TXT``), dropping known-harmless ones."""
    try:
        import mujoco
    except ImportError:
        return
    mujoco.set_mju_user_warning(lambda msg: None if any(q in msg for q in _QUIET) else log.warning("MuJoCo: %s", msg))


def register_project_envs() -> None:
    """Register the environments under ``sim/`` (ids ``fpo_sim/...``)."""
    import fpo_sim  # noqa: F401  (registers on import)


@dataclass
class EnvSpec:
    """What a policy needs to know about an environment (and what an exported model records)."""

    env_id: str
    obs_dim: int
    act_dim: int
    action_low: list[float]
    action_high: list[float]
    dt: float
    joint_names: list[str]

    @classmethod
    def of(cls, env: gym.Env, env_id: str) -> "EnvSpec":
        obs_space, act_space = env.observation_space, env.action_space
        if not isinstance(act_space, gym.spaces.Box):
            raise UsageError(
                f"{env_id} has a {type(act_space).__name__} action space; fpo trains continuous policies and "
                "needs a Box action space (pick a MuJoCo task such as HalfCheetah-v5)"
            )
        if len(act_space.shape) != 1:  # a policy outputs a vector: a (2, 3) box would be squashed by a (2,) one
            raise UsageError(
                f"{env_id} has a Box action space of shape {act_space.shape}; fpo needs a flat one: make its entry point "
                f"return gymnasium.wrappers.TransformAction(env, lambda a: a.reshape({act_space.shape}), "
                f"gymnasium.spaces.Box(env.action_space.low.ravel(), env.action_space.high.ravel()))"
            )
        if not isinstance(obs_space, gym.spaces.Box) or len(obs_space.shape) != 1:
            raise UsageError(f"{env_id} must have a flat Box observation space, got {obs_space}; make its entry point "
                             f"return gymnasium.wrappers.FlattenObservation(env)")
        empty = [name for name, space in (("observation", obs_space), ("action", act_space)) if space.shape[0] == 0]
        if empty:
            hint = ": give a task without observations a constant one (np.zeros(1))" if "observation" in empty else ""
            raise UsageError(f"{env_id} has an empty {' and an empty '.join(empty)} space (shape (0,)); a policy needs "
                             f"at least one observation and one action value{hint}")
        if not (np.all(np.isfinite(act_space.low)) and np.all(np.isfinite(act_space.high))):
            raise UsageError(f"{env_id} has an unbounded action space; fpo needs finite action bounds")
        base = env.unwrapped
        dt = float(getattr(base, "dt", 0.0) or 1.0 / float(env.metadata.get("render_fps") or 1.0))
        return cls(env_id, int(obs_space.shape[0]), int(act_space.shape[0]), act_space.low.astype(float).tolist(),
                   act_space.high.astype(float).tolist(), dt, joint_names(base, int(act_space.shape[0])))


def joint_names(env: gym.Env, act_dim: int) -> list[str]:
    """Names of the actuated joints for MuJoCo envs; ``joint_<i>`` for an actuator that drives no joint (a tendon, a
    site) and for every action of other envs."""
    model = getattr(env, "model", None)
    try:
        import mujoco

        on_joint = (int(mujoco.mjtTrn.mjTRN_JOINT), int(mujoco.mjtTrn.mjTRN_JOINTINPARENT))
        names = [(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[i, 0]) if int(model.actuator_trntype[i])
                  in on_joint else None) or f"joint_{i}" for i in range(model.nu)]
        if len(names) == act_dim:
            return names
    except Exception:  # not a MuJoCo env
        pass
    return [f"joint_{i}" for i in range(act_dim)]


def make_env(env_id: str, **kwargs) -> gym.Env:
    """``gym.make`` with a clear error for unknown ids (nearest names suggested)."""
    quiet_mujoco()
    register_project_envs()
    try:
        return gym.make(env_id, **kwargs)
    except gym.error.DependencyNotInstalled as e:
        raise UsageError(f"environment {env_id!r} needs a package that is not installed: {e}") from None
    except gym.error.Error as e:
        known = [k for k in gym.registry if k != env_id]
        close = difflib.get_close_matches(env_id, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `python -c 'import gymnasium; gymnasium.pprint_registry()'` lists them"
        raise UsageError(f"unknown environment id {env_id!r} ({e}){hint}") from None
    except ImportError as e:
        raise UsageError(f"environment {env_id!r} needs a package that is not installed: {e}") from None
    except Exception as e:  # the environment's own code (a user's module or constructor) failed: say where
        raise UsageError(f"environment {env_id!r} could not be made: {type(e).__name__}: {e} (at {_raised_at(e)}); "
                         f"`python -c \"import gymnasium; gymnasium.make('{env_id}')\"` shows the whole traceback") from None


def _raised_at(e: BaseException) -> str:
    """``file:line`` of the innermost frame of ``e``'s traceback."""
    where = traceback.extract_tb(e.__traceback__)[-1]
    return f"{where.filename}:{where.lineno}"


def call_env(env_id: str, call: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)``, an env's ``reset`` or ``step`` (``call``): what its own code raises comes out as one
    ``EnvFailed`` line naming the exception and where it was raised (``FPO_LOG=DEBUG`` logs the whole traceback)."""
    try:
        return fn(*args, **kwargs)
    except FpoError:
        raise
    except Exception as e:
        log.debug("%s's %s() raised:", env_id, call, exc_info=e)
        where = _raised_at(e)
        where = ("in an --async-envs worker, whose traceback gymnasium printed above" if where.startswith(_ASYNC_FILE)
                 else f"at {where}; FPO_LOG=DEBUG shows the whole traceback")
        raise EnvFailed(f"{env_id}'s {call}() raised {type(e).__name__}: {e} ({where})") from None


class CheckedEnv(gym.Wrapper):
    """What fpo hands an environment, made to fit it, and the observations it returns, checked.

    Actions come in the action space's dtype and inside its box: a squash saturated at a bound can land a rounding step
    past it (in training float32, and a float32 bound of 0.3 is above a float64 one), and evaluation acts in float64,
    which is no member of a float32 box; an env that asserts ``action_space.contains(action)``, as gymnasium's own
    LunarLander does, failed on either. An observation of another shape than the space's is an ``EnvFailed`` naming
    both (the vector env failed on it with "Output array is the wrong shape")."""

    def __init__(self, env: gym.Env, env_id: str):
        super().__init__(env)
        self.env_id = env_id
        act = env.action_space  # kept: each access walks the wrappers' properties, ~1 µs a step in all
        self._dtype, self._low, self._high, self._obs_shape = act.dtype, act.low, act.high, env.observation_space.shape

    @classmethod
    def make(cls, env_id: str, **kwargs: Any) -> CheckedEnv:
        """``make_env(env_id, **kwargs)``, checked: how training, evaluation and the sim node make their envs."""
        return cls(make_env(env_id, **kwargs), env_id)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        obs, info = self.env.reset(seed=seed, options=options)
        return self._shaped(obs, "reset"), info

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        # np.minimum/maximum: np.clip costs several times more per call
        obs, reward, terminated, truncated, info = self.env.step(
            np.minimum(np.maximum(np.asarray(action, dtype=self._dtype), self._low), self._high))
        return self._shaped(obs, "step"), reward, terminated, truncated, info

    def _shaped(self, obs: np.ndarray, call: str) -> np.ndarray:
        if np.shape(obs) != self._obs_shape:
            raise EnvFailed(f"{self.env_id}'s {call}() returned an observation of shape {np.shape(obs)}, but its "
                            f"observation space is {self.observation_space}: make the two agree")
        return obs


def check_finite(env_id: str, obs: np.ndarray, reward: np.ndarray | float, call: str = "step") -> None:
    """``EnvFailed`` if an environment's observations or rewards hold NaN or inf: one poisons the observation
    normaliser or the return scale, and every update after it (training then stopped as "diverged", blaming the
    learning rate), and an evaluation's return."""
    bad = [name for name, x in (("an observation", obs), ("a reward", reward)) if not np.isfinite(x).all()]
    if bad:
        raise EnvFailed(f"{env_id}'s {call}() returned {' and '.join(bad)} holding NaN or inf, which fpo cannot learn "
                        f"from or score: fix the environment, or end the episode (terminated=True) when it reaches such a state")


def make_vec_env(env_id: str, num_envs: int, asynchronous: bool = False,
                 warn: bool = True) -> tuple[gym.vector.VectorEnv, EnvSpec]:
    """A vector env whose ``step`` resets finished envs in the same step (``final_obs`` in info); ``warn``: log what its
    step time means for an export (one rank does, under torchrun)."""
    probe = make_env(env_id)
    spec = EnvSpec.of(probe, env_id)
    if warn and not (getattr(probe.unwrapped, "dt", 0.0) or probe.metadata.get("render_fps")):  # EnvSpec.of took 1 s
        log.warning("%s has no `dt` attribute and no metadata['render_fps']: the run records a control period of 1 s "
                    "(an exported model's control_period_s, the rate the ROS policy node runs it at); give the env a `dt` "
                    "(seconds per step)", env_id)
    elif warn and not CONTROL_PERIOD_S[0] <= spec.dt <= CONTROL_PERIOD_S[1]:
        log.warning("%s steps every %g s, outside the control periods an exported model can carry (%g to %g s): the run "
                    "trains and evaluates, but `fpo export` will refuse it; to deploy, make one env step span such a period "
                    "(several physics steps per action)", env_id, spec.dt, *CONTROL_PERIOD_S)
    probe.close()
    fns = [lambda: CheckedEnv.make(env_id) for _ in range(num_envs)]
    mode = gym.vector.AutoresetMode.SAME_STEP
    if asynchronous:
        with sigint_ignored():  # workers inherit it: Ctrl-C is the trainer's to handle (save, then stop the workers)
            envs = gym.vector.AsyncVectorEnv(fns, autoreset_mode=mode)
    else:
        envs = gym.vector.SyncVectorEnv(fns, autoreset_mode=mode)
    envs = gym.wrappers.vector.RecordEpisodeStatistics(envs)
    return envs, spec
