"""SIGINT and SIGTERM as requests to stop at the next safe point (training updates, ROS nodes), and SIGINT kept
away from subprocesses. Handlers can only be set from the main thread; elsewhere these change nothing."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from typing import Callable, Iterator, Optional

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
HARD_AFTER_S = 1.0
"""A repeat counts as "stop at once" only this long after the first request: a wrapper that forwards the terminal's
Ctrl-C (``timeout``, ``ros2 launch --noninteractive``) delivers the same SIGINT twice within milliseconds."""


@contextlib.contextmanager
def stop_requests(hard: tuple[int, ...] = (signal.SIGINT,),
                  on_request: Optional[Callable[[int], None]] = None) -> Iterator[list[int]]:
    """While active, SIGINT and SIGTERM are appended to the yielded list instead of interrupting, and ``on_request``
    is called with the first; a signal in ``hard`` at least ``HARD_AFTER_S`` after the first raises ``KeyboardInterrupt``
    (stop at once)."""
    requested: list[int] = []
    first = 0.0
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def handler(signum: int, _frame) -> None:
        nonlocal first
        if requested and signum in hard and time.monotonic() - first >= HARD_AFTER_S:
            raise KeyboardInterrupt
        requested.append(signum)
        if len(requested) == 1:
            first = time.monotonic()
            if on_request is not None:
                on_request(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield requested
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored while subprocesses start: they inherit that and keep ignoring it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
