"""Batch-1 latency per action of an exported flow policy: runtime step-wise, fused graph, bare ``session.run`` loop, torch eager.

Usage: ``python bench/inference_latency.py [RUN_OR_CHECKPOINT] [--iters N]``. Without a run it builds an
untrained FPO checkpoint for Hopper-v5 with the default network sizes (latency does not depend on the weights).
All paths use Euler, zero noise, one thread.
"""

from __future__ import annotations

import argparse
import dataclasses
import platform
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional

import numpy as np
import torch

from fpo_core.checkpoint import LoadedPolicy, save_checkpoint
from fpo_core.errors import FpoError, UsageError
from fpo_core.export import export_policy
from fpo_core.runtime import FlowPolicy, open_session

STEPS = (1, 2, 5, 10, 20)
INTEGRATOR = "euler"
ROUNDS = 10


def build_checkpoint(path: Path) -> Path:
    """An untrained FPO checkpoint for Hopper-v5 with the default config."""
    from fpo_core.algorithms import build_policy
    from fpo_core.config import TrainConfig
    from fpo_core.envs import EnvSpec, make_env
    from fpo_core.normalize import RunningNorm

    cfg = TrainConfig(env_id="Hopper-v5").resolved()
    env = make_env(cfg.env_id)
    spec = EnvSpec.of(env, cfg.env_id)
    env.close()
    policy = build_policy(cfg, spec.obs_dim, spec.act_dim)
    save_checkpoint(path, {"config": cfg.to_dict(), "env": dataclasses.asdict(spec), "policy": policy.state_dict(),
                           "obs_norm": RunningNorm(spec.obs_dim).state_dict(), "global_step": 0})
    return path


def timings(paths: dict[str, Callable[[], object]], iters: int, rounds: int = ROUNDS) -> dict[str, tuple[float, float]]:
    """p50 and p99 wall time (µs) of each path; paths take turns in ``rounds`` so load spikes hit all alike."""
    times: dict[str, list[float]] = {name: [] for name in paths}
    for fn in paths.values():
        for _ in range(50):
            fn()
    for _ in range(rounds):
        for name, fn in paths.items():
            for _ in range(iters // rounds):
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
    return {name: (float(np.percentile(t, 50) * 1e6), float(np.percentile(t, 99) * 1e6)) for name, t in times.items()}


def bench_k(loaded: LoadedPolicy, step_path: Path, fused_path: Path, k: int, iters: int) -> dict[str, tuple[float, float]]:
    """Latencies of the four paths for ``k`` steps."""
    obs = np.random.default_rng(0).normal(size=loaded.spec.obs_dim)
    o32 = obs.astype(np.float32).reshape(1, -1)
    step_wise, fused = FlowPolicy.load(step_path), FlowPolicy.load(fused_path)
    sess, _ = open_session(step_path)
    feeds = {"observation": o32, "x": np.zeros((1, loaded.spec.act_dim), np.float32), "tau": np.zeros((1, 1), np.float32)}

    def bare() -> None:
        for _ in range(k):
            sess.run(["velocity"], feeds)

    def eager() -> None:
        with torch.no_grad():
            loaded.policy.sample(loaded.obs_norm(torch.from_numpy(o32)), "zero", k, INTEGRATOR)

    return timings({"runtime step-wise": lambda: step_wise.act(obs, k, INTEGRATOR, "zero"),
                    "fused graph": lambda: fused.act(obs, k, INTEGRATOR, "zero"),
                    "bare session.run loop": bare, "torch eager": eager}, iters)


def table(rows: dict[int, dict[str, tuple[float, float]]]) -> str:
    """Markdown: p50 / p99 in µs per path, plus the two target ratios (of p50)."""
    paths = list(next(iter(rows.values())))
    lines = ["| K | " + " | ".join(f"{p} p50 / p99 (µs)" for p in paths) + " | step-wise / bare | fused / step-wise |",
             "|---|" + "---|" * (len(paths) + 2)]
    for k, r in rows.items():
        cells = " | ".join(f"{r[p][0]:.1f} / {r[p][1]:.1f}" for p in paths)
        ratio = r["runtime step-wise"][0] / r["bare session.run loop"][0]
        fused = r["fused graph"][0] / r["runtime step-wise"][0]
        lines.append(f"| {k} | {cells} | {ratio:.2f}× | {fused:.2f}× |")
    return "\n".join(lines)


def main(argv: Optional[list[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", nargs="?", type=Path, help="run directory or checkpoint (default: build an untrained one)")
    parser.add_argument("--iters", type=int, default=2000, help=f"timed actions per path and K (>= {ROUNDS}: the paths take turns in {ROUNDS} rounds)")
    args = parser.parse_args(argv)
    if args.iters < ROUNDS:
        parser.error(f"--iters must be >= {ROUNDS}, got {args.iters}")
    torch.set_num_threads(1)  # torch eager on one thread too, as the ONNX sessions run (and as the table's header says)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        ckpt = args.run or build_checkpoint(work / "ckpt.pt")
        loaded = LoadedPolicy.load(ckpt)
        if loaded.config.algo == "gaussian":  # no sampler: neither K nor a fused graph applies
            raise UsageError(f"{ckpt} holds a gaussian policy; this bench times flow sampling, so pass an fpo or dppo run")
        export_policy(ckpt, work / "step.onnx")
        rows = {}
        for k in STEPS:
            export_policy(ckpt, work / f"k{k}.onnx", fused_steps=k, fused_integrator=INTEGRATOR)
            rows[k] = bench_k(loaded, work / "step.onnx", work / f"k{k}.onnx", k, args.iters)
    c = loaded.config
    print(f"policy: {c.algo} on {loaded.spec.env_id} (obs {loaded.spec.obs_dim}, act {loaded.spec.act_dim}, actor {c.actor_hidden}), "
          f"{INTEGRATOR}, batch 1, zero noise, {args.iters} actions per cell, 1 thread; {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}\n")
    print(table(rows))


if __name__ == "__main__":
    try:
        main()
    except FpoError as e:  # a missing run, a Gaussian policy (nothing to fuse): one line
        raise SystemExit(f"inference_latency.py: error: {e}") from None
