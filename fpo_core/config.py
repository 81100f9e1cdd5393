"""Training configuration: one dataclass, documented field by field (the CLI's ``--help``).

Section comments stand a blank line above their fields: tyro takes a comment directly above a field as its help."""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Optional

import yaml

from fpo_core import integrators
from fpo_core.errors import UsageError
from fpo_core.presets import preset

Algo = Literal["fpo", "gaussian", "dppo"]

# Per-algorithm defaults: FPO's paper (FPO_METHOD.md §3) and DPPO's (§5); the Gaussian's is CleanRL's MuJoCo PPO
# (the paper's DMControl baseline was tuned to 0.1: pass --clip-coef 0.1 to compare with its numbers).
ALGO_DEFAULTS: dict[str, dict] = {
    "fpo": {"clip_coef": 0.05},
    "gaussian": {"clip_coef": 0.2},
    "dppo": {"clip_coef": 0.2},
}
# Options that only some algorithms use; another algorithm refuses a value other than the default (a new run's
# config would record it as if it mattered). Runs saved before this check resume with what they hold.
APPLIES_TO: dict[str, tuple[str, ...]] = {
    **{k: ("fpo",) for k in ("n_mc", "loss_weighting", "ratio", "tau_sampling", "log_ratio_clamp", "integrator",
                             "init_noise", "flow_target")},
    "flow_steps": ("fpo", "dppo"),
    "dppo_sigma": ("dppo",),
    **{k: ("gaussian",) for k in ("init_log_std", "ent_coef")},
}
# Options of earlier versions that changed only speed, never results: runs' saved configs may hold them.
RETIRED_OPTIONS = ("env_groups",)


@dataclass
class TrainConfig:
    """Train a policy with FPO, Gaussian PPO or DPPO in a gymnasium MuJoCo environment."""

    config: Optional[Path] = None
    """YAML file of option values (a run's ``config.yaml`` works); command-line flags override it."""
    env_id: str = "InvertedPendulum-v5"
    """Gymnasium environment id with a Box action space, or one of ours (``fpo_sim/GridWorld-v0``)."""
    algo: Algo = "fpo"
    """Policy class: ``fpo`` (flow policy), ``gaussian`` (PPO baseline) or ``dppo`` (denoising baseline)."""
    total_steps: int = 150_000
    """Environment steps to train for (across all envs)."""
    seed: int = 1
    """Seeds torch, numpy, Python and the environments."""
    run_dir: Optional[Path] = None
    """Where checkpoints, metrics and plots go; default ``runs/<env>__<algo>__s<seed>``."""
    resume: bool = False
    """Continue the run in ``run_dir`` from its latest checkpoint, with its saved settings. This command may set only what
    may differ between machines and sessions (run_dir, total_steps, device, cuda_graphs, threads, logging);
    another option that differs from the saved run is refused. SIGINT or SIGTERM stops a run after saving its update."""
    device: str = "cpu"
    """Torch device for networks and updates: ``cpu``, ``cuda`` or ``auto``."""
    cuda_graphs: bool = True
    """On a CUDA device, replay the rollout's policy step, the update's loss and backward, and GAE as CUDA
    graphs (hundreds of kernel launches become one; numerically the same work). Ignored on the CPU and under
    torchrun (the gradient all-reduces stay eager)."""
    torch_threads: int = 1
    """Torch intra-op CPU threads while collecting rollouts (1 is fastest for small MLPs and leaves cores to physics; 0 = torch's default)."""
    update_threads: int = 0
    """Torch intra-op CPU threads during the update, when the envs are idle (0 = this process's share of the cores)."""

    # Rollouts

    num_envs: int = 16
    """Parallel environments (``gymnasium.vector.SyncVectorEnv`` unless ``async_envs``)."""
    async_envs: bool = False
    """Step environments in subprocesses (pays off only with many cores and slow physics)."""
    num_steps: int = 64
    """Steps per environment per rollout; the batch is ``num_envs × num_steps``."""
    gamma: float = 0.99
    """Discount factor γ of the returns, GAE and the reward normaliser (1 = no discounting)."""
    gae_lambda: float = 0.95
    """GAE λ: 0 = one-step TD advantages, 1 = Monte Carlo returns minus the critic's value."""
    obs_norm: bool = True
    """Running observation normalisation (its statistics ship in checkpoints and exports)."""
    reward_norm: bool = True
    """Divide rewards by the running std of the discounted return."""
    reward_clip: Optional[float] = 10.0
    """Clip the normalised rewards to ±this, as CleanRL and Stable-Baselines3 do (None: off)."""
    reward_scale: float = 1.0
    """Multiply rewards by this before GAE, with ``--no-reward-norm`` (the normaliser divides any scale out); the paper
    uses 10 on DM Control without reward normalisation."""

    # Update

    learning_rate: float = 3e-4
    """Adam learning rate of the policy and critic (the start value with ``anneal_lr``)."""
    anneal_lr: bool = True
    """Linearly anneal the learning rate to 0 over the run."""
    update_epochs: int = 10
    """Passes over each rollout's batch per update (fewer when ``target_kl`` stops them early)."""
    num_minibatches: int = 4
    """Minibatches per epoch, one optimizer step each; must divide the batch ``num_envs × num_steps``."""
    clip_coef: Optional[float] = None
    """PPO clip ε; default per algorithm: fpo 0.05, gaussian 0.2, dppo 0.2."""
    trust_region: Literal["ppo", "aspo"] = "ppo"
    """``ppo`` clip, or FPO++'s ``aspo`` (clip for Â ≥ 0, SPO penalty for Â < 0)."""
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    vf_coef: float = 0.5
    """Weight of the critic's value loss (0.5 × squared error to the return) beside the policy loss."""
    ent_coef: float = 0.0
    """Entropy bonus (Gaussian only; flow policies have no closed-form entropy)."""
    max_grad_norm: Optional[float] = 0.5
    """Clip the gradient norm of policy and critic together to this before each optimizer step (None: no clipping)."""
    target_kl: Optional[float] = None
    """Stop an update's epochs early once the approximate KL exceeds this."""

    # Networks

    actor_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the policy network (velocity field or Gaussian mean), e.g. ``--actor-hidden 256 256``."""
    critic_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the critic (value network)."""
    activation: Literal["silu", "tanh", "relu", "elu"] = "silu"
    """Activation after each hidden layer of the policy and critic."""
    squash: Literal["tanh", "clip"] = "tanh"
    """How the raw action reaches the env's box: ``tanh`` then scale, or ``clip``."""
    init_log_std: float = 0.0
    """Gaussian: initial log standard deviation."""

    # Flow policy (fpo, dppo)

    flow_steps: int = 10
    """Integration steps K for sampling actions in rollouts (and the default at deployment)."""
    integrator: str = "euler"
    """Integrator for rollouts: euler, midpoint, heun or rk4."""
    init_noise: Literal["random", "zero"] = "random"
    """Initial noise x₀ for rollouts: ``random`` (N(0, I)) or ``zero``."""
    flow_target: Literal["raw", "executed"] = "raw"
    """FPO's CFM target: the raw sample x₁ (the paper) or the action the env executed, x₁ clipped into the box (needs --squash clip)."""
    n_mc: int = 8
    """FPO: (τ, ε) pairs per action for the CFM ratio."""
    loss_weighting: Literal["velocity", "eps"] = "eps"
    """FPO: CFM weighting, ``velocity`` (w = 1) or ``eps`` (w = τ², the ε-MSE)."""
    ratio: Literal["mean", "per_sample"] = "mean"
    """FPO: one ratio from the mean loss difference (paper) or one per (τ, ε) pair (FPO++)."""
    tau_sampling: Literal["uniform", "grid"] = "uniform"
    """FPO: τ ~ U(0, 1) or from the K rollout grid points."""
    log_ratio_clamp: Optional[float] = None
    """FPO: clamp the log-ratio to ±this to avoid overflow (None: off)."""
    dppo_sigma: float = 0.05
    """DPPO: noise std of each stochastic Euler step."""

    # Logging and checkpoints

    checkpoint_every: int = 10
    """Write a checkpoint every this many updates (and always at the end)."""
    eval_episodes: int = 10
    """Episodes evaluated (zero noise) at the start and end of the run; 0 skips."""
    tensorboard: bool = True
    """Also log the ``metrics.csv`` columns to TensorBoard in ``<run_dir>/tb``."""
    progress: bool = True
    """Show a live progress bar."""

    def resolved(self) -> "TrainConfig":
        """Fill per-algorithm defaults, then validate; raises ``UsageError`` naming the problem."""
        cfg = dataclasses.replace(self, **{k: v for k, v in ALGO_DEFAULTS[self.algo].items() if getattr(self, k) is None})
        cfg.run_dir = cfg.resolved_run_dir()
        cfg.validate()
        return cfg

    def resolved_run_dir(self) -> Path:
        """``run_dir``, or the default ``runs/<env>__<algo>__s<seed>``."""
        return self.run_dir or Path("runs") / f"{self.env_id.replace('/', '_')}__{self.algo}__s{self.seed}"

    def validate(self) -> None:
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        misapplied = [k for k, algos in APPLIES_TO.items() if self.algo not in algos and getattr(self, k) != defaults[k]]
        nonfinite = [f.name for f in dataclasses.fields(self)
                     if isinstance(getattr(self, f.name), float) and not math.isfinite(getattr(self, f.name))]
        checks = [
            (not nonfinite, nonfinite and f"--{nonfinite[0].replace('_', '-')} must be a finite number, "
                                          f"got {getattr(self, nonfinite[0])}"),
            (seed_problem(self.seed) is None, seed_problem(self.seed)),
            (self.n_mc >= 1, f"--n-mc must be >= 1, got {self.n_mc}"),
            (self.clip_coef is not None and self.clip_coef > 0, f"--clip-coef must be > 0, got {self.clip_coef}"),
            (self.total_steps > 0, f"--total-steps must be > 0, got {self.total_steps}"),
            (self.num_envs >= 1 and self.num_steps >= 1, "--num-envs and --num-steps must be >= 1"),
            (self.num_minibatches >= 1 and self.batch_size % self.num_minibatches == 0,
             f"--num-minibatches ({self.num_minibatches}) must divide the batch num_envs*num_steps ({self.batch_size})"),
            (self.update_epochs >= 1, f"--update-epochs must be >= 1, got {self.update_epochs}"),
            (0 < self.gamma <= 1 and 0 <= self.gae_lambda <= 1, "--gamma must be in (0, 1] and --gae-lambda in [0, 1]"),
            (self.learning_rate > 0, f"--learning-rate must be > 0, got {self.learning_rate}"),
            (self.integrator in integrators.INTEGRATORS,
             f"--integrator {self.integrator!r} is unknown: choose one of {', '.join(integrators.INTEGRATORS)}"),
            (self.flow_steps >= 1, f"--flow-steps must be >= 1, got {self.flow_steps}"),
            (self.log_ratio_clamp is None or self.log_ratio_clamp > 0, "--log-ratio-clamp must be > 0"),
            (self.reward_clip is None or self.reward_clip > 0, f"--reward-clip must be > 0 (or None: off), got {self.reward_clip}"),
            (self.dppo_sigma > 0, f"--dppo-sigma must be > 0, got {self.dppo_sigma}"),
            (len(self.actor_hidden) >= 1 and len(self.critic_hidden) >= 1, "--actor-hidden and --critic-hidden need at least one layer"),
            (min(self.actor_hidden + self.critic_hidden, default=1) >= 1,
             f"layer sizes must be >= 1, got --actor-hidden {self.actor_hidden} --critic-hidden {self.critic_hidden}"),
            (self.max_grad_norm is None or self.max_grad_norm > 0,
             f"--max-grad-norm must be > 0 (or None: no clipping), got {self.max_grad_norm}"),
            (self.vf_coef >= 0 and self.ent_coef >= 0, "--vf-coef and --ent-coef must be >= 0"),
            (self.target_kl is None or self.target_kl > 0, f"--target-kl must be > 0 (or None: off), got {self.target_kl}"),
            (self.reward_scale > 0, f"--reward-scale must be > 0, got {self.reward_scale}"),
            (self.resume or self.reward_scale == 1 or not self.reward_norm,
             f"--reward-scale {self.reward_scale} (from the command line or its --config file) has no effect while "
             f"--reward-norm is on (the normaliser divides the scale out): add --no-reward-norm (reward_norm: false) to "
             f"train on scaled raw rewards, or drop it (reward_scale: 1.0)"),
            (abs(self.init_log_std) <= 10, f"--init-log-std must be in [-10, 10] (a std from 4.5e-5 to 2.2e4), "
                                           f"got {self.init_log_std}"),
            (self.eval_episodes >= 0, f"--eval-episodes must be >= 0 (0: no evaluation), got {self.eval_episodes}"),
            (self.checkpoint_every >= 1, "--checkpoint-every must be >= 1"),
            (self.flow_target == "raw" or self.squash == "clip",
             "--flow-target executed trains on x₁ clipped into the action box, so it needs --squash clip"),
            (self.resume or not misapplied, misapplied and f"--{misapplied[0].replace('_', '-')} "
                                                          f"{getattr(self, misapplied[0])} (from the command line or "
                                                          f"its --config file) applies to --algo "
                                                          f"{' and '.join(APPLIES_TO[misapplied[0]])} only, not "
                                                          f"{self.algo}: drop it (the run would record a value it ignores)"),
            (self.torch_threads >= 0 and self.update_threads >= 0, "--torch-threads and --update-threads must be >= 0 (0 = automatic)"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    def to_dict(self) -> dict:
        """The settings of a run (not the command that started it: ``config`` and ``resume`` are left out)."""
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, Path):
                d[k] = str(v)
            elif isinstance(v, tuple):
                d[k] = list(v)
        d.pop("config")
        d.pop("resume")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls(**cls.check_values(d, "config"))

    @classmethod
    def check_values(cls, d: dict, source: str) -> dict[str, Any]:
        """``d`` with every value checked against its option's type (YAML's ``3e-4`` is a string: read as a number)."""
        hints = typing.get_type_hints(cls)
        d = {k: v for k, v in d.items() if k not in RETIRED_OPTIONS}
        unknown = sorted(map(str, set(d) - set(hints)))  # YAML keys may be numbers, booleans or null
        if unknown:  # YAML keys are the options' snake_case names; a flag's spelling (num-envs) is matched too
            named = [k + "".join(f" (did you mean {m}?)" for m in difflib.get_close_matches(k.replace("-", "_"), hints, n=1))
                     for k in unknown]
            raise UsageError(f"unknown option(s) in {source}: {', '.join(named)}; see `fpo train --help`")
        return {k: _typed(v, hints[k], f"{k} in {source}") for k, v in d.items()}

    @classmethod
    def values_from_yaml(cls, path: Path) -> dict[str, Any]:
        """The options a YAML file sets, checked. ``resume`` is a command, not a setting: ignored (runs' files before
        2026-11-27 hold it). A run's own ``run_dir`` is dropped too, so its ``config.yaml`` starts a new run."""
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise UsageError(f"config file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"cannot read config file {path}: {e}") from None
        except yaml.YAMLError as e:  # its own text spans lines (the context and a caret): one line names the places
            parts = [f"{text}" + (f" at line {mark.line + 1}, column {mark.column + 1}" if mark else "")
                     for text, mark in ((getattr(e, "context", None), getattr(e, "context_mark", None)),
                                        (getattr(e, "problem", None), getattr(e, "problem_mark", None))) if text]
            problem = "; ".join(parts) or " ".join(str(e).split())
            tabs = " (YAML does not allow tabs: use spaces)" if "'\\t'" in problem else ""
            raise UsageError(f"config file {path} is not valid YAML: {problem}{tabs}") from None
        if not isinstance(data, dict):
            raise UsageError(f"config file {path} must hold a mapping of option: value")
        data.pop("resume", None)
        if "config" in data:  # read as an option, it would be ignored and the options of the file it names lost
            raise UsageError(f"config file {path} sets config: nested config files are not supported; remove that line and "
                             f"copy the options of the file it names into {path}, or pass them as flags")
        values = cls.check_values(data, str(path))
        if values.get("run_dir") is not None and values["run_dir"].resolve() == Path(path).resolve().parent:
            del values["run_dir"]
        return values

    def write_yaml(self, path: Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))


def seed_problem(seed: int) -> Optional[str]:
    """What is wrong with ``seed`` (numpy and gymnasium take seeds below 2**32; runs add offsets per rank), or None."""
    return None if 0 <= seed < 2**31 else f"--seed must be in [0, 2**31), got {seed}"


def _typed(value: Any, kind: Any, where: str) -> Any:
    """``value`` as an option of type ``kind`` (int, float, bool, str, Path, Literal, Optional, tuple[int, ...])."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is typing.Union:  # Optional[X]: YAML's null, or None as the flags spell it
        return None if value is None or value == "None" else _typed(value, args[0], where)
    if origin is Literal:
        if value not in args:
            raise UsageError(f"{where} must be one of {', '.join(map(str, args))}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise UsageError(f"{where} must be a list of layer sizes, e.g. [64, 64], got {value!r}")
        return tuple(_typed(v, int, where) for v in value)
    if kind is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{where} must be true or false, got {value!r}")
        return value
    if kind in (int, float):
        number = value
        if isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                pass
        if isinstance(number, bool) or not isinstance(number, (int, float)) or (kind is int and not float(number).is_integer()):
            raise UsageError(f"{where} must be {'an integer' if kind is int else 'a number'}, got {value!r}")
        return kind(number)
    if kind in (str, Path):
        if not isinstance(value, str):
            raise UsageError(f"{where} must be a string, got {value!r}")
        return kind(value)
    raise TypeError(f"no check for option type {kind}")


def algo_defaults(env_id: str, algo: str) -> dict[str, Any]:
    """Every option's value for a new ``algo`` run on ``env_id`` before any file or flag: the built-in defaults, the
    algorithm's (``ALGO_DEFAULTS``) and the task's preset."""
    return {**dataclasses.asdict(TrainConfig()), **ALGO_DEFAULTS[algo], **preset(env_id, algo)}
