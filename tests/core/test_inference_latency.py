"""bench/inference_latency.py: every path and K in the table, timed on one thread as its header says."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import torch

from fpo_core.trainer import Trainer
from tests.core.helpers import tiny_config

BENCH = Path(__file__).resolve().parents[2] / "bench" / "inference_latency.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_inference_latency", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_table_of_every_path_on_one_thread(capsys):
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # what torch picks on a 2-core machine: the bench must not time torch eager on it
    try:
        load_bench().main(["--iters", "10"])
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    out = capsys.readouterr().out
    assert ", 1 thread;" in out
    rows = re.findall(r"^\| (\d+) \|(?: [\d.]+ / [\d.]+ \|){4} [\d.]+× \| [\d.]+× \|$", out, re.M)
    assert rows == ["1", "2", "5", "10", "20"], out


def test_bad_input_is_one_line(tmp_path):
    gaussian = tmp_path / "gaussian"
    Trainer(tiny_config(gaussian, algo="gaussian", total_steps=128, update_epochs=1)).train()
    for args, expected in ((["--iters", "5"], "--iters must be >= 10"),
                           ([str(tmp_path / "missing")], "inference_latency.py: error: checkpoint"),
                           ([str(gaussian)], "holds a gaussian policy")):
        r = subprocess.run([sys.executable, str(BENCH), *args], capture_output=True, text=True, timeout=120)
        assert r.returncode != 0 and expected in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
