"""Learning quality: a task × algorithm × seed grid at a fixed env-step budget, with evals, curves and a table.

    python bench/learning.py [--tasks HalfCheetah-v5 Hopper-v5 Walker2d-v5 Ant-v5] [--algos fpo gaussian dppo] [--seeds 1 2 3]
                             [--steps 1000000] [--out runs/learning] [--eval-episodes 10] [--jobs 1]
    python bench/learning.py --out runs/learning --report-only

Each run trains with the task's preset (``fpo_core.presets``) in ``OUT/runs/<task>__<algo>__s<seed>``
and is then evaluated with zero and random initial noise at K = 10 and K = 2 integration steps
(Gaussian: K does not apply, its K = 2 cells are ``n/a``). Resumable: a run with ``result.json``
is skipped, one with a checkpoint resumes from it. ``--jobs N`` runs N cells at once as
subprocesses. Writes ``OUT/results.csv``, ``OUT/results.md`` and ``OUT/curves_<task>.png``.
A finished run is not retrained for another ``--steps``: use another ``--out`` for another budget.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import subprocess
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from fpo_core.checkpoint import LATEST, LoadedPolicy
from fpo_core.config import TrainConfig
from fpo_core.envs import make_env
from fpo_core.errors import UsageError
from fpo_core.evaluate import run_episodes, torch_actor
from fpo_core.presets import LOCOMOTION, preset
from fpo_core.trainer import Trainer

ALGOS = ("fpo", "gaussian", "dppo")
EVALS = (("zero", 10), ("random", 10), ("zero", 2), ("random", 2))
EVAL_COLUMNS = [f"eval_{noise}_k{k}" for noise, k in EVALS]
COLUMNS = ["task", "algo", "seed", "steps", "train_return", *EVAL_COLUMNS, "wall_s", "steps_per_s"]


@dataclasses.dataclass(frozen=True)
class Cell:
    task: str
    algo: str
    seed: int

    def run_dir(self, out: Path) -> Path:
        return Path(out) / "runs" / f"{self.task.replace('/', '_')}__{self.algo}__s{self.seed}"


def run_config(cell: Cell, steps: int, out: Path, update_threads: int = 0) -> TrainConfig:
    """The task's preset with this cell's env, algorithm, seed and budget; no in-trainer evals or TensorBoard."""
    return TrainConfig(**{**preset(cell.task, cell.algo), "env_id": cell.task, "algo": cell.algo, "seed": cell.seed,
                          "total_steps": steps, "run_dir": cell.run_dir(out), "progress": False, "tensorboard": False,
                          "eval_episodes": 0, "update_threads": update_threads})


def evaluate(run_dir: Path, task: str, algo: str, seed: int, episodes: int) -> dict[str, Optional[float]]:
    """Mean eval return per (noise, K); ``None`` where K does not apply (Gaussian, K ≠ 10)."""
    loaded = LoadedPolicy.load(run_dir)
    out: dict[str, Optional[float]] = {}
    for (noise, k), col in zip(EVALS, EVAL_COLUMNS):
        if algo == "gaussian" and k != 10:
            out[col] = None
            continue
        torch.manual_seed(seed)
        out[col] = float(run_episodes(task, torch_actor(loaded, k, None, noise), episodes, seed=10_000 + seed).mean())
    return out


def last_metrics(run_dir: Path) -> dict:
    with open(run_dir / "metrics.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    return rows[-1]


def run_cell(cell: Cell, steps: int, out: Path, eval_episodes: int, update_threads: int = 0) -> str:
    """Train (or resume) and evaluate one cell unless it is finished; returns what was done."""
    run_dir = cell.run_dir(out)
    if (run_dir / "result.json").exists():
        return "skipped (finished)"
    resume = (run_dir / LATEST).exists()  # a cell started but never checkpointed starts afresh (prepare_run_dir)
    cfg = dataclasses.replace(run_config(cell, steps, out, update_threads), resume=resume)
    Trainer(cfg).train()
    last = last_metrics(run_dir)
    wall = float(last["time_s"])
    steps_done = int(last["global_step"])
    result = {**dataclasses.asdict(cell), "steps": steps_done, "train_return": float(last["episode_return"]),
              **evaluate(run_dir, cell.task, cell.algo, cell.seed, eval_episodes),
              "wall_s": round(wall, 1), "steps_per_s": round(steps_done / wall, 1)}
    tmp = run_dir / "result.json.tmp"
    tmp.write_text(json.dumps(result, indent=1))
    os.replace(tmp, run_dir / "result.json")
    return "resumed and finished" if resume else "trained"


def _subprocess(cell: Cell, steps: int, out: Path, eval_episodes: int, update_threads: int) -> str:
    log = Path(out) / "logs" / f"{cell.run_dir(out).name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--tasks", cell.task, "--algos", cell.algo,
           "--seeds", str(cell.seed), "--steps", str(steps), "--out", str(out), "--eval-episodes", str(eval_episodes),
           "--update-threads", str(update_threads), "--no-report"]
    with open(log, "a") as f:
        rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
    if rc != 0:
        raise RuntimeError(f"exit status {rc}; see {log}")
    return f"done (log {log})"


def run_grid(tasks: list[str], algos: list[str], seeds: list[int], steps: int, out: Path, eval_episodes: int = 10,
             jobs: int = 1, report: bool = True, update_threads: int = 0) -> list[dict]:
    """Run every unfinished cell (``jobs`` at a time), then rebuild the report; returns the results rows."""
    cells = [Cell(t, a, s) for t in tasks for a in algos for s in seeds]
    worker = run_cell if jobs <= 1 else _subprocess
    if jobs > 1 and not update_threads:  # the jobs share the cores during their updates
        update_threads = max(1, (os.cpu_count() or 1) // jobs)
    failed = []

    def one(i_cell: tuple[int, Cell]) -> None:
        i, cell = i_cell
        t0 = time.perf_counter()
        try:
            what = worker(cell, steps, out, eval_episodes, update_threads)
        except Exception as e:  # one failed cell must not lose the others
            failed.append(cell)
            what = f"FAILED: {type(e).__name__}: {e}"
        took = time.perf_counter() - t0
        print(f"[{i + 1}/{len(cells)}] {cell.task} {cell.algo} s{cell.seed}: {what} ({took:.0f} s)", flush=True)

    if jobs <= 1:  # in this process, on the main thread (Ctrl-C stops it at once; the checkpoint stays)
        for item in enumerate(cells):
            one(item)
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, enumerate(cells)))
    rows = build_report(out) if report else []
    if failed:
        raise RuntimeError(f"{len(failed)} run(s) failed: " + ", ".join(f"{c.task}/{c.algo}/s{c.seed}" for c in failed))
    return rows


# ---- report -------------------------------------------------------------------------------------
def _task_order(task: str) -> tuple:
    return (LOCOMOTION.index(task) if task in LOCOMOTION else len(LOCOMOTION), task)


def _row_order(r: dict) -> tuple:
    return (*_task_order(r["task"]), ALGOS.index(r["algo"]) if r["algo"] in ALGOS else len(ALGOS), r["algo"], r["seed"])


def build_report(out: Path) -> list[dict]:
    """``results.csv``, ``results.md`` and one learning-curve PNG per task from what ``out`` holds."""
    out = Path(out)
    rows = sorted((json.loads(p.read_text()) for p in out.glob("runs/*/result.json")), key=_row_order)
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows({k: ("n/a" if r.get(k) is None else r[k]) for k in COLUMNS} for r in rows)
    (out / "results.md").write_text(markdown_table(rows))
    plot_curves(out)
    return rows


def _mean_std(values: list[Optional[float]]) -> str:
    v = [x for x in values if x is not None]
    digits = 2 if v and max(abs(x) for x in v) < 10 else 1  # success rates need the second digit
    return "n/a" if not v else f"{np.mean(v):.{digits}f} ± {np.std(v):.{digits}f}"


def markdown_table(rows: list[dict]) -> str:
    """Mean ± std across seeds per task and algorithm."""
    head = ("| task | algo | seeds | steps | train return | eval zero K=10 | eval random K=10 | eval zero K=2 "
            "| eval random K=2 | zero K=2 / K=10 | steps/s |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["algo"]), []).append(r)
    lines = []
    for (task, algo), g in groups.items():
        col = {c: [r[c] for r in g] for c in ("train_return", *EVAL_COLUMNS, "steps_per_s")}
        z10, z2 = [x for x in col["eval_zero_k10"] if x is not None], [x for x in col["eval_zero_k2"] if x is not None]
        keep = f"{np.mean(z2) / np.mean(z10):.2f}" if z2 and z10 and np.mean(z10) > 0 else "n/a"
        cells = [task, algo, str(len(g)), f"{int(np.mean([r['steps'] for r in g])):,}", _mean_std(col["train_return"]),
                 *(_mean_std(col[c]) for c in EVAL_COLUMNS), keep, f"{np.mean(col['steps_per_s']):,.0f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


def training_curve(metrics: Path) -> tuple[np.ndarray, np.ndarray]:
    """(env steps, recent training return) from a run's ``metrics.csv``, rows without a return dropped."""
    with open(metrics, newline="") as f:
        pts = [(int(r["global_step"]), float(r["episode_return"] or "nan")) for r in csv.DictReader(f)]
    a = np.array([p for p in pts if p[1] == p[1]], dtype=float).reshape(-1, 2)
    return a[:, 0], a[:, 1]


def plot_curves(out: Path) -> None:
    """Per task: training return (recent-episode mean) against env steps, mean and min–max across seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_task: dict[str, dict[str, list[Path]]] = {}
    for m in sorted(Path(out).glob("runs/*/metrics.csv")):
        task_part, algo, _ = m.parent.name.rsplit("__", 2)
        cfg = m.parent / "config.yaml"
        task = TrainConfig.values_from_yaml(cfg)["env_id"] if cfg.exists() else task_part
        by_task.setdefault(task, {}).setdefault(algo, []).append(m)
    for task, algos in by_task.items():
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for algo, files in sorted(algos.items()):
            curves = [c for c in map(training_curve, files) if len(c[0])]
            if not curves:
                continue
            grid = np.linspace(0, max(c[0][-1] for c in curves), 100)
            ys = np.array([np.where(grid <= s[-1], np.interp(grid, s, r), np.nan) for s, r in curves])
            with warnings.catch_warnings():  # steps past a shorter seed's end are NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                mean, lo, hi = np.nanmean(ys, 0), np.nanmin(ys, 0), np.nanmax(ys, 0)
            (line,) = ax.plot(grid, mean, label=f"{algo} ({len(curves)} seed{'s' if len(curves) > 1 else ''})")
            ax.fill_between(grid, lo, hi, color=line.get_color(), alpha=0.2)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("training return (recent mean)")
        ax.set_title(task)
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(Path(out) / f"curves_{task.replace('/', '_')}.png", dpi=100)
        plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", nargs="+", default=list(LOCOMOTION))
    p.add_argument("--algos", nargs="+", default=list(ALGOS), choices=ALGOS)
    p.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    p.add_argument("--steps", type=int, default=1_000_000, help="env steps per run")
    p.add_argument("--out", type=Path, default=Path("runs/learning"))
    p.add_argument("--eval-episodes", type=int, default=10, help="episodes per (noise, K) evaluation")
    p.add_argument("--jobs", type=int, default=1, help="runs at once, as subprocesses when > 1")
    p.add_argument("--report-only", action="store_true", help="rebuild CSV, table and plots from what --out holds")
    p.add_argument("--no-report", action="store_true", help="train and evaluate only (used by --jobs subprocesses)")
    p.add_argument("--update-threads", type=int, default=0, help="torch threads per run's update (0 = its share of the cores)")
    args = p.parse_args()
    if args.eval_episodes < 1 or args.steps < 1 or args.jobs < 1:
        p.error("--eval-episodes, --steps and --jobs must be >= 1")
    if args.report_only:
        if not any(args.out.glob("runs/*/result.json")):
            p.error(f"{args.out} holds no finished run (runs/*/result.json) to report")
        rows = build_report(args.out)
    else:
        try:  # every task and cell's settings, before the first cell trains (one unknown id would fail all its cells)
            for task in args.tasks:
                make_env(task).close()
                for algo in args.algos:
                    for seed in args.seeds:
                        run_config(Cell(task, algo, seed), args.steps, args.out, args.update_threads).resolved()
        except UsageError as e:
            p.error(str(e))
        rows = run_grid(args.tasks, args.algos, args.seeds, args.steps, args.out, args.eval_episodes, args.jobs,
                        report=not args.no_report, update_threads=args.update_threads)
    if rows:
        print(f"\n{len(rows)} finished run(s); {args.out / 'results.csv'}, {args.out / 'results.md'}\n")
        print(markdown_table(rows))


if __name__ == "__main__":
    main()
