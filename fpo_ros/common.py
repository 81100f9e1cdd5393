"""What both fpo_ros nodes share: QoS parameters, the executor, and ``main`` with clean exit codes."""

from __future__ import annotations

import difflib
import math
import re
import traceback
from typing import Callable, Optional

import rclpy
from rcl_interfaces.msg import IntegerRange, ParameterDescriptor
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.executors import Executor, ExternalShutdownException, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from rclpy.signals import SignalHandlerOptions

from fpo_core.errors import FpoError
from fpo_core.signals import STOP_SIGNALS, stop_requests

RELIABILITIES = {"reliable": ReliabilityPolicy.RELIABLE, "best_effort": ReliabilityPolicy.BEST_EFFORT}
EXIT_ERROR = 1
RENAMED = {"qos_reliability": "observation_reliability and action_reliability"}
"""Parameters that no longer exist, and what replaced them (named when an override still uses them)."""


class StartupError(FpoError):
    """A node cannot start (bad parameter value, missing model): one clear line, non-zero exit."""


class FpoNode(Node):
    """A node ``main`` spins until SIGINT or SIGTERM, or until it sets ``finished``."""

    finished = False

    def before_exit(self) -> None:
        """Runs on the way out while ROS is still up (e.g. a last, safe command); nothing by default."""


def choice_descriptor(description: str, choices: tuple[str, ...], read_only: bool = False) -> ParameterDescriptor:
    """A string parameter restricted to ``choices`` (checked by the node; listed for ``ros2 param describe``)."""
    return ParameterDescriptor(description=description, read_only=read_only,
                               additional_constraints=f"one of: {', '.join(choices)}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise ``StartupError`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise StartupError(f"parameter {name} must be one of {', '.join(choices)}, got {value!r}")


def number(value: object, low: float, high: float) -> Optional[float]:
    """``value`` as a float if it is a finite number (an integer too) in ``[low, high]``, else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high and math.isfinite(value)):
        return None
    return float(value)


def declare_number(node: Node, name: str, default: float, description: str, low: float, high: float,
                   read_only: bool = True) -> float:
    """Declare a float parameter that also takes an integer (``-p rate:=50``, ``ros2 param set ... 50``: rclpy would
    refuse an INTEGER for a DOUBLE), in ``[low, high]``; ``StartupError`` otherwise."""
    allowed = f">= {low:g}" if high == math.inf else f"in [{low:g}, {high:g}]"
    value = node.declare_parameter(name, default, ParameterDescriptor(
        description=f"{description} (a number {allowed})", read_only=read_only, dynamic_typing=True)).value
    checked = number(value, low, high)
    if checked is None:
        raise StartupError(f"parameter {name} must be a number {allowed}, got {value!r}")
    return checked


def declare_qos(node: Node) -> dict[str, QoSProfile]:
    """Declare ``observation_reliability``, ``action_reliability`` and ``qos_depth`` (read-only) and return the
    profiles of the ``observation`` and ``action`` topics. Each topic has its own reliability: sensor drivers often
    publish best_effort, while forward_command_controller subscribes reliably."""
    depth = node.declare_parameter("qos_depth", 1, ParameterDescriptor(
        description="History depth (keep last) of the observation and action topics; 1 acts on the newest only",
        read_only=True, integer_range=[IntegerRange(from_value=1, to_value=1000, step=1)])).value
    profiles = {}
    for topic, note in (("observation", "best_effort also receives from reliable publishers, reliable only from reliable "
                                        "ones"),
                        ("action", "a best_effort publisher does not reach a reliable subscriber such as "
                                   "forward_command_controller's")):
        name = f"{topic}_reliability"
        reliability = node.declare_parameter(name, "reliable", choice_descriptor(
            f"Reliability of the {topic} topic ({note})", tuple(RELIABILITIES), read_only=True)).value
        check_choice(name, reliability, tuple(RELIABILITIES))
        profiles[topic] = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=depth, reliability=RELIABILITIES[reliability],
                                     durability=DurabilityPolicy.VOLATILE)
    return profiles


def check_overrides(node: Node) -> None:
    """Raise ``StartupError`` if a parameter override (``-p``, a ``--params-file`` entry under ``/**`` or the node's
    name, launch's ``parameters``) names a parameter the node does not declare: rclpy would silently ignore it, and a
    misspelt or renamed parameter would leave its default in force. rclpy's own parameters (``use_sim_time``, ...) are
    declared by rclpy and so allowed. Call it after the node's last ``declare_parameter``, before it publishes.
    ``_parameter_overrides`` is private, but present in Humble, Jazzy and Kilted."""
    declared = set(node.get_parameters_by_prefix(""))  # every declared name (Node.list_parameters is Jazzy and later)
    unknown = sorted(name for name in getattr(node, "_parameter_overrides", {}) if name not in declared)
    if not unknown:
        return

    def hint(name: str) -> str:
        if name in RENAMED:
            return f"{name} (renamed: use {RENAMED[name]})"
        close = difflib.get_close_matches(name, declared, n=1)
        return f"{name} (did you mean {close[0]}?)" if close else name

    raise StartupError(f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(hint(n) for n in unknown)}; "
                       f"{node.get_name()} takes: {', '.join(sorted(declared))}")


def make_executor(node: Node) -> Executor:
    """rclpy's EventsExecutor where it exists (rclpy 7.1.4 of Jazzy and later: far less overhead per callback) and the
    node's topics keep one message (``qos_depth`` 1, the default); else single-threaded. With a deeper history,
    observations that come faster than the node acts each queue an event, and the EventsExecutor runs timers from that
    queue: at 5 kHz with ``qos_depth`` 100 the policy node's diagnostics went 3.7 s apart (1.0 s single-threaded) and
    the watchdog's timer waits as long."""
    if not node.has_parameter("qos_depth") or node.get_parameter("qos_depth").value == 1:
        try:
            from rclpy.experimental import EventsExecutor
        except ImportError:
            pass
        else:
            return EventsExecutor(context=node.context)
    return SingleThreadedExecutor(context=node.context)


def main(make_node: Callable[[], FpoNode], name: str, args: Optional[list[str]] = None) -> int:
    """Create the node and spin it until SIGINT, SIGTERM or ``node.finished``; 1 with a fatal log line if it cannot start,
    or if a callback raises (after ``before_exit``, so a crash still sends the last, safe command).

    The signals are handled here, not by rclpy (which would shut ROS down first), so that ``before_exit`` can still
    publish.
    """
    log = rclpy.logging.get_logger(name)
    try:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    except RuntimeError as e:  # rcl's init (RCLError): --ros-args, ROS_DOMAIN_ID; one line, without source locations
        reason = re.sub(r",? at \S+:\d+", "", str(e).splitlines()[0] if str(e) else type(e).__name__)
        hint = " (a list's items must all be of one type: [0.0, 1.5], not [0, 1.5])" if "same type" in reason else ""
        log.fatal(f"cannot start: {reason}{hint}")
        return EXIT_ERROR
    with stop_requests(hard=STOP_SIGNALS) as stop:  # a second signal: out now, without the last message
        try:
            try:
                node = make_node()
            except (FpoError, InvalidParameterTypeException, InvalidParameterValueException) as e:
                log.fatal(f"cannot start: {e}")
                return EXIT_ERROR
            executor = make_executor(node)
            executor.add_node(node)
            failed = False
            try:
                try:
                    while rclpy.ok() and not stop and not node.finished:
                        executor.spin_once(timeout_sec=0.1)
                except ExternalShutdownException:
                    raise
                except Exception:  # a bug or a failing inference in a callback: the last, safe command still goes out
                    log.fatal(f"stopping on an unexpected error:\n{traceback.format_exc()}")
                    failed = True
                if rclpy.ok():
                    node.before_exit()
            finally:
                executor.shutdown()
                node.destroy_node()
            return EXIT_ERROR if failed else 0
        except (KeyboardInterrupt, ExternalShutdownException):
            return 0
        finally:
            rclpy.try_shutdown()
