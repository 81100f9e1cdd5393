"""GridWorld across seeds: does FPO reach both goals from the saddle, with two action modes there?

    python bench/gridworld_seeds.py [--seeds 1 2 3 4 5 6] [--steps 122880]

Trains ``fpo_core.gridworld_plot.train_config("fpo", seed=s)`` per seed (what ``fpo gridworld`` trains for
seed 1, tests/core/test_gridworld.py for seed 3) and prints a markdown table: the share of 64 rollouts from the
saddle that reach each goal, and the dip between the vertical action's modes (density of 2,000 actions at
|a_y| < 0.25 over that of the weaker mode beyond ±0.5; the test asks for < 0.6) for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fpo_core.checkpoint import LoadedPolicy
from fpo_core.errors import UsageError
from fpo_core.gridworld_plot import dip_ratio, saddle_actions, saddle_rollouts, train_config
from fpo_core.trainer import Trainer
from fpo_sim.gridworld import BOTTOM, TOP


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    p.add_argument("--steps", type=int, default=122_880, help="env steps per run (fpo gridworld's default)")
    args = p.parse_args()
    if args.steps < 1:
        p.error(f"--steps must be >= 1, got {args.steps}")
    for seed in args.seeds:  # every seed's settings, before the first of the runs (a minute each) trains
        try:
            train_config("fpo", total_steps=args.steps, seed=seed).resolved()
        except UsageError as e:
            p.error(str(e))
    print("| seed | top goal | bottom goal | dip ratio |\n|---:|---:|---:|---:|")
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            run = Path(tmp) / "fpo"
            Trainer(train_config("fpo", total_steps=args.steps, seed=seed, run_dir=run)).train()
            loaded = LoadedPolicy.load(run)
            roll = saddle_rollouts(loaded, episodes=64)
            up = saddle_actions(loaded, 2000)[:, 1]
            print(f"| {seed} | {roll.fraction(TOP):.0%} | {roll.fraction(BOTTOM):.0%} | {dip_ratio(up):.2f} |", flush=True)


if __name__ == "__main__":
    main()
