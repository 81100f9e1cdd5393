"""Observation-to-action latency of ``policy_node`` over DDS, next to a bare rclpy echo node (the floor).

    python bench/ros_latency.py POLICY.onnx [--samples 2000] [--hold-s 10]

Measures round trips (publish an observation, receive the action) at K = 1, 5 and 10 against the
policy node and against an echo node built the same way (``fpo_ros.common.main``, same QoS), then
deadline misses at 250-2000 Hz for ``--hold-s`` seconds each, for the echo and for the policy at
K = 10 (a miss: no action before the next observation is due), and the highest rate held with none.
Prints markdown tables. DDS stays on loopback in a domain of its own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fpo_ros.discovery import isolate

isolate()  # before rclpy loads

import numpy as np  # noqa: E402
import rclpy  # noqa: E402
from rclpy.executors import SingleThreadedExecutor  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.parameter import Parameter  # noqa: E402
from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from rcl_interfaces.srv import SetParameters  # noqa: E402
from diagnostic_msgs.msg import DiagnosticArray  # noqa: E402
from std_msgs.msg import Float64MultiArray  # noqa: E402

from fpo_core.errors import FpoError  # noqa: E402
from fpo_core.runtime import FlowPolicy  # noqa: E402
from fpo_ros.closed_loop import stop  # noqa: E402
from fpo_ros.common import FpoNode  # noqa: E402

QOS = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
KS = (1, 5, 10)
RATES_HZ = (250, 500, 1000, 2000)
WARMUP = 200


class Echo(FpoNode):
    """The floor: republish each observation as the action, nothing else (an ``FpoNode``: ``fpo_ros.common.main`` runs it)."""

    def __init__(self) -> None:
        super().__init__("fpo_echo")
        pub = self.create_publisher(Float64MultiArray, "action", QOS)
        self.create_subscription(Float64MultiArray, "observation", pub.publish, QOS)


class Client(Node):
    """Publishes observations and times the replies."""

    def __init__(self, obs: np.ndarray) -> None:
        super().__init__("fpo_latency_client")
        self.msg = Float64MultiArray(data=obs.tolist())
        self.pub = self.create_publisher(Float64MultiArray, "observation", QOS)
        self.create_subscription(Float64MultiArray, "action", self._on_action, QOS)
        self.diagnostics: list[DiagnosticArray] = []
        self.create_subscription(DiagnosticArray, "diagnostics", self.diagnostics.append, 10)
        self.replies = 0
        self.executor_ = SingleThreadedExecutor()
        self.executor_.add_node(self)

    def _on_action(self, _msg: Float64MultiArray) -> None:
        self.replies += 1

    def round_trip(self, deadline: float) -> float:
        """Seconds from publish to reply; ``inf`` if none arrives before ``deadline`` (monotonic)."""
        n = self.replies
        start = time.perf_counter()
        self.pub.publish(self.msg)
        while self.replies == n:
            left = deadline - time.monotonic()
            if left <= 0:
                return float("inf")
            self.executor_.spin_once(timeout_sec=left)
        return time.perf_counter() - start

    def wait_ready(self, node: subprocess.Popen, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while self.round_trip(time.monotonic() + 0.2) == float("inf"):
            if node.poll() is not None:  # it will never reply: say why instead of waiting out the timeout
                node.log.seek(0)
                tail = node.log.read().decode(errors="replace").strip().splitlines()[-10:]
                raise SystemExit(f"the node under test exited with status {node.returncode} before replying:\n" + "\n".join(tail))
            if time.monotonic() > end:
                raise SystemExit("no reply from the node under test within 30 s")

    def latencies(self, n: int) -> np.ndarray:
        for _ in range(WARMUP):
            self.round_trip(time.monotonic() + 1.0)
        return np.array([self.round_trip(time.monotonic() + 1.0) for _ in range(n)])

    def deadline_misses(self, rate_hz: float, seconds: float) -> tuple[int, int]:
        """(missed, sent): observations at ``rate_hz`` for ``seconds``; a miss is no action before the next is due."""
        period = 1.0 / rate_hz
        t0 = time.monotonic()
        sent = int(seconds * rate_hz)
        missed = 0
        for i in range(sent):
            due = t0 + i * period
            time.sleep(max(0.0, due - time.monotonic()))
            if self.round_trip(due + period) == float("inf"):
                missed += 1
                self.round_trip(time.monotonic() + 0.1)  # drain the late reply so it is not taken for the next one
        return missed, sent

    def node_inference_p50_us(self) -> float:
        """The policy node's own inference p50 (its diagnostics, over its last 1000 actions)."""
        n = len(self.diagnostics)
        end = time.monotonic() + 5.0
        while len(self.diagnostics) == n and time.monotonic() < end:
            self.executor_.spin_once(timeout_sec=0.1)
        values = {kv.key: kv.value for kv in self.diagnostics[-1].status[0].values}
        return float(values["latency_p50_us"])

    def set_num_steps(self, k: int) -> None:
        client = self.create_client(SetParameters, "/fpo_policy/set_parameters")
        if not client.wait_for_service(timeout_sec=30.0):
            raise SystemExit("the policy node's parameter service did not appear")
        future = client.call_async(SetParameters.Request(parameters=[Parameter("num_steps", value=k).to_parameter_msg()]))
        self.executor_.spin_until_future_complete(future, timeout_sec=10.0)
        if not (future.done() and future.result().results[0].successful):
            raise SystemExit(f"could not set num_steps={k}")
        self.round_trip(time.monotonic() + 1.0)  # let an in-flight reply drain


def start(args: list[str]) -> subprocess.Popen:
    """A node process; its stderr goes to a temporary file (``proc.log``) that ``Client.wait_ready`` shows if the node dies."""
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.DEVNULL, stderr=log)
    proc.log = log
    return proc


def us(x: np.ndarray, q: float) -> float:
    return float(np.percentile(x, q) * 1e6)


def inference(policy: FlowPolicy, obs: np.ndarray, k: int, n: int) -> np.ndarray:
    for _ in range(WARMUP):
        policy.act(obs, num_steps=k, noise="zero")
    out = []
    for _ in range(n):
        policy.act(obs, num_steps=k, noise="zero")
        out.append(policy.last_latency_s)
    return np.array(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="exported policy (.onnx)")
    ap.add_argument("--samples", type=int, default=2000)
    ap.add_argument("--hold-s", type=float, default=10.0)
    ap.add_argument("--echo", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.samples < 1 or not a.hold_s > 0:
        ap.error("--samples must be >= 1 and --hold-s > 0")
    if a.echo:
        from fpo_ros.common import main as run_node

        raise SystemExit(run_node(Echo, "fpo_echo"))
    policy = FlowPolicy.load(a.model)
    obs = np.full(policy.contract.obs_dim, 0.05)
    rclpy.init()
    client = Client(obs)
    rows = []
    try:
        echo = start([__file__, str(a.model), "--echo"])
        try:
            client.wait_ready(echo)
            floor = client.latencies(a.samples)
            echo_misses = [client.deadline_misses(rate, a.hold_s) for rate in RATES_HZ]
        finally:
            stop(echo)
        node = start(["-m", "fpo_ros.policy_node", "--ros-args", "-p", f"model_path:={a.model.resolve()}", "-p", "noise:=zero"])
        try:
            client.wait_ready(node)
            for k in KS:
                client.set_num_steps(k)
                rtt = client.latencies(a.samples)
                rows.append((k, rtt, client.node_inference_p50_us(), inference(policy, obs, k, a.samples)))
            client.set_num_steps(10)
            policy_misses = [client.deadline_misses(rate, a.hold_s) for rate in RATES_HZ]
        finally:
            stop(node)
    finally:
        client.destroy_node()
        rclpy.try_shutdown()

    print(f"domain {os.environ['ROS_DOMAIN_ID']}, {a.samples} round trips each, {os.cpu_count()} CPUs\n")
    print("| node | K | round trip p50 (µs) | p99 (µs) | inference p50 in node (µs) | inference p50 hot loop (µs) "
          "| added over echo p50 (µs) | target: added ≤ in-node inference + 100 |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| bare rclpy echo | - | {us(floor, 50):.0f} | {us(floor, 99):.0f} | - | - | - | - |")
    for k, rtt, node_inf, hot in rows:
        added = us(rtt, 50) - us(floor, 50)
        ok = "met" if added <= node_inf + 100 else "missed"
        print(f"| policy_node | {k} | {us(rtt, 50):.0f} | {us(rtt, 99):.0f} | {node_inf:.0f} | {us(hot, 50):.0f} | {added:.0f} | {ok} |")
    print(f"\nDeadline misses over {a.hold_s:g} s (an action must arrive before the next observation is due):\n")
    print("| rate (Hz) | bare echo: missed / sent | policy_node K=10: missed / sent |")
    print("|---|---|---|")
    for rate, (em, es), (pm, ps) in zip(RATES_HZ, echo_misses, policy_misses):
        print(f"| {rate} | {em} / {es} | {pm} / {ps} |")
    held = max([r for r, (m, _) in zip(RATES_HZ, policy_misses) if m == 0], default=0)
    print(f"\nHighest rate held for {a.hold_s:g} s at K=10 with no missed deadline: {held or 'none of those tried'} Hz "
          f"(target 500 Hz: {'met' if held >= 500 else 'missed'})")


if __name__ == "__main__":
    try:
        main()
    except FpoError as e:  # an unusable model file: one line, as fpo eval says it
        raise SystemExit(f"ros_latency.py: error: {e}") from None
