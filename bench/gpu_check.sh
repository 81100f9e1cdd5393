#!/usr/bin/env bash
# The GPU check behind docs/BENCHMARKS.md "On a GPU": the CUDA tests (graph parity, device RNG on resume), train_throughput with
# and without graphs, and a short graphed training run.
# Needs torch with CUDA and the package importable.
#   bench/gpu_check.sh [RUN_DIR]     (PYTHON=... to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
py="${PYTHON:-python}"
run="${1:-$(mktemp -d)/hc}"
export MUJOCO_GL="${MUJOCO_GL:-disable}"
"$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else "gpu_check.sh: torch sees no CUDA device")'
"$py" -m pytest -q -o addopts="" tests/core/test_cuda_graphs.py \
    tests/core/test_resume.py::test_a_gpu_run_resumes_its_device_noise_stream
"$py" bench/train_throughput.py --device cuda --repeats 5
"$py" bench/train_throughput.py --device cuda --no-cuda-graphs --repeats 3
"$py" -m fpo_core.cli train --env-id HalfCheetah-v5 --device cuda --total-steps 204800 --eval-episodes 3 \
    --no-progress --run-dir "$run"
