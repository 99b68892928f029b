"""Per-source, per-client webhook rate limit, counted in Django's shared cache.

A fixed one-minute window per (source, client address): every web process counts
in the same cache (the database table by default, Redis in production), so the
limit holds across gunicorn workers and machines. Checked before the body is
read: a refused body is neither read nor stored, and the sender is told when to
retry (429 + ``Retry-After``). When the cache cannot be reached the post is let
through: losing a report is worse than a missed count.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled

from remediator.core.client import client_address

WINDOW_SECONDS = 60
log = logging.getLogger(__name__)


class RateLimited(Throttled):
    """429 ``{"error": "rate_limited", "detail": ...}`` with ``Retry-After`` (DRF sets it)."""

    default_code = "rate_limited"


def source_limit(source: str) -> int:
    """Posts per minute per client for ``source``; 0 means no limit."""
    return int(settings.WEBHOOK_RATE_LIMITS.get(source, settings.WEBHOOK_RATE_LIMIT))


def webhook_rate_check(request: HttpRequest, source: str) -> None:
    """Count this post; raise RateLimited when the client is over ``source``'s limit."""
    limit = source_limit(source)
    if limit <= 0:
        return
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"webhook-rate:{source}:{client_address(request)}:{window}"
    try:
        cache.add(key, 0, timeout=WINDOW_SECONDS * 2)
        count = cache.incr(key)
    except Exception:  # the cache is down or the key expired between add and incr
        log.warning("webhook rate limit not counted for source %s (cache unavailable)", source)
        return
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        raise RateLimited(
            wait=retry_after,
            detail=f"more than {limit} posts a minute to the {source} webhook from this "
            "client; the body was not stored, send it again later.",
        )
