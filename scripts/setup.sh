#!/usr/bin/env bash
# Set up a virtual environment with fpo and everything it needs, on a fresh machine or again.
#   - a pinned torch unless the interpreter already imports one (CUDA users keep theirs); pip picks the build
#     (PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu for the CPU one: PyPI's default carries CUDA);
#   - ROS 2 Kilted wheels from PyPI unless an apt-installed ROS 2 (rclpy) is already importable;
#   - every other version from constraints.txt (constraints-py310.txt on Python 3.10), so a new release elsewhere cannot break us.
# Re-running is cheap: nothing is reinstalled unless setup.py or constraints.txt changed.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${FPO_VENV:-.venv}"
PY="${PYTHON:-python3}"
TORCH_PIN="torch==2.13.0"

"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "fpo needs Python >= 3.10 (found $("$PY" --version))" >&2; exit 1; }

constraints=constraints.txt
if "$PY" -c 'import sys; sys.exit(sys.version_info >= (3, 11))'; then constraints=constraints-py310.txt; fi

extras="dev,ros"
venv_flags=()
system_ros=false
# an rclpy inside $VENV is PyPI's wheels in this venv (run with the venv active), not an installed ROS 2
if "$PY" -c 'import os, sys, rclpy; sys.exit(os.path.realpath(rclpy.__file__).startswith(os.path.realpath(sys.argv[1]) + os.sep))' \
    "$VENV" 2>/dev/null; then
  echo "setup: using the ROS 2 already installed ($(command -v ros2 || echo rclpy importable)); not installing ROS wheels"
  extras="dev"
  venv_flags=(--system-site-packages)
  system_ros=true
elif found="$("$PY" -S -c 'import importlib.util as u; s = u.find_spec("rclpy"); print(s.origin if s else "")' 2>/dev/null)" \
    && [ -n "$found" ]; then  # on PYTHONPATH (-S: no site-packages), before the rclpy that PyPI's wheels would install
  echo "setup: $PY finds rclpy ($found) but cannot import it ($("$PY" -c 'import rclpy' 2>&1 |
    grep -E '^[A-Za-z.]*(Error|Exception): ' | tail -1)): a ROS 2 sourced for another Python, or a broken one; set PYTHON" \
    "to the Python it was built for (apt's: /usr/bin/python3), or open a shell without its setup.bash to use the ROS 2" \
    "wheels from PyPI" >&2
  exit 1
fi

ros_distro="${FPO_ROS_DISTRO:-kilted}"  # which ROS 2 wheels from PyPI (CI tests the nodes on both)
case "$ros_distro" in
  kilted|jazzy) ;;
  *) echo "setup: FPO_ROS_DISTRO must be kilted or jazzy (the ROS 2 wheels on PyPI), got $ros_distro" >&2; exit 1 ;;
esac
if [ "$ros_distro" = jazzy ] && $system_ros; then
  echo "setup: FPO_ROS_DISTRO=jazzy chooses PyPI wheels, but an installed ROS 2 is importable and would be used" >&2; exit 1
fi

# A venv set up for the other kind of ROS 2 cannot be changed in place: one with PyPI's wheels keeps them (and their .pth,
# which puts their libraries on LD_LIBRARY_PATH beside the installed ROS 2's) and does not see the system's packages
# (colcon); one for an installed ROS 2 would take numpy 2 and the wheels, and fail next to that ROS 2 again
stamp="$VENV/.fpo-setup-stamp"
if $system_ros && compgen -G "$VENV/lib/python3*/site-packages/ros_rclpy-*.dist-info" > /dev/null; then
  echo "setup: $VENV holds ROS 2 wheels from PyPI (it was set up before an installed ROS 2 was sourced), whose libraries" \
    "would mix with the installed one's: remove it (rm -r $(printf %q "$VENV")) and run this again, or set FPO_VENV to a new path" >&2
  exit 1
fi
if ! $system_ros && [ -f "$stamp" ] && [ "$(cut -d' ' -f2 "$stamp")" = dev ]; then
  echo "setup: $VENV was set up for an installed ROS 2, whose rclpy does not import now: source its setup.bash" \
    "(/opt/ros/<distro>/setup.bash) first, or set FPO_VENV to a new path for the ROS 2 wheels from PyPI" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "setup: creating $VENV"
  "$PY" -m venv "${venv_flags[@]}" "$VENV"
fi
touch "$VENV/COLCON_IGNORE"  # the repository is a ROS package: colcon must not search the venv
if [ "$ros_distro" = jazzy ]; then  # Jazzy's wheels instead of Kilted's: its pins replace those of the same names
  names="$(sed -n 's/==.*//p' constraints-jazzy.txt | tr 'A-Z_.' 'a-z--' | paste -sd'|')"
  awk -F'==' -v names="^($names)\$" '{n = tolower($1); gsub(/[_.]/, "-", n)} !(n ~ names)' "$constraints" \
    > "$VENV/constraints-jazzy-full.txt"
  cat constraints-jazzy.txt >> "$VENV/constraints-jazzy-full.txt"
  constraints="$VENV/constraints-jazzy-full.txt"
fi
if $system_ros; then  # before the stamp: a change of these pins reinstalls
  # apt's ROS message packages are compiled against numpy 1.x and fail to import under numpy 2 (e.g. spot_ros2#492):
  # the venv keeps numpy 1.26 (and ml_dtypes 0.5, the last release that accepts it). pytest 8.3: the venv sees the
  # installed ROS 2's pytest plugins, and Humble's launch_testing declares a hook argument pytest 9 removed (every run
  # ends before collecting, ros2/launch#979), its launch_pytest reads a fixture attribute pytest 8.4 removed (#947)
  sed -e '/^numpy==/d' -e '/^ml_dtypes==/d' -e '/^pytest==/d' "$constraints" > "$VENV/constraints-system-ros.txt"
  printf 'numpy==1.26.4\nml_dtypes==0.5.4\npytest==8.3.5\n' >> "$VENV/constraints-system-ros.txt"
  constraints="$VENV/constraints-system-ros.txt"
fi
pip=("$VENV/bin/python" -m pip --disable-pip-version-check -q)

want="$(cat setup.py "$constraints" | sha256sum | cut -d' ' -f1) $extras"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/python" -c 'import fpo_core, torch' 2>/dev/null; then
  echo "setup: $VENV is up to date"
  exit 0
fi

if ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "setup: installing $TORCH_PIN (the build pip's indexes offer; README, Troubleshooting: A CPU-only machine)"
  "${pip[@]}" install "$TORCH_PIN"
fi
echo "setup: installing fpo[$extras] with pinned dependencies ($constraints)"
"${pip[@]}" install -c "$constraints" -e ".[$extras]"
echo "$want" > "$stamp"
echo "setup: done ($VENV)"
