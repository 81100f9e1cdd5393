"""bench/gridworld_seeds.py trains per seed and prints one table row each; the dip ratio it reports."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np

from fpo_core.gridworld_plot import dip_ratio

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_dip_ratio_separates_two_modes_from_one():
    rng = np.random.default_rng(0)
    two = np.concatenate([rng.uniform(-1, -0.6, 500), rng.uniform(0.6, 1, 500)])
    one = rng.uniform(-1, 1, 1000)
    assert dip_ratio(two) == 0.0 and 0.8 < dip_ratio(one) < 1.2
    assert dip_ratio(np.full(10, 0.9)) == float("inf")  # one mode only


def test_one_row_per_seed():
    r = subprocess.run([sys.executable, str(BENCH / "gridworld_seeds.py"), "--seeds", "1", "2", "--steps", "4096"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = re.findall(r"^\| (\d) \| (\d+)% \| (\d+)% \| ([\d.]+|inf) \|$", r.stdout, re.M)
    assert [row[0] for row in rows] == ["1", "2"]
    assert all(int(top) + int(bottom) <= 100 for _, top, bottom, _ in rows)


def test_bad_sizes_are_one_line_before_any_run():
    for args, expected in ((["--steps", "0"], "--steps must be >= 1"), (["--seeds", "1", "-1"], "--seed must be in [0, 2**31)")):
        r = subprocess.run([sys.executable, str(BENCH / "gridworld_seeds.py"), *args], capture_output=True, text=True, timeout=120)
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
        assert "| seed |" not in r.stdout  # refused before the table (and seed 1's run) started
