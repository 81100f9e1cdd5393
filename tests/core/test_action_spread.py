"""bench/action_spread.py: a flow policy's spread is positive with random noise, and squashing never widens it."""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "action_spread.py"


def test_action_spread_reports_the_run(trained_run):
    r = subprocess.run([sys.executable, str(BENCH), str(trained_run), "--states", "20", "--samples", "8"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if line.startswith(f"| {trained_run} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[1:3] == ["fpo", "tanh"]
    raw, boxed = float(cells[3]), float(cells[4])
    # InvertedPendulum's box is [-3, 3]: tanh then scaling by 3 can spread a sample by at most 3× its raw spread.
    assert 0 < raw and 0 < boxed <= 3 * raw


def test_bad_input_is_one_line(tmp_path):
    for args, expected in (([str(tmp_path / "missing")], "action_spread.py: error: checkpoint"),
                           ([str(tmp_path), "--samples", "1"], "--samples >= 2")):
        r = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
