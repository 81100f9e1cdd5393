"""Run an exported policy on the simulated robot through ROS 2: sim_node (lockstep) + policy_node.

Used by ``fpo demo`` and ``bench/``: starts both nodes as processes on loopback DDS with a domain
of their own, listens to ``episode_stats`` and ``diagnostics``, and returns returns and latency.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpo_ros.discovery import loopback_env


@dataclass
class Deployment:
    returns: np.ndarray
    latency_p50_us: float
    """Median over the run of the node's per-second inference-latency p50."""
    latency_p99_us: float
    """Largest per-second p99 the node reported."""


def run(policy_file: Path, num_steps: int, episodes: int, seed: int = 0, integrator: str | None = None,
        domain_id: int | None = None, timeout_s: float = 300.0) -> Deployment:
    import rclpy
    from diagnostic_msgs.msg import DiagnosticArray
    from rclpy.context import Context
    from rclpy.executors import SingleThreadedExecutor
    from std_msgs.msg import Float64MultiArray

    from fpo_ros.sim_node import STATS_QOS

    domain = domain_id if domain_id is not None else 50 + os.getpid() % 50
    os.environ.update(loopback_env())  # this process's own listener too, not only the nodes it starts
    env = {**os.environ, "ROS_DOMAIN_ID": str(domain)}
    ctx = Context()
    rclpy.init(context=ctx, domain_id=domain)
    node = rclpy.create_node("fpo_closed_loop", context=ctx)
    executor = SingleThreadedExecutor(context=ctx)
    executor.add_node(node)
    stats: list = []
    p50s: list[float] = []
    p99s: list[float] = []

    def on_diag(msg: DiagnosticArray) -> None:
        values = {kv.key: kv.value for s in msg.status for kv in s.values}
        if "latency_p50_us" in values and values["latency_p50_us"] != "nan":
            p50s.append(float(values["latency_p50_us"]))
            p99s.append(float(values["latency_p99_us"]))

    node.create_subscription(Float64MultiArray, "episode_stats", stats.append, STATS_QOS)
    node.create_subscription(DiagnosticArray, "diagnostics", on_diag, 10)
    logs = tempfile.TemporaryDirectory(prefix="fpo_closed_loop_")
    policy_params = ["-p", f"model_path:={policy_file}", "-p", f"num_steps:={num_steps}", "-p", "noise:=zero",
                     "-p", "observation_timeout_s:=0.0"] + (["-p", f"integrator:={integrator}"] if integrator else [])
    procs = []
    try:
        procs.append(_start("sim_node", ["-p", f"model_path:={policy_file}", "-p", "mode:=lockstep", "-p", f"episodes:={episodes}",
                                         "-p", f"seed:={seed}"], env, Path(logs.name)))
        end = time.monotonic() + timeout_s
        # The sim repeats its first observation until a policy answers; start the policy once we hear the sim,
        # so no episode_stats can be published before this node is there to receive them.
        while node.count_publishers("episode_stats") == 0:
            _check(procs, end, "discovery of the sim")
            executor.spin_once(timeout_sec=0.05)
        procs.append(_start("policy_node", policy_params, env, Path(logs.name)))
        while len(stats) < episodes or (not p50s and time.monotonic() < end):  # the node reports latency each second
            _check(procs, end, f"{episodes} episodes (got {len(stats)})")
            executor.spin_once(timeout_sec=0.05)
    finally:
        for _, p, _ in procs:
            stop(p)
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
        logs.cleanup()
    returns = np.array([m.data[1] for m in sorted(stats, key=lambda m: m.data[0])][:episodes])
    return Deployment(returns, float(np.median(p50s)) if p50s else float("nan"), max(p99s) if p99s else float("nan"))


def _check(procs: list, end: float, waiting_for: str) -> None:
    for name, p, log in procs:
        if p.poll() not in (None, 0):
            raise RuntimeError(f"{name} exited with {p.returncode}:\n{log.read_text()[-2000:]}")
    if time.monotonic() > end:
        raise TimeoutError(f"timed out waiting for {waiting_for}")


def stop(proc: subprocess.Popen) -> None:
    """Stop a node process as ``ros2 launch`` does: SIGINT, then SIGKILL if it lingers."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _start(module: str, params: list[str], env: dict, log_dir: Path):
    log = log_dir / f"{module}.log"
    proc = subprocess.Popen([sys.executable, "-m", f"fpo_ros.{module}", "--ros-args", *params], env=env,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT)
    return module, proc, log
