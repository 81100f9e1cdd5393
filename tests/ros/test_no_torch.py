"""Deployment needs no PyTorch: the nodes and the launch description import none."""

import subprocess
import sys

import pytest

from tests.ros.procs import ROS_MISSING

pytest.importorskip("rclpy", reason=ROS_MISSING)


def test_nodes_do_not_import_torch():
    code = ("import sys, fpo_ros.policy_node, fpo_ros.sim_node, fpo_ros.launch_config, fpo_ros.closed_loop; "
            "assert 'torch' not in sys.modules, sorted(m for m in sys.modules if m.startswith('torch'))[:5]")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr

