"""The training loop: rollouts, GAE, PPO updates, logging, atomic checkpoints and resume."""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
import random
import shutil
import time
from collections import deque
from pathlib import Path
from typing import Callable

import gymnasium as gym
import numpy as np
import torch

from fpo_core import __version__
from fpo_core.actions import squash
from fpo_core.algorithms import build_policy
from fpo_core.algorithms.ppo import PPO
from fpo_core.checkpoint import LATEST, LoadedPolicy, load_checkpoint, save_checkpoint
from fpo_core.config import TrainConfig
from fpo_core.cuda_graph import graphed
from fpo_core.device import HostToDevice, resolve_device
from fpo_core.distributed import Comm, launcher_pid
from fpo_core.envs import EnvSpec, call_env, check_finite, make_vec_env
from fpo_core.errors import EnvFailed, TrainingDiverged, TrainingInterrupted, UsageError
from fpo_core.evaluate import run_episodes, torch_actor
from fpo_core.networks import Critic
from fpo_core.normalize import ReturnScaler, RunningNorm
from fpo_core.plotting import plot_learning_curve
from fpo_core.rollout import RolloutBuffer
from fpo_core.run_lock import lock_run_dir, unlock_run_dir
from fpo_core.signals import stop_requests

log = logging.getLogger("fpo")
# run_dir: where the run lives now (it may have been moved, or copied back from another machine)
RESUME_OVERRIDABLE = ("run_dir", "total_steps", "progress", "checkpoint_every", "eval_episodes", "tensorboard",
                      "torch_threads", "update_threads", "device", "cuda_graphs")


def prepare_run_dir(run_dir: Path, resume: bool) -> None:
    """Check ``run_dir`` for a new run or a resume, make it, and lock it for this process (``lock_run_dir``)."""
    if resume:
        if not (run_dir / LATEST).exists():
            raise UsageError(f"--resume: {run_dir} has no checkpoint to resume ({LATEST}); start it without --resume")
        lock_run_dir(run_dir)
        return
    _check_new_run_dir(run_dir)  # before anything is written there
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".write_test"
        probe.write_text("")
        probe.unlink()
    except OSError as e:
        raise UsageError(f"cannot write to run directory {run_dir}: {e.strerror}; choose a writable --run-dir") from None
    lock_run_dir(run_dir)  # before anything is removed: a run in progress looks like one that never saved
    try:
        present = _check_new_run_dir(run_dir)  # again: another process may have saved a checkpoint meanwhile
    except UsageError:
        unlock_run_dir(run_dir)
        raise
    stale = [p for p in present if p.name != "config.yaml"]
    if stale:  # a run killed before its first checkpoint: its logs can't be resumed and would mix with this run's
        log.info("%s: removing the logs of a run that never saved a checkpoint (%s)", run_dir, ", ".join(p.name for p in stale))
        for p in stale:
            shutil.rmtree(p) if p.is_dir() else p.unlink()


def _check_new_run_dir(run_dir: Path) -> list[Path]:
    """``UsageError`` if ``run_dir`` holds a run or files fpo did not write; the files of an fpo run that never saved."""
    if (run_dir / LATEST).exists():
        raise UsageError(f"{run_dir} already holds a run; pass --resume to continue it or choose another --run-dir")
    present = [p for p in (run_dir / "config.yaml", run_dir / "metrics.csv", run_dir / "tb") if p.exists()]
    if present and not _written_by_fpo(run_dir):
        raise UsageError(f"{run_dir} holds files fpo did not write ({', '.join(p.name for p in present)}), which a run would "
                         f"overwrite: choose another --run-dir")
    return present


class Trainer:
    """Owns one run: environments, networks, optimiser, normalisers, logs and checkpoints."""

    def __init__(self, cfg: TrainConfig, comm: Comm | None = None):
        cfg = cfg.resolved()
        self.comm = comm
        self.rank, self.world_size = (comm.rank, comm.world_size) if comm else (0, 1)
        self.run_dir = Path(cfg.run_dir)
        # a new run's envs first: a bad env id or action space fails before a run directory is made for it (a resume's
        # env is the saved run's, known once its checkpoint is read)
        envs = None if cfg.resume else make_vec_env(cfg.env_id, cfg.num_envs, cfg.async_envs, warn=self.rank == 0)
        try:
            if self.rank == 0:
                prepare_run_dir(self.run_dir, cfg.resume)
        except BaseException:
            if envs is not None:
                envs[0].close()
            raise
        try:
            self._setup(cfg, comm, envs)
        except BaseException:  # a Trainer that cannot start holds no run directory and no environments
            made = getattr(self, "envs", None) or (envs[0] if envs is not None else None)
            if made is not None:
                made.close()
            unlock_run_dir(self.run_dir)
            raise

    def _setup(self, cfg: TrainConfig, comm: Comm | None, envs: tuple[gym.vector.VectorEnv, EnvSpec] | None) -> None:
        if comm:
            comm.barrier()
        ckpt = load_checkpoint(self.run_dir, "cpu") if cfg.resume else None
        if ckpt is not None:
            saved = TrainConfig.from_dict(ckpt["config"])
            _check_unchanged(saved, cfg)
            cfg = dataclasses.replace(saved, resume=True, **{k: getattr(cfg, k) for k in RESUME_OVERRIDABLE})
            cfg.validate()
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        if cfg.torch_threads > 0:
            torch.set_num_threads(cfg.torch_threads)
        self.update_threads = cfg.update_threads or _core_share()
        if self.rank == 0 and not cfg.update_threads and self.update_threads > 1:  # rank 0 logs, as elsewhere
            _warn_if_busy(self.update_threads)
        self._seed(cfg.seed)  # the same initial networks on every rank

        self.envs, self.spec = envs or make_vec_env(cfg.env_id, cfg.num_envs, cfg.async_envs, warn=self.rank == 0)
        s = self.spec
        self.low = torch.tensor(s.action_low, dtype=torch.float32, device=self.device)
        self.high = torch.tensor(s.action_high, dtype=torch.float32, device=self.device)
        self.obs_norm = RunningNorm.for_observations(s.obs_dim, cfg.obs_norm).to(self.device)
        self.reward_scaler = ReturnScaler(cfg.num_envs, cfg.gamma, clip=cfg.reward_clip)
        self.policy = build_policy(cfg, s.obs_dim, s.act_dim).to(self.device)
        self.critic = Critic(s.obs_dim, cfg.critic_hidden, cfg.activation).to(self.device)
        self.cuda_graphs = cfg.cuda_graphs and self.device.type == "cuda" and comm is None  # all-reduces stay eager
        self.ppo = PPO(self.policy, self.critic, cfg.learning_rate, cfg.clip_coef, cfg.update_epochs, cfg.num_minibatches,
                       cfg.trust_region, cfg.vf_coef, cfg.ent_coef, cfg.max_grad_norm, cfg.norm_adv, cfg.target_kl, comm,
                       self.cuda_graphs)
        self.buffer = RolloutBuffer(cfg.num_steps, cfg.num_envs, s.obs_dim, s.act_dim, self.device, self.cuda_graphs)
        self._policy_step = graphed(self.policy_step, self.cuda_graphs)
        self._to_device = HostToDevice((cfg.num_envs, s.obs_dim), self.device)
        self.global_step = 0
        self.iteration = 0
        self.elapsed = 0.0
        self.recent_returns: deque[float] = deque(maxlen=20)
        if ckpt is not None:
            self._restore(ckpt)
        elif comm is not None:  # every rank starts from rank 0's networks, whatever its hardware's arithmetic
            for module in (self.policy, self.critic):
                comm.broadcast(module)
        if self.rank > 0:  # own exploration noise and environments on every rank
            self._seed(first_env_seed(cfg, self.rank, self.iteration))
        try:
            self.next_obs, _ = call_env(cfg.env_id, "reset", self.envs.reset, seed=first_env_seed(cfg, self.rank, self.iteration))
            check_finite(cfg.env_id, self.next_obs, 0.0, "reset")
        except EnvFailed as e:  # __init__ closes the envs
            raise self._with_checkpoint(e) from None
        self.reward_scaler.ret.zero_()  # every env starts a new episode (on a resume too): no discounted return carries over

    # ---- state -------------------------------------------------------------------------------
    def _seed(self, seed: int) -> None:
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)

    def state(self) -> dict:
        return {
            "config": self.cfg.to_dict(),
            "env": dataclasses.asdict(self.spec),
            "package_version": __version__,
            "policy": self.policy.state_dict(),
            "critic": self.critic.state_dict(),
            "optimizer": self.ppo.optimizer.state_dict(),
            "obs_norm": self.obs_norm.state_dict(),
            "reward_scaler": self.reward_scaler.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "numpy": _np_state(), "python": list(random.getstate()[1]),
                    **({"cuda": torch.cuda.get_rng_state(self.device)} if self.device.type == "cuda" else {})},
            "global_step": self.global_step,
            "iteration": self.iteration,
            "elapsed": self.elapsed,
            "recent_returns": list(self.recent_returns),
        }

    def _restore(self, ckpt: dict) -> None:
        self.policy.load_state_dict(ckpt["policy"])
        self.critic.load_state_dict(ckpt["critic"])
        self.ppo.optimizer.load_state_dict(ckpt["optimizer"])
        self.obs_norm.load_state_dict(ckpt["obs_norm"])
        self.reward_scaler.load_state_dict(ckpt["reward_scaler"])
        torch.set_rng_state(ckpt["rng"]["torch"])
        if self.device.type == "cuda" and "cuda" in ckpt["rng"]:  # the device's noise (x₀, the pairs) goes on, not from the seed
            torch.cuda.set_rng_state(ckpt["rng"]["cuda"], self.device)
        np.random.set_state(("MT19937", np.asarray(ckpt["rng"]["numpy"][0], dtype=np.uint32), *ckpt["rng"]["numpy"][1:]))
        random.setstate((3, tuple(ckpt["rng"]["python"]), None))
        self.global_step, self.iteration = int(ckpt["global_step"]), int(ckpt["iteration"])
        self.elapsed = float(ckpt["elapsed"])
        self.recent_returns.extend(ckpt["recent_returns"])

    def save(self) -> None:
        if self.rank == 0:
            save_checkpoint(self.run_dir / LATEST, self.state())

    # ---- the loop ----------------------------------------------------------------------------
    @torch.no_grad()
    def collect(self):
        """One rollout of ``num_steps`` vector steps into the buffer; returns the flattened batch."""
        cfg, dev = self.cfg, self.device
        for t in range(cfg.num_steps):
            env_action = self._policy_step(self._to_device(self.next_obs), self.buffer.index[t])
            self.next_obs, reward, term, trunc, info = call_env(cfg.env_id, "step", self.envs.step, env_action.cpu().numpy())
            check_finite(cfg.env_id, self.next_obs, reward)
            done = term | trunc
            reward = reward * cfg.reward_scale
            if cfg.reward_norm:
                reward = self.reward_scaler(reward, done, None if self.comm is None else self._union_stats)
            cut = trunc & ~term
            if cut.any():
                final = np.stack(info["final_obs"][cut])
                check_finite(cfg.env_id, final, 0.0)
                final = torch.as_tensor(final, dtype=torch.float32, device=dev)
                reward[cut] += cfg.gamma * self.critic(self.obs_norm(final)).cpu().numpy()
            self.buffer.add_env(t, reward, done)
            if "_episode" in info:
                self.recent_returns.extend(info["episode"]["r"][info["_episode"]].tolist())
        self.global_step += cfg.num_steps * cfg.num_envs * self.world_size
        last = self.critic(self.obs_norm(self._to_device(self.next_obs)))
        batch = self.buffer.finish(last, cfg.gamma, cfg.gae_lambda)
        batch.extras = self.policy.prepare_update(batch.obs, batch.actions, batch.extras)
        return batch

    def _with_checkpoint(self, e: EnvFailed) -> EnvFailed:
        """``e`` with what the run keeps: its last checkpoint, from which a resume continues once the env is fixed."""
        ckpt = self.run_dir / LATEST
        kept = (f"the last checkpoint ({ckpt}) is intact: fix the environment and continue with `fpo train --run-dir "
                f"{self.run_dir} --resume`" if ckpt.exists() else "no checkpoint was written")
        return EnvFailed(f"{e}; {kept}")

    def policy_step(self, obs: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """One vector step's tensor work: fold ``obs`` into the normaliser, normalise, act and value into the
        buffer's step ``t`` (``buffer.index[t]``); returns the actions for the envs, squashed into their box.

        Pure tensor work on fixed shapes, the buffer writes included (replayed as one CUDA graph on a GPU).
        """
        cfg = self.cfg
        if cfg.obs_norm:
            self.update_obs_norm(obs)
        obs_n = self.obs_norm(obs)
        action, extras = self.policy.act(obs_n)
        if cfg.flow_target == "executed":  # learn from the action the env ran, not the sample past the box
            action = action.clamp(self.low, self.high)
        self.buffer.store(t, obs_n, action, self.critic(obs_n), extras)
        return squash(action, self.low, self.high, cfg.squash)

    def update(self, batch, generator: torch.Generator | None = None) -> dict[str, float]:
        """One PPO update, on every core this process may use: the envs are idle meanwhile."""
        rollout_threads = torch.get_num_threads()
        torch.set_num_threads(self.update_threads)
        try:
            return self.ppo.update(batch, generator)
        finally:
            torch.set_num_threads(rollout_threads)

    def _check_finite(self, stats: dict[str, float]) -> None:
        """Raise ``TrainingDiverged`` if the update's losses, the networks or the normaliser hold NaN or inf, before any
        of it is logged or saved: the last checkpoint stays the last good one. Every rank raises if any rank would (each
        rank's losses are its own)."""
        losses = [k for k in ("policy_loss", "value_loss") if not np.isfinite(stats[k])]
        tensors = {"policy": self.policy.parameters(), "critic": self.critic.parameters(), "observation normaliser":
                   self.obs_norm.buffers()}
        finite = {name: torch.stack([torch.isfinite(t).all() for t in ts]).all() for name, ts in tensors.items()}
        broken = losses + [name for name, ok in zip(finite, torch.stack(list(finite.values())).tolist()) if not ok]
        if self.comm is not None and self.comm.mean(float(bool(broken))) > 0 and not broken:
            broken = ["another rank's loss or weights"]
        if broken:
            kept = (f"the last checkpoint ({self.run_dir / LATEST}) is from before it" if (self.run_dir / LATEST).exists()
                    else "no checkpoint was written")
            raise TrainingDiverged(
                f"training diverged in update {self.iteration + 1} (at {self.global_step:,} env steps): {', '.join(broken)} "
                f"not finite; nothing of it was saved and {kept}. Start a new run (another --run-dir) with a lower "
                f"--learning-rate, or check the reward and observation scales (--reward-scale, --init-log-std, the "
                f"environment's values): a resume would repeat the same updates")

    def _union_stats(self, x: np.ndarray) -> tuple[float, float, float]:
        """Count, mean and sum of squared deviations of every rank's ``x``: one return scale for all ranks."""
        mean, var, n = self.comm.batch_stats(torch.from_numpy(x).reshape(-1, 1))
        return n, float(mean), float(var) * n

    def update_obs_norm(self, obs: torch.Tensor) -> None:
        """Fold this step's observations (every rank's, when distributed) into the normaliser."""
        if self.comm is None:
            self.obs_norm.update(obs)
        else:
            self.obs_norm.merge(*self.comm.batch_stats(obs))

    def evaluate(self, episodes: int) -> np.ndarray:
        loaded = LoadedPolicy(self.policy, self.obs_norm, self.spec, self.cfg, self.global_step)
        self.policy.eval()
        try:
            return run_episodes(self.cfg.env_id, torch_actor(loaded), episodes, seed=10_000 + self.cfg.seed)
        finally:
            self.policy.train()

    def train(self) -> dict:
        """Train to ``total_steps``; returns a summary (returns before and after, speed, paths). Unlocks the run
        directory at the end."""
        try:
            return self._train()
        finally:
            unlock_run_dir(self.run_dir)

    def _train(self) -> dict:
        cfg = self.cfg
        lead = self.rank == 0
        steps_per_iter = cfg.batch_size * self.world_size
        # the run ends at the first whole update at or past total_steps, counted in steps from where it stands: a resume
        # may run on another number of processes (another batch per update)
        end = self.global_step + max(0, -(-(cfg.total_steps - self.global_step) // steps_per_iter)) * steps_per_iter
        num_iters = self.iteration + (end - self.global_step) // steps_per_iter
        if lead and self.iteration >= num_iters:
            log.warning("%s already has %s env steps (--total-steps %s): nothing to train; pass a larger --total-steps "
                        "to continue it", self.run_dir, f"{self.global_step:,}", f"{cfg.total_steps:,}")
        elif lead:
            cfg.write_yaml(self.run_dir / "config.yaml")
        metrics_path = self.run_dir / "metrics.csv"
        if lead and cfg.resume:
            _truncate_metrics(metrics_path, self.global_step)
        before = self.evaluate(cfg.eval_episodes) if lead and cfg.eval_episodes and self.global_step == 0 else None
        writer = _tensorboard(self.run_dir, self.global_step) if lead and cfg.tensorboard else None
        bar = _progress(cfg, self.global_step, end) if lead and cfg.progress else None
        gen = torch.Generator().manual_seed(cfg.seed * 7 + self.iteration)
        start_step, t_start = self.global_step, time.perf_counter()
        agent = launcher_pid()
        try:
            # SIGINT/SIGTERM: finish this update, save, stop (rank 0 announces it: torchrun signals every rank)
            with stop_requests(on_request=_stop_announcer(self.comm is not None) if lead else None) as stop:
                while self.iteration < num_iters:
                    t0 = time.perf_counter()
                    if cfg.anneal_lr:
                        for g in self.ppo.optimizer.param_groups:
                            g["lr"] = cfg.learning_rate * (1.0 - self.global_step / end)
                    try:
                        batch = self.collect()
                    except EnvFailed as e:
                        raise self._with_checkpoint(e) from None
                    t1 = time.perf_counter()
                    stats = self.update(batch, gen)
                    self._check_finite(stats)
                    t2 = time.perf_counter()
                    self.iteration += 1
                    self.elapsed += t2 - t0
                    row = {
                        "global_step": self.global_step,
                        "iteration": self.iteration,
                        "time_s": round(self.elapsed, 3),
                        "sps": round(steps_per_iter / (t2 - t0), 1),
                        "rollout_s": round(t1 - t0, 4),
                        "update_s": round(t2 - t1, 4),
                        "episode_return": float(np.mean(self.recent_returns)) if self.recent_returns else float("nan"),
                        "lr": self.ppo.optimizer.param_groups[0]["lr"],
                        **{k: stats.get(k, float("nan")) for k in ("policy_loss", "value_loss", "approx_kl", "clipfrac", "explained_variance")},
                    }
                    if lead:
                        _append_metrics(metrics_path, row)
                        if writer is not None:
                            for k, v in row.items():
                                if k not in ("global_step", "iteration"):
                                    writer.add_scalar(f"train/{k}", v, self.global_step)
                        if bar is not None and not bar.disable:
                            bar.update(steps_per_iter)
                            bar.set_postfix(sps=f"{row['sps']:.0f}", ret=_return_text(row["episode_return"]))
                        elif bar is not None and self.iteration % max(1, num_iters // 10) == 0:  # not a terminal: a line per 10%
                            log.info("%s/%s steps, %.0f steps/s, recent return %s", f"{self.global_step:,}", f"{end:,}",
                                     row["sps"], _return_text(row["episode_return"]))
                    orphaned = agent is not None and os.getppid() != agent  # torchrun killed: stop as on SIGTERM
                    if orphaned:  # every rank that sees it says so: on several machines it may not be rank 0's
                        log.warning("rank %s: torchrun (pid %d) is gone: stopping after this update to save a checkpoint",
                                    os.environ.get("RANK", "0"), agent)
                    wants = bool(stop) or orphaned
                    stopping = wants if self.comm is None else self.comm.mean(float(wants)) > 0  # all ranks agree
                    if self.iteration % cfg.checkpoint_every == 0 or self.iteration == num_iters or stopping:
                        self.save()
                    if stopping and self.iteration < num_iters:
                        raise TrainingInterrupted(f"stopped at {self.global_step:,} env steps with a checkpoint: continue "
                                                  f"with `fpo train --run-dir {self.run_dir} --resume`")
        finally:
            if bar is not None:
                bar.close()
            if writer is not None:
                writer.close()
            self.envs.close()
        wall = time.perf_counter() - t_start
        summary = {
            "run_dir": str(self.run_dir),
            "checkpoint": str(self.run_dir / LATEST),
            "global_step": self.global_step,
            "device": str(self.device) + (" (CUDA graphs)" if self.cuda_graphs else ""),
            "train_return": float(np.mean(self.recent_returns)) if self.recent_returns else float("nan"),
        }
        if self.global_step == start_step:  # a finished run resumed: nothing new to time, plot or evaluate
            return summary
        summary["steps_per_s"] = (self.global_step - start_step) / wall
        if lead:
            if metrics_path.exists():
                plot_learning_curve(metrics_path, self.run_dir / "learning_curve.png", f"{cfg.env_id} · {cfg.algo}")
                summary["plot"] = str(self.run_dir / "learning_curve.png")
            if before is not None:
                summary["eval_before"] = (float(before.mean()), float(before.std()))
            if cfg.eval_episodes:
                try:
                    after = self.evaluate(cfg.eval_episodes)
                except EnvFailed as e:  # not _with_checkpoint's advice: there is nothing left to resume
                    raise EnvFailed(f"{e}; training finished and its checkpoint ({self.run_dir / LATEST}) is saved: "
                                    f"evaluate it with `fpo eval {self.run_dir}` once the environment is fixed") from None
                summary["eval_after"] = (float(after.mean()), float(after.std()))
        return summary


def first_env_seed(cfg: TrainConfig, rank: int, iteration: int) -> int:
    """The seed of a rank's first env when it starts at ``iteration`` (env ``i`` gets this + ``i``). The ranks' ranges
    do not overlap (1000 apart as before, or ``num_envs`` apart when that is more); a resume moves them all on."""
    return cfg.seed + max(1000, cfg.num_envs) * rank + 7919 * iteration


def _written_by_fpo(run_dir: Path) -> bool:
    """Whether ``run_dir``'s files are an fpo run's: its config.yaml reads as one, a metrics.csv has our columns."""
    metrics = run_dir / "metrics.csv"
    try:
        values = TrainConfig.values_from_yaml(run_dir / "config.yaml")
        header = ["global_step", "iteration"]
        if metrics.exists():
            with open(metrics, newline="") as f:
                header = next(csv.reader(f), [])
    except (UsageError, OSError):
        return False
    return {"env_id", "algo", "total_steps"} <= set(values) and header[:2] == ["global_step", "iteration"]


def _check_unchanged(saved: TrainConfig, asked: TrainConfig) -> None:
    """A resumed run continues with its saved settings: refuse flags that would be silently dropped."""
    fixed = {f.name for f in dataclasses.fields(TrainConfig)} - set(RESUME_OVERRIDABLE) - {"resume", "config"}
    changed = [f"{k} {getattr(saved, k)!r} → {getattr(asked, k)!r}" for k in sorted(fixed) if getattr(saved, k) != getattr(asked, k)]
    if changed:
        raise UsageError(f"--resume continues the run with the settings it was trained with, but this command changes "
                         f"{'; '.join(changed)}: drop those options, or start a new run in another --run-dir (a resume may "
                         f"change only {', '.join(RESUME_OVERRIDABLE)})")


def _stop_announcer(distributed: bool) -> Callable[[int], None]:
    """The warning on the first SIGINT or SIGTERM. A second Ctrl-C stops a single process at once; under torchrun it
    reaches the ranks as SIGTERM, which stops them after the update too, so that promise is left out there."""
    again = "" if distributed else " (Ctrl-C again to stop at once, without it)"
    return lambda _signum: log.warning("stopping after this update to save a checkpoint%s", again)


def _core_share() -> int:
    """The cores this process may use, split among the ranks torchrun started on this machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))


def _warn_if_busy(threads: int) -> None:
    """An update on every core while other processes keep cores busy thrashes (13× slower measured)."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load >= 1.0:
        log.warning("other processes kept %.1f cores busy over the last minute; the update on all %d cores "
                    "may then run many times slower: pass --update-threads 1 (or your share of the cores)",
                    load, threads)


def _np_state() -> list:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return [keys.tolist(), int(pos), int(has_gauss), float(cached)]


def _append_metrics(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        if new:
            w.writeheader()
        w.writerow(row)
        f.flush()


def _truncate_metrics(path: Path, upto_step: int) -> None:
    """Drop rows logged after the checkpoint we resume from, atomically."""
    if not path.exists():
        return
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    keep = [r for r in rows if r.get("global_step", "").isdigit() and int(r["global_step"]) <= upto_step]
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(keep)
    os.replace(tmp, path)


def _tensorboard(run_dir: Path, step: int):
    from torch.utils.tensorboard import SummaryWriter

    # a resumed run drops what the killed one logged after its checkpoint at ``step`` (steps ≥ purge_step), not the step itself
    return SummaryWriter(str(run_dir / "tb"), purge_step=step + 1 if step else None)


def _return_text(value: float) -> str:
    """The recent episodic return for the progress line: "-" until an episode has ended."""
    return "-" if np.isnan(value) else f"{value:.1f}"


def _progress(cfg: TrainConfig, start: int, end: int):
    from tqdm import tqdm

    return tqdm(total=end, initial=start, unit="step", unit_scale=True, desc=f"{cfg.algo} {cfg.env_id}",
                dynamic_ncols=True, mininterval=0.5, disable=None)  # disable=None: no bar when output is not a terminal
