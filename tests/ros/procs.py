"""Node subprocesses for the ROS tests (no rclpy needed here)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

ROS_MISSING = "ROS 2 (rclpy) is not installed: pip install -e '.[ros]' or source a ROS 2 setup.bash"
STARTUP_S = 30.0
"""Bound for a node to start and be discovered (imports, model load and DDS discovery on a busy machine)."""


class Proc:
    """A node subprocess whose output goes to a log file (read it with ``output()``)."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path):
        self.args, self.log = args, log
        self._file = open(log, "wb")
        self.popen = subprocess.Popen(args, env=env, stdout=self._file, stderr=subprocess.STDOUT)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait(self, timeout: float) -> int:
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{' '.join(self.args)} still running after {timeout} s; output:\n{self.output()}") from None

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
        self._file.close()
