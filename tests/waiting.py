"""Waiting for a real worker (or server thread) to get somewhere, without sleeping blindly."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], seconds: float = 30.0) -> bool:
    """Poll ``predicate`` every 0.1 s until it holds (True) or ``seconds`` pass (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False
