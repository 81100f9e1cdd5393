"""The test process's rclpy side: a node on the test's domain, bounded waits, diagnostics parsing."""

from __future__ import annotations

import time
from typing import Callable, Optional

import rclpy
from diagnostic_msgs.msg import DiagnosticArray
from rcl_interfaces.srv import SetParameters
from rclpy.context import Context
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import Float64MultiArray

from tests.ros.procs import STARTUP_S, Proc

CALL_S = 10.0

class RosHarness:
    """An rclpy node in the test process, on the test's own domain."""

    def __init__(self, domain_id: int):
        self.context = Context()
        rclpy.init(context=self.context, domain_id=domain_id)
        self.node = Node("fpo_test", context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)
        self.qos = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
        self._setters: dict[str, object] = {}

    def collect(self, msg_type: type, topic: str, qos: Optional[QoSProfile] = None) -> list:
        """Subscribe; received messages are appended to the returned list (as the executor spins)."""
        received: list = []
        self.node.create_subscription(msg_type, topic, received.append, qos or self.qos)
        return received

    def publisher(self, topic: str, msg_type: type = Float64MultiArray):
        return self.node.create_publisher(msg_type, topic, self.qos)

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=min(0.01, max(0.0, end - time.monotonic())))

    def wait_for(self, cond: Callable[[], bool], timeout: float, what: str | Callable[[], str], every: Optional[Callable[[], None]] = None,
                 proc: Optional[Proc] = None) -> None:
        """Spin until ``cond()``; ``every()`` runs each 50 ms (e.g. to publish); fail naming ``what`` after ``timeout``."""
        end = time.monotonic() + timeout
        next_call = 0.0
        while not cond():
            now = time.monotonic()
            if now > end:
                tail = f"\nnode output:\n{proc.output()}" if proc is not None else ""
                raise AssertionError(f"timed out after {timeout} s waiting for {_text(what)}{tail}")
            if proc is not None and proc.popen.poll() is not None and not cond():
                raise AssertionError(f"node exited with {proc.popen.returncode} while waiting for {_text(what)}:\n{proc.output()}")
            if every is not None and now >= next_call:
                every()
                next_call = now + 0.05
            self.executor.spin_once(timeout_sec=0.01)

    def call(self, client, request, timeout: float, what: str):
        """Call a service and return its response (bounded wait)."""
        future = client.call_async(request)
        self.wait_for(future.done, timeout, what)
        return future.result()

    def set_parameter(self, name: str, value, proc: Proc, node: str = "/fpo_policy") -> tuple[bool, str]:
        """Set one parameter of ``node`` through its set_parameters service, as `ros2 param set` does: (successful,
        reason). The first call waits for the service."""
        client = self._setters.get(node)
        if client is None:
            client = self._setters[node] = self.node.create_client(SetParameters, f"{node}/set_parameters")
            self.wait_for(client.service_is_ready, STARTUP_S, f"the {node}/set_parameters service", proc=proc)
        req = SetParameters.Request(parameters=[Parameter(name, value=value).to_parameter_msg()])
        result = self.call(client, req, CALL_S, f"set {name}={value!r}").results[0]
        return result.successful, result.reason

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)


def _text(what: str | Callable[[], str]) -> str:
    return what() if callable(what) else what


def diagnostic_values(msg: DiagnosticArray) -> dict[str, str]:
    """Key/values of the policy node's status in a DiagnosticArray."""
    return {kv.key: kv.value for kv in msg.status[0].values}
