"""SIGINT and SIGTERM as requests to stop at the next safe point (training updates, ROS nodes), and SIGINT kept
away from subprocesses. Handlers can only be set from the main thread; elsewhere these change nothing."""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Callable, Iterator, Optional

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def stop_requests(hard: tuple[int, ...] = (signal.SIGINT,),
                  on_request: Optional[Callable[[int], None]] = None) -> Iterator[list[int]]:
    """While active, SIGINT and SIGTERM are appended to the yielded list instead of interrupting, and ``on_request``
    is called with the first; a later signal in ``hard`` raises ``KeyboardInterrupt`` (stop at once)."""
    requested: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield requested
        return

    def handler(signum: int, _frame) -> None:
        if requested and signum in hard:
            raise KeyboardInterrupt
        requested.append(signum)
        if on_request is not None and len(requested) == 1:
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
