#!/usr/bin/env bash
# README command 1: set up, then train FPO on the built-in default task, evaluate it, export it
# and run it through ROS 2 (simulated robot + policy node) at two step counts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MUJOCO_GL="${MUJOCO_GL:-egl}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST  # DDS stays on this machine (Iron and later)
if [ "${ROS_DISTRO:-}" = humble ]; then export ROS_LOCALHOST_ONLY=1; fi  # Humble predates the variable above
exec "${FPO_VENV:-.venv}/bin/fpo" demo "$@"
