"""A one-change-at-a-time hyper-parameter sweep of one algorithm on one task.

    python bench/sweep.py --task Hopper-v5 --algo fpo --steps 300000 --jobs 2 --out runs/sweep_hopper \\
        --variant base= --variant lr1e-4="--learning-rate 1e-4" --variant clip0.1="--clip-coef 0.1"

Each variant is the task's preset plus the ``fpo train`` flags after ``=``. Runs go ``--jobs`` at a time
as ``fpo train`` subprocesses, each stopped after ``--time-limit`` seconds if unfinished (SIGTERM: it saves the
update in progress); a finished run is skipped and a started one resumes when the sweep is run again.
Every run's latest checkpoint is then evaluated (zero and random initial noise, K = 10 and K = 2) and
``OUT/sweep.csv`` / ``OUT/sweep.md`` list per variant and seed: the steps reached, the training return
at the step every run reached (comparable when the time limit cut runs short), and the evals with the step of
the checkpoint they used.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from learning import EVAL_COLUMNS, evaluate, training_curve

from fpo_core.checkpoint import LATEST, LoadedPolicy
from fpo_core.cli import train_config
from fpo_core.envs import make_env
from fpo_core.errors import UsageError


def parse_variant(text: str) -> tuple[str, list[str]]:
    name, _, flags = text.partition("=")
    if not name:
        raise argparse.ArgumentTypeError(f"variant {text!r} needs a name: NAME=FLAGS (FLAGS may be empty)")
    return name, shlex.split(flags)


def train_args(args: argparse.Namespace, flags: list[str], seed: int, run_dir: Path, threads: int) -> list[str]:
    """The ``fpo train`` options of one run: the sweep's settings, then the variant's flags."""
    return ["--env-id", args.task, "--algo", args.algo, "--seed", str(seed), "--total-steps", str(args.steps),
            "--run-dir", str(run_dir), "--no-progress", "--no-tensorboard", "--eval-episodes", "0", "--checkpoint-every", "2",
            "--update-threads", str(threads), *flags]


def check(p: argparse.ArgumentParser, args: argparse.Namespace, threads: int) -> None:
    """Refuse an unknown task and any variant whose flags ``fpo train`` would refuse, before the first run starts
    (a run that fails at once only says 'FAILED before its first checkpoint', the reason in its log)."""
    try:
        make_env(args.task).close()
    except UsageError as e:
        p.error(str(e))
    for name, flags in args.variant:
        for seed in args.seeds:
            try:
                train_config(train_args(args, flags, seed, args.out / "runs" / f"{name}__s{seed}", threads)).resolved()
            except UsageError as e:
                p.error(f"--variant {name}: {e}")
            except SystemExit:  # tyro has printed which option it could not parse
                p.error(f"--variant {name}: `fpo train` refuses its flags {' '.join(map(shlex.quote, flags))!r} (above)")


def train_and_eval(args: argparse.Namespace, name: str, flags: list[str], seed: int, threads: int) -> str:
    """Train (or resume) one run under the time limit, then evaluate its latest checkpoint in a subprocess."""
    run_dir = args.out / "runs" / f"{name}__s{seed}"
    log = args.out / "logs" / f"{run_dir.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    if (run_dir / "eval.json").exists():
        return f"{run_dir.name}: skipped (evaluated)"
    train = [sys.executable, "-m", "fpo_core.cli", "train", *train_args(args, flags, seed, run_dir, threads)]
    if (run_dir / LATEST).exists():
        train.append("--resume")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "flags.txt").write_text(" ".join(map(shlex.quote, flags)))
    with open(log, "a") as f:
        f.write(" ".join(map(shlex.quote, train)) + "\n")
        f.flush()
        proc = subprocess.Popen(train, stdout=f, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=args.time_limit)
        except subprocess.TimeoutExpired:  # SIGTERM: the run finishes its update and checkpoints it, then stops
            proc.terminate()
            try:
                proc.wait(timeout=300)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            f.write(f"stopped at the {args.time_limit} s limit\n")
    if not (run_dir / LATEST).exists():
        return f"{run_dir.name}: FAILED before its first checkpoint (see {log})"
    evaluate_cmd = [sys.executable, __file__, "--evaluate-run", str(run_dir), "--task", args.task, "--algo", args.algo,
                    "--seed", str(seed), "--eval-episodes", str(args.eval_episodes)]
    with open(log, "a") as f:
        rc = subprocess.run(evaluate_cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    return f"{run_dir.name}: {'evaluated' if rc == 0 else f'evaluation FAILED (see {log})'}"


def report(out: Path) -> str:
    """``sweep.csv`` and ``sweep.md`` from the evaluated runs in ``out``; returns the markdown."""
    runs = sorted(p.parent for p in out.glob("runs/*/eval.json"))
    if not runs:
        return "no evaluated runs\n"
    curves = {r: training_curve(r / "metrics.csv") for r in runs}
    runs = [r for r in runs if len(curves[r][0])]  # a run with no finished episode has no return to report
    if not runs:
        return "no evaluated run has finished an episode\n"
    common = min(s[-1] for s, _ in curves.values())
    rows = []
    for r in runs:
        steps, ret = curves[r]
        window = (steps > 0.9 * common) & (steps <= common)
        name, seed = r.name.rsplit("__s", 1)
        flags = (r / "flags.txt").read_text().strip() if (r / "flags.txt").exists() else ""
        rows.append({"variant": name, "flags": flags, "seed": int(seed), "steps": int(steps[-1]),
                     "train_return_at_common": float(np.nanmean(ret[window])), "train_return_last": float(ret[-1]),
                     **json.loads((r / "eval.json").read_text())})
    cols = list(rows[0])
    with open(out / "sweep.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    md = [f"Training return averaged over steps {int(0.9 * common):,}–{int(common):,} (reached by every run).\n",
          "| variant | flags | seed | steps reached | train return (common) | train return (last) | evaluated at | "
          + " | ".join(EVAL_COLUMNS) + " |",
          "|---|---|---:|---:|---:|---:|---:|" + "---:|" * len(EVAL_COLUMNS)]
    for x in sorted(rows, key=lambda x: -x["eval_zero_k10"]):
        md.append(f"| {x['variant']} | `{x['flags']}` | {x['seed']} | {x['steps']:,} | {x['train_return_at_common']:.0f} | {x['train_return_last']:.0f} | {x['checkpoint_step']:,} | "
                  + " | ".join("n/a" if x[c] is None else f"{x[c]:.0f}" for c in EVAL_COLUMNS) + " |")
    text = "\n".join(md) + "\n"
    (out / "sweep.md").write_text(text)
    return text


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--task", default="Hopper-v5")
    p.add_argument("--algo", default="fpo", choices=("fpo", "gaussian", "dppo"))
    p.add_argument("--variant", action="append", type=parse_variant, default=[], help="NAME=FLAGS, repeatable")
    p.add_argument("--seeds", nargs="+", type=int, default=[1])
    p.add_argument("--steps", type=int, default=300_000)
    p.add_argument("--time-limit", type=float, default=None, help="seconds per run before it is stopped")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=5)
    p.add_argument("--threads", type=int, default=0, help="torch threads per run's update (0 = its share of the cores)")
    p.add_argument("--out", type=Path, default=Path("runs/sweep"))
    p.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    p.add_argument("--evaluate-run", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.evaluate_run is not None:  # the per-run evaluation subprocess
        result = {"checkpoint_step": LoadedPolicy.load(args.evaluate_run).global_step,
                  **evaluate(args.evaluate_run, args.task, args.algo, args.seed, args.eval_episodes)}
        (args.evaluate_run / "eval.json").write_text(json.dumps(result))
        return
    if not args.variant:
        p.error("give at least one --variant NAME=FLAGS (base= for the preset alone)")
    if args.jobs < 1 or args.eval_episodes < 1:
        p.error("--jobs and --eval-episodes must be >= 1")
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.jobs)
    check(p, args, threads)
    work = [(name, flags, seed) for name, flags in args.variant for seed in args.seeds]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for line in pool.map(lambda w: train_and_eval(args, *w, threads), work):
            print(line, flush=True)
    print(report(args.out))


if __name__ == "__main__":
    main()
