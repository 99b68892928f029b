"""Waiting on a real worker without timing assertions: poll until true or give up."""

from __future__ import annotations

import time


def wait_for(predicate, seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
