"""Stop requests: the first SIGINT asks, a repeat a moment later stops at once, a duplicate delivery does not."""

import os
import signal
import time

import pytest

from fpo_core.signals import HARD_AFTER_S, stop_requests


def test_a_forwarded_duplicate_is_a_request_and_a_later_repeat_stops_at_once():
    with stop_requests() as stop:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)  # the same Ctrl-C, forwarded by a wrapper such as `timeout`
        assert stop == [signal.SIGINT, signal.SIGINT]
        time.sleep(HARD_AFTER_S)
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)  # the handler runs between bytecodes
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the previous handler is restored"
