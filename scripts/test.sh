#!/usr/bin/env bash
# README command 2: set up, then run the whole test suite (extra arguments go to pytest).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MUJOCO_GL="${MUJOCO_GL:-egl}"
export ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST  # DDS stays on this machine (Iron and later)
if [ "${ROS_DISTRO:-}" = humble ]; then export ROS_LOCALHOST_ONLY=1; fi  # Humble predates the variable above
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-77}"
export FPO_REQUIRE_ROS="${FPO_REQUIRE_ROS:-1}"  # setup.sh installed rclpy: a ROS test must run, not skip (tests/conftest.py)
exec "${FPO_VENV:-.venv}/bin/python" -m pytest "$@"
