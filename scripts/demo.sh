#!/usr/bin/env bash
# README command 1: set up, then train FPO on the built-in default task, evaluate it, export it
# and run it through ROS 2 (simulated robot + policy node) at two step counts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export MUJOCO_GL="${MUJOCO_GL:-egl}"
exec "${FPO_VENV:-.venv}/bin/fpo" demo "$@"
