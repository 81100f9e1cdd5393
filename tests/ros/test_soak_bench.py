"""bench/ros_soak.py drives the policy node at a fixed rate and reports each window, at a tiny size."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ros.procs import ROS_MISSING

pytest.importorskip("rclpy", reason=ROS_MISSING)

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ros_soak.py"
ROW = r"^\| (\d+) \| (\d+) \| (\d+) \| (\d+\.\d) \| (?:[\d.]+ / [\d.]+|-) \| (?:\d+\.\d\d|-) \|$"  # "-": no diagnostics yet


def test_soak_bench_reports_every_window(policy_file, ros_env):
    r = subprocess.run([sys.executable, str(BENCH), str(policy_file), "--rate", "50", "--seconds", "2", "--window", "1",
                        "--qos-depth", "2"], env=ros_env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "qos_depth 2" in r.stdout, r.stdout
    rows = re.findall(ROW, r.stdout, re.M)
    assert [until for until, *_ in rows] == ["1", "2"], r.stdout
    assert all(int(sent) > 0 and int(got) > 0 and float(rss) > 0 for _, sent, got, rss in rows), r.stdout


@pytest.mark.parametrize("args, expected", [
    (["missing.onnx"], "ros_soak.py: error: policy file missing.onnx does not exist"),
    (["policy.onnx", "--window", "0"], "--window in (0, --seconds]"),
])
def test_soak_bench_bad_input_is_one_line(args, expected, ros_env, tmp_path):
    r = subprocess.run([sys.executable, str(BENCH), *args], env=ros_env, cwd=tmp_path, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr
