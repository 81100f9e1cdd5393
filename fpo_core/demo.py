"""``fpo demo``: train FPO on the default task, evaluate it, export it, deploy it through ROS 2."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import tyro

from fpo_core.config import TrainConfig
from fpo_core.contract import check_step_count
from fpo_core.errors import UsageError


@dataclass
class DemoArgs:
    """Train FPO on InvertedPendulum-v5 (under a minute of training on 2 cores), evaluate, export, run through ROS 2."""

    run_dir: Optional[Path] = None
    """Where the run goes (default ``runs/demo_<time>``)."""
    total_steps: int = TrainConfig.total_steps
    """Environment steps to train for (across all envs)."""
    seed: int = 1
    """Training seed (as ``fpo train --seed``); the ROS 2 episodes are seeded from 0 whatever this is."""
    update_threads: int = TrainConfig.update_threads
    """Torch threads for the update (0 = every core); 1 when other jobs keep this machine busy."""
    episodes: int = 5
    """Episodes for each ROS 2 closed-loop evaluation."""
    ros_steps: tuple[int, ...] = (10, 2)
    """Integration step counts to deploy at."""
    ros: bool = True
    """Run the ROS 2 part (needs rclpy: the setup script installs it)."""


def demo(argv: list[str]) -> int:
    """Train, evaluate, export and deploy the default FPO policy (see ``fpo demo --help``)."""
    from fpo_core.checkpoint import LATEST
    from fpo_core.cli import format_summary, home
    from fpo_core.export import export_policy
    from fpo_core.trainer import Trainer

    args = home(tyro.cli(DemoArgs, args=argv, prog="fpo demo"))
    check_args(args)  # before the minutes of training the ROS part would otherwise fail after
    run_dir = args.run_dir or Path("runs") / time.strftime("demo_%Y%m%d-%H%M%S")
    if (run_dir / LATEST).exists():
        raise UsageError(f"{run_dir} already holds a run; choose another --run-dir (or none: a new folder under runs/)")
    print(f"== 1/3 training FPO on InvertedPendulum-v5 for {args.total_steps:,} steps → {run_dir}")
    cfg = TrainConfig(total_steps=args.total_steps, seed=args.seed, run_dir=run_dir, update_threads=args.update_threads)
    summary = Trainer(cfg).train()
    print(format_summary(summary))
    onnx = run_dir / "policy.onnx"
    export_policy(run_dir, onnx)
    print(f"\n== 2/3 exported {onnx} (velocity field + normaliser + contract; `fpo eval {onnx}` needs no torch)")
    if not args.ros:
        return 0
    try:
        from fpo_ros import closed_loop
    except ImportError as e:
        print(f"\n== 3/3 skipped: ROS 2 is not importable ({e}); run scripts/setup.sh or source your ROS 2 setup.bash")
        return 0
    print(f"\n== 3/3 ROS 2: sim_node (lockstep) + policy_node, {args.episodes} episodes per step count, zero noise")
    print("| steps K | return (mean ± std) | node inference p50 | p99 |")
    print("|---:|---:|---:|---:|")
    for k in args.ros_steps:
        d = closed_loop.run(onnx, k, args.episodes, seed=0)
        print(f"| {k} | {d.returns.mean():.1f} ± {d.returns.std():.1f} | {d.latency_p50_us:.0f} µs | {d.latency_p99_us:.0f} µs |", flush=True)
    print(f"\nnext: ros2 launch fpo_ros policy.launch.py model_path:={onnx.resolve()} num_steps:=2   (docs/ROS.md)")
    return 0


def check_args(args: DemoArgs) -> None:
    """Raise ``UsageError`` for an option the ROS 2 evaluation would refuse (or report as nan) after training."""
    if args.episodes < 1:
        raise UsageError(f"--episodes must be >= 1, got {args.episodes}")
    for k in args.ros_steps:
        check_step_count(k, "--ros-steps")
