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
