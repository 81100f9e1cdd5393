"""scripts/setup.sh's choice between an installed ROS 2 and PyPI's wheels, checked before it installs anything.

Most runs get a stand-in venv whose python refuses every command (a run that got as far as pip fails with its exit
code, not the expected message) and an interpreter without site-packages, so only the stand-in rclpy is seen.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITELESS = "#!/bin/sh\nexec {} -S \"$@\"\n".format(sys.executable)
REFUSES = "#!/bin/sh\necho \"the venv's python ran: $*\" >&2\nexit 3\n"


def _script(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


def setup_sh(tmp_path: Path, stamp: str, rclpy: str | None, venv: str = "venv") -> subprocess.CompletedProcess:
    """Run setup.sh on a stand-in venv (``venv`` in ``tmp_path``) set up for ``stamp``'s extras (with the ROS 2 wheels
    for ``dev,ros``); ``rclpy``: the stand-in rclpy's code, or None for none."""
    venv = tmp_path / venv
    _script(venv / "bin/python", REFUSES)
    (venv / ".fpo-setup-stamp").write_text(f"0123 {stamp}\n")
    if "ros" in stamp.split(","):
        (venv / "lib/python3.11/site-packages/ros_rclpy-9.1.2.dist-info").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FPO_ROS_DISTRO")}
    if rclpy is not None:
        _script(tmp_path / "ros/rclpy/__init__.py", rclpy)
        env["PYTHONPATH"] = str(tmp_path / "ros")
    env.update(FPO_VENV=str(venv), PYTHON=str(_script(tmp_path / "python", SITELESS)))
    return subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_a_venv_of_pypi_wheels_is_not_reused_beside_an_installed_ros(tmp_path):
    done = setup_sh(tmp_path, stamp="dev,ros", rclpy="")
    assert done.returncode == 1, done.stderr
    assert "holds ROS 2 wheels from PyPI" in done.stderr and "rm -r" in done.stderr, done.stderr


def test_the_removal_it_suggests_names_a_venv_path_with_spaces_as_one_argument(tmp_path):
    done = setup_sh(tmp_path, stamp="dev,ros", rclpy="", venv="my venv")
    suggested = re.search(r"\(rm -r (.+?)\) and run this again", done.stderr)
    assert suggested and shlex.split(suggested[1]) == [str(tmp_path / "my venv")], done.stderr


def test_a_venv_for_an_installed_ros_is_not_given_pypi_wheels_when_it_is_not_sourced(tmp_path):
    done = setup_sh(tmp_path, stamp="dev", rclpy=None)
    assert done.returncode == 1, done.stderr
    assert "was set up for an installed ROS 2" in done.stderr and "setup.bash" in done.stderr, done.stderr


def test_an_rclpy_that_is_found_but_does_not_import_stops_the_setup(tmp_path):
    """A ROS 2 sourced for another Python (a conda or pyenv python3 first on PATH): PyPI's wheels would sit behind its
    rclpy on PYTHONPATH."""
    done = setup_sh(tmp_path, stamp="dev,ros", rclpy="raise ImportError('librcl.so: cannot open shared object file')")
    assert done.returncode == 1, done.stderr
    assert "cannot import it (ImportError: librcl.so: cannot open shared object file)" in done.stderr, done.stderr
    assert "set PYTHON" in done.stderr, done.stderr


def test_a_rerun_with_the_venv_active_keeps_its_ros_wheels(tmp_path):
    """`source .venv/bin/activate` (README, Usage), then scripts/test.sh: python3 is the venv's, whose rclpy is PyPI's
    wheels; setup.sh took it for an installed ROS 2 and refused the venv as one set up before that was sourced."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    site = next(venv.glob("lib/python3*/site-packages"))
    for stand_in in ("rclpy", "torch"):
        (site / stand_in).mkdir()
        (site / stand_in / "__init__.py").write_text("")
    (site / "ros_rclpy-9.1.2.dist-info").mkdir()
    constraints = "constraints.txt" if sys.version_info >= (3, 11) else "constraints-py310.txt"
    digest = hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in ("setup.py", constraints))).hexdigest()
    (venv / ".fpo-setup-stamp").write_text(f"{digest} dev,ros\n")  # set up, nothing to install
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FPO_ROS_DISTRO", "PYTHON")}
    env.update(FPO_VENV=str(venv), VIRTUAL_ENV=str(venv), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}")
    done = subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "is up to date" in done.stdout, done.stdout + done.stderr
