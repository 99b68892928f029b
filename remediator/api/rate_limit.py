"""Per-source, per-client webhook rate limit, counted in Django's shared cache.

A fixed one-minute window per (source, client address): every web process counts
in the same cache (the database table by default, Redis in production), so the
limit holds across gunicorn workers and machines. Checked before the body is
read: a refused body is neither read nor stored, and the sender is told when to
retry (429 + ``Retry-After``). When the shared cache cannot be reached (the
database, or Redis, is down) each process counts in its own memory instead, with
the same limit: an outage is no free-for-all, though a client spread over N web
processes may then get up to N times the limit.
"""

from __future__ import annotations

import logging
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.http import HttpRequest
from rest_framework.exceptions import Throttled

from remediator.core.client import client_address

WINDOW_SECONDS = 60
log = logging.getLogger(__name__)
PROCESS_COUNTS = LocMemCache("webhook-rate-limit-fallback", {"OPTIONS": {"MAX_ENTRIES": 100_000}})
"""This process's own counts, used while the shared cache is unreachable."""


class RateLimited(Throttled):
    """429 ``{"error": "rate_limited", "detail": ...}`` with ``Retry-After`` (DRF sets it)."""

    default_code = "rate_limited"


def source_limit(source: str) -> int:
    """Posts per minute per client for ``source``; 0 means no limit."""
    return int(settings.WEBHOOK_RATE_LIMITS.get(source, settings.WEBHOOK_RATE_LIMIT))


def _count(counts: BaseCache, key: str) -> int:
    counts.add(key, 0, timeout=WINDOW_SECONDS * 2)
    return counts.incr(key)


def webhook_rate_check(request: HttpRequest, source: str) -> Exception | None:
    """Count this post; raise RateLimited when the client is over ``source``'s limit.

    Returns the shared cache's error when it could not be reached (the post was then
    counted in this process's memory), else None."""
    limit = source_limit(source)
    if limit <= 0:
        return None
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = f"webhook-rate:{source}:{client_address(request)}:{window}"
    unreachable = None
    try:
        count = _count(cache, key)
    except Exception as exc:  # the cache is down, or the key expired between add and incr
        unreachable = exc
        log.warning("webhook rate limit counted in this process for %s: cache unavailable", source)
        count = _count(PROCESS_COUNTS, key)
    if count > limit:
        retry_after = max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))
        raise RateLimited(
            wait=retry_after,
            detail=f"more than {limit} posts a minute to the {source} webhook from this "
            "client; the body was not stored, send it again later.",
        )
    return unreachable
