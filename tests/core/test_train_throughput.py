"""bench/train_throughput.py runs all its rows, on the defaults or the presets, and names a bad device."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "train_throughput.py"


def bench(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(BENCH), "--repeats", "1", "--update-threads", "1", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_presets_row_per_algorithm_and_ratios():
    r = bench("--env-id", "Hopper-v5", "--preset", "--steps", "2048")
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.startswith("Hopper-v5 (presets), 8 envs × 256 steps")  # the presets' collection, not the defaults'
    rows = re.findall(r"^\| ([a-z ()]+) \| ([\d,]+) \|", r.stdout, re.M)
    assert [name for name, _ in rows] == ["random actions (ceiling)", "gaussian training", "fpo training"]
    assert all(int(sps.replace(",", "")) > 0 for _, sps in rows)
    assert re.search(r"^\| random actions \(ceiling\) \| [\d,]+ \| - \| - \|$", r.stdout, re.M)  # no rollout, no update
    assert re.search(r"^\| fpo training \| [\d,]+ \| \d+\.\d \| \d+\.\d \|$", r.stdout, re.M)
    medians = re.search(r"^FPO / ceiling throughput: (\d\.\d\d) .*FPO / Gaussian wall-clock per step: (\d\.\d\d)", r.stdout, re.M)
    spread = re.search(r"^per repeat: FPO / ceiling (\d\.\d\d)-(\d\.\d\d), FPO / Gaussian (\d\.\d\d)-(\d\.\d\d)$", r.stdout, re.M)
    assert medians and spread  # one repeat: each range is that repeat's ratio, which is the median's
    assert spread[1] == spread[2] == medians[1] and spread[3] == spread[4] == medians[2]


def test_bad_device_is_one_line():
    r = bench("--device", "nonsense")
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "unknown device 'nonsense'" in r.stderr


@pytest.mark.parametrize("size", ["--steps", "--repeats"])
def test_a_size_below_one_is_refused_first(size):
    r = bench("--env-id", "InvertedPendulum-v5", size, "0")
    assert r.returncode == 2 and "--steps and --repeats must be >= 1" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_negative_threads_name_the_bench_s_own_options():
    r = bench("--env-id", "InvertedPendulum-v5", "--threads", "-1")
    assert r.returncode == 2 and "--threads and --update-threads must be >= 0" in r.stderr, r.stderr


def test_fewer_steps_than_envs_still_time_every_row():
    r = bench("--env-id", "InvertedPendulum-v5", "--steps", "8")  # 16 envs: the ceiling times one vector step
    assert r.returncode == 0, r.stderr[-2000:]
    assert re.search(r"^\| random actions \(ceiling\) \| [\d,]+ \|", r.stdout, re.M) and "FPO / ceiling throughput" in r.stdout
