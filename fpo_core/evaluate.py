"""Running episodes with any ``act(obs) -> env action`` function (checkpoint or exported model).

torch is imported only for checkpoints: evaluating an exported model needs numpy and ONNX Runtime alone.
"""

from __future__ import annotations

import tempfile
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, NamedTuple

import numpy as np
from gymnasium.error import DependencyNotInstalled

from fpo_core.actions import squash
from fpo_core.envs import CheckedEnv, EnvSpec, call_env, check_finite, make_env
from fpo_core.errors import UsageError

if TYPE_CHECKING:
    from fpo_core.checkpoint import LoadedPolicy

Actor = Callable[[np.ndarray], np.ndarray]
VIDEO_SUFFIXES = (".mp4", ".gif")


def torch_actor(loaded: LoadedPolicy, num_steps: int | None = None, integrator: str | None = None, noise: str = "zero") -> Actor:
    """``act`` for a checkpointed policy: normalise, sample, squash into the action box."""
    import torch

    spec, dev = loaded.spec, loaded.obs_norm.mean.device
    low, high = np.asarray(spec.action_low), np.asarray(spec.action_high)

    @torch.no_grad()
    def act(obs: np.ndarray) -> np.ndarray:
        o = torch.as_tensor(np.asarray(obs, dtype=np.float32).reshape(1, -1), device=dev)
        raw = loaded.policy.sample(loaded.obs_norm(o), noise, num_steps, integrator)
        return squash(raw.cpu().numpy()[0].astype(np.float64), low, high, loaded.config.squash)

    return act


def run_episodes(env_id: str, act: Actor, episodes: int, seed: int, video: Path | None = None) -> np.ndarray:
    """Returns of ``episodes`` episodes; episode i is reset with seed ``seed + i`` (``video``: the first, as mp4 or gif)."""
    if video is not None:
        _check_video_path(video)
        probe = make_env(env_id)
        modes = probe.metadata.get("render_modes", [])
        probe.close()
        if "rgb_array" not in modes:
            raise UsageError(f"cannot record a video of {env_id}: it renders no images (render modes: {modes or 'none'})")
    env = CheckedEnv.make(env_id, **({"render_mode": "rgb_array"} if video else {}))  # may take no render_mode
    frames: list[np.ndarray] = []
    returns = []
    try:
        for i in range(episodes):
            obs, _ = call_env(env_id, "reset", env.reset, seed=seed + i)
            check_finite(env_id, obs, 0.0, "reset")
            total, done = 0.0, False
            while not done:
                obs, reward, term, trunc, _ = call_env(env_id, "step", env.step, act(obs))
                done = term or trunc
                check_finite(env_id, 0.0 if done else obs, reward)  # an episode's last observation goes unused
                total += float(reward)
                if video is not None and i == 0:
                    frames.append(_render(env))
            returns.append(total)
    finally:
        env.close()
    if video is not None:
        import imageio

        fps = 1.0 / env.unwrapped.dt if hasattr(env.unwrapped, "dt") else env.metadata.get("render_fps", 30)
        try:
            video.parent.mkdir(parents=True, exist_ok=True)
            imageio.mimsave(video, frames, fps=int(round(fps)))
        except OSError as e:  # ffmpeg's pipe breaks when it cannot open the file: its errno says nothing about why
            why = "the video writer could not create it" if isinstance(e, BrokenPipeError) else (e.strerror or str(e))
            raise UsageError(f"cannot write video {video}: {why}; choose another --video") from None
    return np.asarray(returns)


def load_actor(path: Path, num_steps: int | None, integrator: str | None, noise: str, seed: int,
               device: str = "cpu") -> tuple[Actor, Trained]:
    """An actor and what it was trained on, from a run directory, checkpoint or exported ``.onnx`` model."""
    from fpo_core.contract import check_step_count
    from fpo_core.runtime import FlowPolicy, is_onnx_model  # torch-free

    if num_steps is not None:
        check_step_count(num_steps, "--num-steps")
    if Path(path).suffix.lower() == ".onnx" or (Path(path).is_file() and is_onnx_model(path)):  # model.bin too
        policy = FlowPolicy.load(path)
        policy.seed(seed)
        c = policy.contract
        _check_flow_options(num_steps, integrator, c.kind, c.algorithm, path)
        return partial(policy.act, num_steps=num_steps, integrator=integrator, noise=noise), Trained(c.env_id, c.obs_dim, c.act_dim)
    import torch

    from fpo_core import integrators
    from fpo_core.checkpoint import LoadedPolicy
    from fpo_core.device import resolve_device

    loaded = LoadedPolicy.load(path, resolve_device(device))
    _check_flow_options(num_steps, integrator, loaded.policy.kind, loaded.config.algo, path)
    try:
        integrators.check(integrator or loaded.config.integrator, loaded.config.flow_steps if num_steps is None else num_steps)
    except ValueError as e:
        raise UsageError(str(e)) from None
    torch.manual_seed(seed)
    s = loaded.spec
    return torch_actor(loaded, num_steps, integrator, noise), Trained(s.env_id, s.obs_dim, s.act_dim)


class Trained(NamedTuple):
    """The env a policy was trained on and its sizes."""

    env_id: str
    obs_dim: int
    act_dim: int


def check_env_matches(trained: Trained, env_id: str) -> None:
    """Refuse to run a policy in an env whose observation or action size differs from the one it was trained on."""
    env = make_env(env_id)
    try:
        other = EnvSpec.of(env, env_id)
    finally:
        env.close()
    if (other.obs_dim, other.act_dim) != (trained.obs_dim, trained.act_dim):
        raise UsageError(f"{env_id} has observations of {other.obs_dim} and actions of {other.act_dim} values; the policy "
                         f"was trained on {trained.env_id} with {trained.obs_dim} and {trained.act_dim}: choose an env of "
                         f"those sizes")


def _check_flow_options(num_steps: int | None, integrator: str | None, kind: str, algo: str, path: Path) -> None:
    if (num_steps is not None or integrator is not None) and kind != "flow":
        raise UsageError(f"--num-steps and --integrator apply to flow policies; {path} holds a {algo} policy")


def _check_video_path(video: Path) -> None:
    """Fail before the episodes, not after: a video name we can write, in a folder we may write to."""
    if video.suffix.lower() not in VIDEO_SUFFIXES:
        raise UsageError(f"cannot write video {video}: use a name ending in {' or '.join(VIDEO_SUFFIXES)}")
    if video.is_dir():
        raise UsageError(f"cannot write video {video}: it is an existing directory; name a file, e.g. {video / 'episode.mp4'}")
    folder = next((p for p in video.resolve().parents if p.exists()), None)
    if folder is None or not folder.is_dir() or not _can_create_in(folder):
        raise UsageError(f"cannot write video {video}: {folder} is not a writable folder; choose another --video")


def _can_create_in(folder: Path) -> bool:
    """Whether a file can be created in ``folder``: tried, since ``os.access`` says yes to root everywhere (read-only
    or virtual filesystems included); an anonymous temporary file leaves nothing behind."""
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _render(env) -> np.ndarray:
    try:
        return env.render()
    except DependencyNotInstalled as e:  # e.g. pygame for classic-control envs; the message names the pip extra
        raise UsageError(f"cannot render for the video: {e}") from None
    except Exception as e:  # mujoco.FatalError without an OpenGL platform, or a backend that fails to start
        if type(e).__name__ != "FatalError":
            raise
        raise UsageError(f"cannot render for the video ({e}); headless machines need MUJOCO_GL=egl (or osmesa), "
                         f"desktops MUJOCO_GL=glfw") from None
