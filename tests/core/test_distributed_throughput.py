"""bench/distributed_throughput.py refuses, in one line and before starting torchrun, what its ranks could not run."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "distributed_throughput.py"


@pytest.mark.parametrize("args, expected", [
    (["--env-id", "NoSuchEnv-v0"], "unknown environment id 'NoSuchEnv-v0'"),
    (["--env-id", "InvertedPendulum-v5", "--ranks", "1", "--steps", "1024"], "--steps must be more than one update with 1 rank"),
    (["--ranks", "0"], "--ranks must be >= 1"),
    (["--device", "nonsense"], "unknown device 'nonsense'"),
])
def test_bad_input_is_one_line_before_torchrun(args, expected):
    r = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    assert expected in r.stderr and "Traceback" not in r.stderr and "| ranks |" not in r.stdout, r.stderr
