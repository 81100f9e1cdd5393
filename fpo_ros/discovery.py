"""Keeping DDS discovery on this machine, on every ROS 2 distribution the package supports (no rclpy needed)."""

from __future__ import annotations

import os
from typing import Mapping


def loopback_env(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The variables that keep discovery on loopback: ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` (Iron and later) and,
    on Humble, which predates it, ``ROS_LOCALHOST_ONLY=1`` (later distributions deprecate that one)."""
    env = {"ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
    if environ.get("ROS_DISTRO") == "humble":
        env["ROS_LOCALHOST_ONLY"] = "1"
    return env


def isolate() -> None:
    """This process and what it starts: discovery on loopback and, unless ``ROS_DOMAIN_ID`` is set, a domain of its own
    (from the pid, 1 to 101: ids above 101 reach ephemeral ports)."""
    os.environ.update(loopback_env())
    os.environ.setdefault("ROS_DOMAIN_ID", str(1 + os.getpid() % 101))
