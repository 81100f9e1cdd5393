"""bench/ros_latency.py measures the bare echo node (the floor) and the policy node, end to end at a tiny size."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ros.procs import ROS_MISSING

pytest.importorskip("rclpy", reason=ROS_MISSING)

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ros_latency.py"


def test_latency_bench_measures_the_echo_and_the_policy_node(policy_file, ros_env):
    r = subprocess.run([sys.executable, str(BENCH), str(policy_file), "--samples", "5", "--hold-s", "0.02"], env=ros_env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"^\| bare rclpy echo \| - \| \d+ \| \d+ \|", r.stdout, re.M), r.stdout
    assert re.findall(r"^\| policy_node \| (\d+) \| \d+ \|", r.stdout, re.M) == ["1", "5", "10"], r.stdout
    assert re.findall(r"^\| (\d+) \| \d+ / \d+ \| \d+ / \d+ \|$", r.stdout, re.M) == ["250", "500", "1000", "2000"], r.stdout


@pytest.mark.parametrize("args, expected", [
    (["missing.onnx"], "ros_latency.py: error: policy file missing.onnx does not exist"),
    (["policy.onnx", "--samples", "0"], "--samples must be >= 1"),
])
def test_latency_bench_bad_input_is_one_line(args, expected, ros_env, tmp_path):
    r = subprocess.run([sys.executable, str(BENCH), *args], env=ros_env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
