"""Soak of ``policy_node``: observations at a fixed rate for a while, and per window the node's memory, its actions,
the inference latency its diagnostics report and the longest gap between them.

    python bench/ros_soak.py POLICY.onnx [--rate 500] [--seconds 300] [--window 60] [--qos-depth 1]

What a robot left running needs: flat memory, no latency drift, diagnostics about every second. DDS stays on
loopback in a domain of its own. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from fpo_ros.discovery import isolate

isolate()  # before rclpy loads

import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.errors import FpoError  # noqa: E402
from fpo_core.runtime import FlowPolicy  # noqa: E402
from fpo_ros.closed_loop import stop  # noqa: E402

STARTUP_S = 60.0


class Client(Node):
    """Publishes observations; records when actions and diagnostics arrive."""

    def __init__(self, depth: int) -> None:
        super().__init__("fpo_soak_client")
        qos = QoSProfile(depth=depth, reliability=ReliabilityPolicy.RELIABLE)
        self.pub = self.create_publisher(Float64MultiArray, "observation", qos)
        self.actions: list[float] = []
        self.diagnostics: list[tuple[float, dict[str, str]]] = []
        self.create_subscription(Float64MultiArray, "action", lambda _: self.actions.append(time.monotonic()), qos)
        self.create_subscription(DiagnosticArray, "diagnostics", self._on_diagnostics, 10)

    def _on_diagnostics(self, msg: DiagnosticArray) -> None:
        self.diagnostics.append((time.monotonic(), {kv.key: kv.value for kv in msg.status[0].values}))


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` (Linux ``/proc``), MiB."""
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="exported policy (.onnx)")
    ap.add_argument("--rate", type=float, default=500.0, help="observations per second")
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--window", type=float, default=60.0, help="seconds per table row")
    ap.add_argument("--qos-depth", type=int, default=1, help="the node's qos_depth (and the client's)")
    a = ap.parse_args()
    if not (a.rate > 0 and a.seconds > 0 and 0 < a.window <= a.seconds and a.qos_depth >= 1):
        ap.error("--rate, --seconds and --qos-depth must be positive, and --window in (0, --seconds]")
    msg = Float64MultiArray(data=[0.05] * FlowPolicy.load(a.model).contract.obs_dim)
    rclpy.init()
    client = Client(a.qos_depth)
    executor = SingleThreadedExecutor()
    executor.add_node(client)
    done = threading.Event()

    def spin() -> None:
        while not done.is_set():
            executor.spin_once(timeout_sec=0.05)

    spinning = threading.Thread(target=spin)
    spinning.start()
    log = tempfile.TemporaryFile()
    node = subprocess.Popen(
        [sys.executable, "-m", "fpo_ros.policy_node", "--ros-args", "-p", f"model_path:={a.model.resolve()}",
         "-p", f"qos_depth:={a.qos_depth}"], stdout=log, stderr=log)
    rows = []
    try:
        end = time.monotonic() + STARTUP_S
        while not client.actions:
            if node.poll() is not None or time.monotonic() > end:
                log.seek(0)
                raise SystemExit(f"ros_soak.py: error: the policy node gave no action (exit {node.poll()}):\n"
                                 + log.read().decode(errors="replace")[-2000:])
            client.pub.publish(msg)
            time.sleep(0.05)
        start = due = time.monotonic()
        window_end, sent = start + a.window, 0
        while True:
            now = time.monotonic()
            if now >= window_end:
                rows.append((window_end - start, sent, rss_mib(node.pid)))
                sent, window_end = 0, window_end + a.window
                if window_end > start + a.seconds + 1e-9:
                    break
            if now >= due:
                client.pub.publish(msg)
                sent += 1
                due = max(due + 1.0 / a.rate, now - 10.0 / a.rate)  # far behind: skip slots, never burst
            else:
                time.sleep(min(due, window_end) - now)
        time.sleep(0.5)  # the last replies
    finally:
        stop(node)
        done.set()
        spinning.join()  # before the executor goes: rclpy's C++ aborts a process whose thread is still spinning
        executor.shutdown()
        client.destroy_node()
        rclpy.try_shutdown()

    print(f"domain {os.environ['ROS_DOMAIN_ID']}, {a.rate:g} Hz for {a.seconds:g} s, qos_depth {a.qos_depth}, "
          f"{os.cpu_count()} CPUs\n")
    print("| until (s) | observations sent | actions received | node RSS (MiB) | inference p50 / p99 (µs) "
          "| longest diagnostics gap (s) |")
    print("|---:|---:|---:|---:|---:|---:|")
    arrivals = np.array([t for t, _ in client.diagnostics])
    actions = np.array(client.actions)
    for end_s, sent, rss in rows:
        lo, hi = start + end_s - a.window, start + end_s
        got = int(((actions >= lo) & (actions < hi)).sum())
        inside = [(t, v) for t, v in client.diagnostics if lo <= t < hi]
        latency = f"{inside[-1][1]['latency_p50_us']} / {inside[-1][1]['latency_p99_us']}" if inside else "-"
        times = np.concatenate([arrivals[arrivals < lo][-1:], arrivals[(arrivals >= lo) & (arrivals < hi)]])
        gap = f"{np.diff(times).max():.2f}" if times.size > 1 else "-"
        print(f"| {end_s:g} | {sent} | {got} | {rss:.1f} | {latency} | {gap} |")


if __name__ == "__main__":
    try:
        main()
    except FpoError as e:  # an unusable model file: one line, as fpo eval says it
        raise SystemExit(f"ros_soak.py: error: {e}") from None
