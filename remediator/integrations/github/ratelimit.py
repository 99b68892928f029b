"""GitHub's rate-limit answers: how long to wait, or None when it is not one.

From GitHub's "Rate limits for the REST API" and "Troubleshooting the REST API":
a primary or secondary rate limit is answered with 403 or 429. If ``retry-after``
is present, wait that many seconds; else if ``x-ratelimit-remaining`` is 0, wait
until ``x-ratelimit-reset`` (UTC epoch seconds); else (a secondary limit named
only in the message) wait at least one minute. Any other 403 (bad token, no
permission) is not a rate limit and stays permanent.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

RATE_LIMIT_STATUSES = (403, 429)
SECONDARY_WAIT = 60.0
"""GitHub: "Otherwise, wait for at least one minute before retrying"."""


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None


def rate_limit_wait(
    status: int, headers: Mapping[str, str], body: str, *, now: float | None = None
) -> float | None:
    """Seconds to wait before trying again, or None when the answer is not a rate limit."""
    if status not in RATE_LIMIT_STATUSES:
        return None
    retry_after = _number(headers.get("retry-after"))
    if retry_after is not None:
        return max(retry_after, 0.0)
    if headers.get("x-ratelimit-remaining") == "0":
        reset = _number(headers.get("x-ratelimit-reset"))
        if reset is not None:
            # one second past the reset: it is whole seconds, and clocks differ
            return max(reset - (time.time() if now is None else now), 0.0) + 1.0
        return SECONDARY_WAIT
    if "rate limit" in body.lower():
        return SECONDARY_WAIT
    if status == 429:
        return SECONDARY_WAIT
    return None
