"""bench/sweep.py: variants run as `fpo train` subprocesses, are evaluated, reported, and skipped once done."""

import csv
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sweep.py"


def sweep(out: Path, *variants: str, task: str = "InvertedPendulum-v5") -> subprocess.CompletedProcess:
    args = [sys.executable, str(BENCH), "--task", task, "--steps", "2048", "--jobs", "2", "--threads", "1",
            "--eval-episodes", "1", "--out", str(out), *(a for v in variants for a in ("--variant", v)),
            "--seeds", "0"]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def test_sweep_runs_evaluates_reports_and_skips(tmp_path):
    out = tmp_path / "sweep"
    variants = ("base=--num-envs 4 --num-steps 256 --num-minibatches 2 --update-epochs 1",
                "lr=--num-envs 4 --num-steps 256 --num-minibatches 2 --update-epochs 1 --learning-rate 1e-4")
    r = sweep(out, *variants)
    assert r.returncode == 0, r.stderr
    with open(out / "sweep.csv", newline="") as f:
        rows = {row["variant"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"base", "lr"}
    assert rows["lr"]["flags"].endswith("--learning-rate 1e-4")
    assert all(int(row["steps"]) == 2048 and int(row["checkpoint_step"]) == 2048 for row in rows.values())
    assert "| base |" in (out / "sweep.md").read_text() and "| lr |" in (out / "sweep.md").read_text()

    again = sweep(out, *variants)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("skipped (evaluated)") == 2


def test_variant_without_a_name_is_refused(tmp_path):
    r = sweep(tmp_path / "sweep", "=--learning-rate 1e-4")
    assert r.returncode == 2
    assert "needs a name" in r.stderr and "Traceback" not in r.stderr


def test_unknown_task_or_flag_is_refused_before_any_run(tmp_path):
    out = tmp_path / "sweep"
    unknown_task = sweep(out, "base=", task="NoSuchEnv-v0")
    assert unknown_task.returncode == 2 and "unknown environment id 'NoSuchEnv-v0'" in unknown_task.stderr, unknown_task.stderr
    for variant, expected in (("typo=--learning-rat 1e-4", "--variant typo: `fpo train` refuses its flags"),
                              ("gauss=--dppo-sigma 0.1", "--variant gauss: --dppo-sigma 0.1 (from the command line or its "
                                                         "--config file) applies to --algo dppo only")):
        r = sweep(out, "base=", variant)
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not out.exists()  # no run started: not even the valid base variant's
