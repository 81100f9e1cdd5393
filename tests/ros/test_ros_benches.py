"""bench/ros_latency.py and bench/ros_soak.py drive the policy node end to end at a tiny size, and refuse bad input in
one line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ros.procs import ROS_MISSING

pytest.importorskip("rclpy", reason=ROS_MISSING)

BENCH = Path(__file__).resolve().parents[2] / "bench"
SOAK_ROW = r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+\.\d) \| (?:[\d.]+ / [\d.]+|-) \| (?:\d+\.\d\d|-) \|$"  # "-": no diagnostics yet


def bench(script: str, *args: str, env: dict[str, str], timeout: float, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCH / script), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def test_latency_bench_measures_the_echo_and_the_policy_node(policy_file, ros_env):
    r = bench("ros_latency.py", str(policy_file), "--samples", "5", "--hold-s", "0.02", env=ros_env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^\| bare rclpy echo \| - \| \d+ \| \d+ \|", r.stdout, re.M), r.stdout
    assert re.findall(r"^\| policy_node \| (\d+) \| \d+ \|", r.stdout, re.M) == ["1", "5", "10"], r.stdout
    assert re.findall(r"^\| (\d+) \| \d+ / \d+ \| \d+ / \d+ \|$", r.stdout, re.M) == ["250", "500", "1000", "2000"], r.stdout


def test_soak_bench_reports_every_window(policy_file, ros_env):
    r = bench("ros_soak.py", str(policy_file), "--rate", "50", "--seconds", "2", "--window", "1", "--qos-depth", "2",
              env=ros_env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "qos_depth 2" in r.stdout, r.stdout
    rows = re.findall(SOAK_ROW, r.stdout, re.M)
    assert [until for until, *_ in rows] == ["1", "2"], r.stdout
    assert all(int(sent) > 0 and int(got) > 0 and float(rss) > 0 for _, sent, got, rss in rows), r.stdout


@pytest.mark.parametrize("script, args, expected", [
    ("ros_latency.py", ["missing.onnx"], "ros_latency.py: error: policy file missing.onnx does not exist"),
    ("ros_latency.py", ["policy.onnx", "--samples", "0"], "--samples must be >= 1"),
    ("ros_soak.py", ["missing.onnx"], "ros_soak.py: error: policy file missing.onnx does not exist"),
    ("ros_soak.py", ["policy.onnx", "--window", "0"], "--window in (0, --seconds]"),
])
def test_bench_bad_input_is_one_line(script, args, expected, ros_env, tmp_path):
    r = bench(script, *args, env=ros_env, timeout=60, cwd=tmp_path)
    assert r.returncode != 0 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
