"""`colcon build` installs what `ros2 launch fpo_ros policy.launch.py` and `ros2 run fpo_ros ...` look up.

colcon-core builds an ament_python package with ``setup.py ... install --prefix P
--single-version-externally-managed``; launch_ros then runs executables from ``P/lib/fpo_ros`` and reads the
package from the ament index. The same command here, into a temporary prefix: no ROS install needed.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_colcon_style_install_puts_executables_where_ros2_launch_looks(tmp_path):
    build, prefix = tmp_path / "build", tmp_path / "install"
    build.mkdir()
    cmd = [sys.executable, "setup.py", "egg_info", "--egg-base", str(build), "build", "--build-base", str(build / "build"),
           "install", "--prefix", str(prefix), "--record", str(build / "install.log"), "--single-version-externally-managed"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    for exe in ("policy_node", "sim_node", "fpo"):
        assert (prefix / "lib/fpo_ros" / exe).is_file(), f"{exe} is not in lib/fpo_ros: setup.cfg's install_scripts?"
    share = prefix / "share/fpo_ros"
    assert (prefix / "share/ament_index/resource_index/packages/fpo_ros").is_file()
    assert (share / "package.xml").is_file() and (share / "launch/policy.launch.py").is_file()
