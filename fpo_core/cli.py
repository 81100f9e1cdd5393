"""The ``fpo`` command: ``fpo train``, ``fpo eval``, ``fpo export``, ``fpo demo``."""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Callable, Literal, Optional, TypeVar

import tyro

from fpo_core.config import APPLIES_TO, TrainConfig, algo_defaults, seed_problem
from fpo_core.demo import demo
from fpo_core.presets import preset
from fpo_core.errors import FpoError, TrainingInterrupted, UsageError

log = logging.getLogger("fpo")
A = TypeVar("A")


def train(argv: list[str]) -> int:
    """Train a policy (see ``fpo train --help``)."""
    cfg = train_config(argv)
    from fpo_core.device import resolve_device
    from fpo_core.distributed import from_environment
    from fpo_core.trainer import Trainer

    comm = from_environment(resolve_device(cfg.device))  # under torchrun: one rank of a group
    try:
        summary = Trainer(cfg, comm).train()
        if comm is not None:  # rank 0 still plots and evaluates: no rank tears the group down under another
            comm.barrier()
    except TrainingInterrupted:
        if comm is None or comm.lead:  # rank 0 reports where to resume; every rank stopped at the same update
            raise
        return 130
    finally:
        if comm is not None:
            comm.close()
    if comm is None or comm.lead:
        print(format_summary(summary))
    return 0


def train_config(argv: list[str]) -> TrainConfig:
    """The config ``fpo train ARGV`` runs: built-in defaults < the task's preset < the config file < flags (with
    ``--resume``: the run's own saved settings < flags)."""
    try:
        path = _config_path(argv)
        file_values = TrainConfig.values_from_yaml(path) if path else {}
    except UsageError:
        if "-h" not in argv and "--help" not in argv:
            raise
        path, file_values = None, {}  # --help wins over a bad --config: the help shows the built-in defaults
    probe = home(tyro.cli(TrainConfig, args=argv, default=dataclasses.replace(TrainConfig(), **file_values), prog="fpo train"))
    if path and probe.resume:
        raise UsageError("--config starts new runs; a resume continues with the run's own saved settings: "
                         "`fpo train --run-dir RUN --resume`")
    run_dir = probe.resolved_run_dir()
    saved = _saved_config(run_dir) if probe.resume else None
    if saved is not None:
        defaults = dataclasses.replace(saved, run_dir=run_dir)
    else:
        defaults = dataclasses.replace(TrainConfig(), **{**preset(probe.env_id, probe.algo), **file_values})
    cfg = home(tyro.cli(TrainConfig, args=argv, default=defaults, prog="fpo train"))
    if file_values.get("algo", cfg.algo) != cfg.algo and os.environ.get("RANK", "0") == "0":  # torchrun: rank 0 says it
        _warn_other_algos_defaults(path, file_values, cfg)
    return cfg


def _warn_other_algos_defaults(path: Path, file_values: dict, cfg: TrainConfig) -> None:
    """A run's config.yaml reused with another ``--algo`` holds its own algorithm's defaults (Gaussian PPO's clip 0.2,
    say): they stay, as the file sets them, but the line names them and the flags that give ``cfg.algo``'s own."""
    theirs, ours = (algo_defaults(cfg.env_id, algo) for algo in (file_values["algo"], cfg.algo))
    carried = [k for k, v in file_values.items()  # one the new algorithm refuses (APPLIES_TO): validate() names it
               if k in theirs and v == theirs[k] == getattr(cfg, k) and ours[k] not in (v, None)
               and cfg.algo in APPLIES_TO.get(k, (cfg.algo,))]
    if carried:
        flags = " ".join(f"--{k.replace('_', '-')} {_flag_value(ours[k])}" for k in carried)
        log.warning("%s was written for --algo %s and sets its defaults %s; they stay for this --algo %s run. For %s's "
                    "own, pass %s (or delete those lines)", path, file_values["algo"],
                    ", ".join(f"{k} {_flag_value(file_values[k])}" for k in carried), cfg.algo, cfg.algo, flags)


def _flag_value(v: object) -> str:
    """``v`` as a command line writes it (a tuple's items separated by spaces, as tyro reads them)."""
    return " ".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v)


def home(args: A) -> A:
    """The dataclass ``args`` with ``~`` expanded in its paths: the shell leaves ``--run-dir=~/runs`` and quoted paths
    alone, and a run went into a folder named ``~`` in the working directory."""
    return dataclasses.replace(args, **{f.name: getattr(args, f.name).expanduser() for f in dataclasses.fields(args)
                                        if isinstance(getattr(args, f.name), Path)})


def _saved_config(run_dir: Path) -> Optional[TrainConfig]:
    """The settings in ``run_dir``'s checkpoint (what the run is; its config.yaml may be gone), if it has one."""
    from fpo_core.checkpoint import LATEST, load_checkpoint  # torch: kept out of `fpo eval` of an ONNX model

    return TrainConfig.from_dict(load_checkpoint(run_dir, "cpu")["config"]) if (run_dir / LATEST).exists() else None


def _config_path(argv: list[str]) -> Optional[Path]:
    """The ``--config PATH`` or ``--config=PATH`` of a command line, if any."""
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1]).expanduser()
        if arg == "--config":
            if i + 1 >= len(argv) or argv[i + 1].startswith("--"):
                raise UsageError("--config needs a path to a YAML file")
            return Path(argv[i + 1]).expanduser()
    return None


def format_summary(s: dict) -> str:
    lines = [f"run directory : {s['run_dir']}", f"checkpoint    : {s['checkpoint']}",
             f"env steps     : {s['global_step']:,} at {s['steps_per_s']:,.0f} steps/s on {s['device']}" if "steps_per_s" in s
             else f"env steps     : {s['global_step']:,} (none trained: the run already has --total-steps)"]
    if "eval_before" in s:
        lines.append("eval return   : before {:.1f} ± {:.1f}".format(*s["eval_before"]) +
                     (" → after {:.1f} ± {:.1f}".format(*s["eval_after"]) if "eval_after" in s else ""))
    elif "eval_after" in s:
        lines.append("eval return   : {:.1f} ± {:.1f}".format(*s["eval_after"]))
    if "plot" in s:
        lines.append(f"learning curve: {s['plot']}")
    return "\n".join(lines)


@dataclass
class EvalArgs:
    """Evaluate a trained policy (run directory, checkpoint .pt, or exported .onnx) for N episodes."""

    path: tyro.conf.Positional[Path]
    """Run directory, checkpoint file or exported ONNX model."""
    episodes: int = 10
    """Episodes to run; prints the mean ± std of their returns."""
    num_steps: Optional[int] = None
    """Integration steps K, 1 to 10,000 (default: what the policy was trained with)."""
    integrator: Optional[str] = None
    """euler, midpoint, heun or rk4 (default: the training integrator)."""
    noise: Literal["zero", "random"] = "zero"
    """Initial noise: ``zero`` (deterministic) or ``random``."""
    seed: int = 0
    """Episode i is reset with seed ``seed + i`` (and seeds random noise)."""
    env_id: Optional[str] = None
    """Override the environment recorded with the policy."""
    video: Optional[Path] = None
    """Write the first episode as a video (mp4/gif; headless needs ``MUJOCO_GL=egl``)."""
    device: str = "cpu"
    """Torch device for checkpoints: cpu, cuda or auto (ONNX models run on ONNX Runtime's CPU provider)."""


def evaluate(argv: list[str]) -> int:
    """Evaluate a policy (see ``fpo eval --help``)."""
    args = home(tyro.cli(EvalArgs, args=argv, prog="fpo eval"))
    from fpo_core.evaluate import check_env_matches, load_actor, run_episodes

    if args.episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
    if (problem := seed_problem(args.seed)) is not None:
        raise UsageError(problem)
    actor, trained = load_actor(args.path, args.num_steps, args.integrator, args.noise, args.seed, args.device)
    if args.env_id and args.env_id != trained.env_id:
        check_env_matches(trained, args.env_id)
    returns = run_episodes(args.env_id or trained.env_id, actor, args.episodes, args.seed, args.video)
    print(f"return over {args.episodes} episodes: {returns.mean():.2f} ± {returns.std():.2f}")
    return 0


@dataclass
class ExportArgs:
    """Export a trained policy to ONNX: the velocity field (or Gaussian mean) with the normaliser and contract inside."""

    path: tyro.conf.Positional[Path]
    """Run directory or checkpoint file."""
    output: Annotated[Path, tyro.conf.arg(aliases=["-o"])] = Path("policy.onnx")
    """Where to write the model (a fused graph goes next to it as ``<name>.fused.onnx``)."""
    overwrite: bool = False
    """Replace existing output files."""
    fused_steps: Optional[int] = None
    """Also write the whole K-step sampler as one graph (used when deployment asks for K steps)."""
    fused_integrator: Optional[str] = None
    """Integrator of the fused graph: euler (when not given), midpoint, heun or rk4; needs --fused-steps."""


def export(argv: list[str]) -> int:
    """Export a trained policy to ONNX (see ``fpo export --help``)."""
    args = home(tyro.cli(ExportArgs, args=argv, prog="fpo export"))
    from fpo_core.export import export_policy

    c = export_policy(args.path, args.output, args.overwrite, args.fused_steps, args.fused_integrator)
    fused = f" + {c.fused_file} ({c.fused_steps} {c.fused_integrator} steps)" if c.fused_file else ""
    print(f"wrote {args.output}{fused}: {c.algorithm} {c.kind} policy for {c.env_id} after "
          f"{c.training_steps:,} env steps, obs {c.obs_dim} → act {c.act_dim}")
    return 0


@dataclass
class GridWorldArgs:
    """Train FPO and Gaussian PPO on the GridWorld (paper §4.1) and plot their actions at the saddle point."""

    out: Path = Path("runs/gridworld")
    """Folder for the two runs (``fpo/``, ``gaussian/``) and the plot ``saddle.png``."""
    steps: int = 122_880
    """Environment steps per run."""
    seed: int = 1
    """Training seed of both runs (as ``fpo train --seed``)."""
    fpo_run: Optional[Path] = None
    """An existing FPO run directory to plot instead of training one."""
    gaussian_run: Optional[Path] = None
    """An existing Gaussian PPO run directory to plot instead of training one."""
    update_threads: int = 0
    """Torch threads for the updates (0 = every core); 1 when other jobs keep this machine busy."""


def gridworld(argv: list[str]) -> int:
    """Train FPO and Gaussian PPO on the GridWorld and plot their actions at the saddle (see ``fpo gridworld --help``)."""
    args = home(tyro.cli(GridWorldArgs, args=argv, prog="fpo gridworld"))
    from fpo_core.checkpoint import LATEST, load_checkpoint
    from fpo_core.gridworld_plot import ENV_ID, plot_saddle, train_config
    from fpo_core.trainer import Trainer

    if args.steps < 1:
        raise UsageError(f"--steps must be >= 1, got {args.steps}")
    if args.out.exists() and not args.out.is_dir():  # the runs' own check named --run-dir, which this command has not
        raise UsageError(f"--out {args.out} is a file; choose a folder for the two runs and saddle.png")
    given = {"fpo": args.fpo_run, "gaussian": args.gaussian_run}
    for algo, run in given.items():  # every check before the first training run
        if run is None:
            if (args.out / algo / LATEST).exists():
                raise UsageError(f"{args.out / algo} already holds a run: plot it with --{algo}-run {args.out / algo}, or "
                                 f"choose another --out")
            continue
        saved = load_checkpoint(run)["config"]
        if saved["env_id"] != ENV_ID:
            raise UsageError(f"{run} was trained on {saved['env_id']}; the saddle plot needs a {ENV_ID} run")
        if saved["algo"] != algo:  # a run of the other algorithm would be plotted under this one's name
            raise UsageError(f"--{algo}-run {run} was trained with --algo {saved['algo']}; pass a run trained with --algo {algo}")
    runs = {}
    for algo, run in given.items():
        cfg = dataclasses.replace(train_config(algo, args.steps, args.seed, args.out / algo), update_threads=args.update_threads)
        runs[algo] = run or Path(Trainer(cfg).train()["run_dir"])
    png = args.out / "saddle.png"
    result = plot_saddle(runs["fpo"], runs["gaussian"], png)
    for name, r in result.items():
        print(f"{name:<13}: rollouts from the saddle reach top {r['top']:.0%}, bottom {r['bottom']:.0%}")
    print(f"plot         : {png}")
    return 0


COMMANDS: dict[str, Callable[[list[str]], int]] = {"train": train, "eval": evaluate, "export": export, "demo": demo, "gridworld": gridworld}


def usage() -> str:
    names = "\n".join(f"  {n:<10} {(fn.__doc__ or '').strip().splitlines()[0]}" for n, fn in COMMANDS.items())
    return f"usage: fpo COMMAND [options]\n\ncommands:\n{names}\n\n`fpo COMMAND --help` explains every option; `fpo --version` prints the version."


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(os.environ.get("FPO_LOG", "INFO"))
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):  # what a bug report needs first
        from fpo_core import __version__

        print(f"fpo {__version__}")
        return 0
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        print(f"fpo: unknown command {argv[0]!r}" + (f"; did you mean `fpo {close[0]}`?" if close else "") + f"\n\n{usage()}",
              file=sys.stderr)
        return 2
    try:
        return cmd(argv[1:])
    except FpoError as e:
        print(f"fpo {argv[0]}: error: {e}", file=sys.stderr)
        return 2
    except TrainingInterrupted as e:
        print(f"fpo {argv[0]}: {e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print(f"fpo {argv[0]}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
