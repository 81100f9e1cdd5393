"""bench/learning.py on a tiny grid: an interrupted run resumes, finished runs are skipped, the report is complete."""

import csv
import dataclasses
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

from fpo_core.trainer import Trainer

BENCH = Path(__file__).resolve().parents[2] / "bench" / "learning.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_learning", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_grid_resumes_skips_and_reports(tmp_path):
    bench = load_bench()
    out, steps, task = tmp_path / "grid", 2048, "InvertedPendulum-v5"
    # An interrupted cell: half the budget trained and checkpointed, no result yet.
    fpo = bench.Cell(task, "fpo", 0)
    Trainer(dataclasses.replace(bench.run_config(fpo, steps, out), total_steps=steps // 2)).train()
    assert not (fpo.run_dir(out) / "result.json").exists()

    rows = bench.run_grid([task], ["fpo", "gaussian"], [0], steps, out, eval_episodes=1)
    assert [(r["algo"], r["steps"]) for r in rows] == [("fpo", steps), ("gaussian", steps)]
    with open(fpo.run_dir(out) / "metrics.csv", newline="") as f:
        logged = [int(r["global_step"]) for r in csv.DictReader(f)]
    assert logged == [1024, 2048], "the resumed run should continue its curve, not restart it"

    results = {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")}
    assert len(results) == 2
    again = bench.run_grid([task], ["fpo", "gaussian"], [0], steps, out, eval_episodes=1)
    assert again == rows
    assert {p: p.stat().st_mtime_ns for p in out.glob("runs/*/result.json")} == results, "finished runs must be skipped"

    with open(out / "results.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == bench.COLUMNS
    assert bench.COLUMNS == ["task", "algo", "seed", "steps", "train_return", "eval_zero_k10", "eval_random_k10",
                             "eval_zero_k2", "eval_random_k2", "wall_s", "steps_per_s"]
    gauss = next(r for r in table if r["algo"] == "gaussian")
    assert gauss["eval_zero_k2"] == "n/a" and float(gauss["eval_zero_k10"]) > 0
    assert all(float(next(r for r in table if r["algo"] == "fpo")[c]) > 0 for c in bench.EVAL_COLUMNS)
    md = (out / "results.md").read_text()
    assert "| InvertedPendulum-v5 | fpo | 1 | 2,048 |" in md and "±" in md
    assert (out / "curves_InvertedPendulum-v5.png").stat().st_size > 0

    (out / "results.md").unlink()
    assert bench.build_report(out) == rows and (out / "results.md").exists()  # --report-only
    assert json.loads((fpo.run_dir(out) / "result.json").read_text())["seed"] == 0


def test_bad_input_is_one_line_before_any_cell(tmp_path):
    out = tmp_path / "grid"
    for args, expected in ((["--tasks", "NoSuchEnv-v0", "--algos", "fpo", "--seeds", "1"], "unknown environment id 'NoSuchEnv-v0'"),
                           (["--tasks", "InvertedPendulum-v5", "--seeds", "-1"], "--seed must be in [0, 2**31)"),
                           (["--report-only"], "holds no finished run")):
        r = subprocess.run([sys.executable, str(BENCH), "--steps", "1024", "--out", str(out), *args], capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert not out.exists()  # refused before the first cell made its run directory
