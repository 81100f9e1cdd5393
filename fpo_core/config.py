"""Training configuration: one dataclass, documented field by field (the CLI's ``--help``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

import yaml

from fpo_core import integrators
from fpo_core.errors import UsageError

Algo = Literal["fpo", "gaussian", "dppo"]

# Per-algorithm defaults where the methods' papers differ (FPO_METHOD.md §3, §5).
ALGO_DEFAULTS: dict[str, dict] = {
    "fpo": {"clip_coef": 0.05},
    "gaussian": {"clip_coef": 0.2},
    "dppo": {"clip_coef": 0.2},
}


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
    """Continue the run in ``run_dir`` from its latest checkpoint. Its saved config wins, except what may differ between
    machines and sessions, which this command sets: run_dir, total_steps, device, cuda_graphs, threads, logging."""
    device: str = "cpu"
    """Torch device for networks and updates: ``cpu``, ``cuda`` or ``auto``."""
    cuda_graphs: bool = True
    """On a CUDA device, replay the rollout's policy step, the update's loss and backward, and GAE as CUDA
    graphs (hundreds of kernel launches become one; numerically the same work). Ignored on the CPU."""
    torch_threads: int = 1
    """Torch intra-op CPU threads while collecting rollouts (1 is fastest for small MLPs and leaves cores to physics; 0 = torch's default)."""
    update_threads: int = 0
    """Torch intra-op CPU threads during the update, when the envs are idle (0 = this process's share of the cores)."""

    # Rollouts
    num_envs: int = 16
    """Parallel environments (``gymnasium.vector.SyncVectorEnv`` unless ``async_envs``)."""
    async_envs: bool = False
    """Step environments in subprocesses (pays off only with many cores and slow physics)."""
    env_groups: int = 1
    """Split the envs into this many equal groups that take turns, so that with ``--device cuda`` the GPU
    samples one group's actions while the CPU steps another group's physics (2 hides the sampling; on
    the CPU, where nothing runs meanwhile, more groups only add per-call overhead)."""
    num_steps: int = 64
    """Steps per environment per rollout; the batch is ``num_envs × num_steps``."""
    gamma: float = 0.99
    gae_lambda: float = 0.95
    obs_norm: bool = True
    """Running observation normalisation (its statistics ship in checkpoints and exports)."""
    reward_norm: bool = True
    """Divide rewards by the running std of the discounted return."""
    reward_clip: Optional[float] = 10.0
    """Clip the normalised rewards to ±this, as CleanRL and Stable-Baselines3 do (None: off)."""
    reward_scale: float = 1.0
    """Multiply rewards by this before GAE (the paper uses 10 on DM Control)."""

    # Update
    learning_rate: float = 3e-4
    anneal_lr: bool = True
    """Linearly anneal the learning rate to 0 over the run."""
    update_epochs: int = 10
    num_minibatches: int = 4
    clip_coef: Optional[float] = None
    """PPO clip ε; default per algorithm: fpo 0.05, gaussian 0.2, dppo 0.2."""
    trust_region: Literal["ppo", "aspo"] = "ppo"
    """``ppo`` clip, or FPO++'s ``aspo`` (clip for Â ≥ 0, SPO penalty for Â < 0)."""
    norm_adv: bool = True
    """Normalise advantages per minibatch."""
    vf_coef: float = 0.5
    ent_coef: float = 0.0
    """Entropy bonus (Gaussian only; flow policies have no closed-form entropy)."""
    max_grad_norm: float = 0.5
    target_kl: Optional[float] = None
    """Stop an update's epochs early once the approximate KL exceeds this."""

    # Networks
    actor_hidden: tuple[int, ...] = (64, 64)
    critic_hidden: tuple[int, ...] = (64, 64)
    activation: Literal["silu", "tanh", "relu", "elu"] = "silu"
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
        checks = [
            (self.n_mc >= 1, f"--n-mc must be >= 1, got {self.n_mc}"),
            (self.clip_coef is not None and self.clip_coef > 0, f"--clip-coef must be > 0, got {self.clip_coef}"),
            (self.total_steps > 0, f"--total-steps must be > 0, got {self.total_steps}"),
            (self.num_envs >= 1 and self.num_steps >= 1, "--num-envs and --num-steps must be >= 1"),
            (self.env_groups >= 1 and self.num_envs % self.env_groups == 0,
             f"--env-groups ({self.env_groups}) must be >= 1 and divide --num-envs ({self.num_envs})"),
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
            (self.checkpoint_every >= 1, "--checkpoint-every must be >= 1"),
            (self.flow_target == "raw" or self.squash == "clip",
             "--flow-target executed trains on x₁ clipped into the action box, so it needs --squash clip"),
            (self.flow_target == "raw" or self.algo == "fpo", "--flow-target executed applies to --algo fpo only"),
            (self.ent_coef == 0 or self.algo == "gaussian",
             "--ent-coef applies to --algo gaussian only: flow policies have no closed-form entropy"),
            (self.torch_threads >= 0 and self.update_threads >= 0, "--torch-threads and --update-threads must be >= 0 (0 = automatic)"),
        ]
        for ok, message in checks:
            if not ok:
                raise UsageError(message)

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        for k, v in d.items():
            if isinstance(v, Path):
                d[k] = str(v)
            elif isinstance(v, tuple):
                d[k] = list(v)
        d.pop("config")
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise UsageError(f"unknown option(s) in config: {', '.join(unknown)}; see `fpo train --help`")
        values = dict(d)
        for k in ("actor_hidden", "critic_hidden"):
            if k in values:
                values[k] = tuple(values[k])
        for k in ("run_dir", "config"):
            if values.get(k) is not None:
                values[k] = Path(values[k])
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: Path) -> "TrainConfig":
        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise UsageError(f"config file {path} does not exist") from None
        except yaml.YAMLError as e:
            raise UsageError(f"config file {path} is not valid YAML: {e}") from None
        if not isinstance(data, dict):
            raise UsageError(f"config file {path} must hold a mapping of option: value")
        return cls.from_dict(data)

    def write_yaml(self, path: Path) -> None:
        Path(path).write_text(yaml.safe_dump(self.to_dict(), sort_keys=False))
