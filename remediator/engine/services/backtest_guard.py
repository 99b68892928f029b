"""Backtests on a budget: answered from the shared cache when the same policies were
replayed over the same window lately, and at most one running per user and
BACKTEST_MAX_RUNNING in all (across every web process), so that a few people asking
for a year of history cannot take the web tier (and the admission webhook beside it)
with them.

Slots are keys ``cache.add``-ed in the shared cache (CACHE_URL: atomic on Redis, one
INSERT on the database cache table), freed when the run ends and in any case after
SLOT_SECONDS (a killed process cannot hold one for ever). When the cache cannot be
reached, one backtest per web process runs at a time.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

from remediator.engine.models import Policy

from .backtest import Backtest, policy_backtest
from .policy_rules import policies_enabled, rule_from_policy

log = logging.getLogger(__name__)
SLOT_SECONDS = 600
"""Longest a slot is held if its run never frees it."""
RETRY_AFTER_SECONDS = 30
_local = threading.BoundedSemaphore(1)


class BacktestBusy(Exception):
    """Too many backtests running: this user's own, or BACKTEST_MAX_RUNNING in all."""

    retry_after = RETRY_AFTER_SECONDS


def _key(days: int, policies: list[Policy]) -> str:
    """The same rules (every field, in order) over the same number of days."""
    rules = repr([(p.pk, p.order, rule_from_policy(p)) for p in policies])
    digest = hashlib.sha256(f"{days}|{rules}".encode()).hexdigest()
    return f"backtest:result:{digest}"


@contextmanager
def backtest_slot(user_key: str) -> Iterator[None]:
    """Hold this user's slot and one of BACKTEST_MAX_RUNNING, or raise BacktestBusy."""
    token = uuid.uuid4().hex
    mine = f"backtest:running:user:{user_key}"
    try:
        if not cache.add(mine, token, SLOT_SECONDS):
            raise BacktestBusy("you have a backtest running already: wait for it to finish")
        held = [mine]
        for n in range(settings.BACKTEST_MAX_RUNNING):
            if cache.add(f"backtest:running:slot:{n}", token, SLOT_SECONDS):
                held.append(f"backtest:running:slot:{n}")
                break
        else:
            cache.delete(mine)
            raise BacktestBusy(
                f"{settings.BACKTEST_MAX_RUNNING} backtests are running "
                "(BACKTEST_MAX_RUNNING): try again in a minute"
            )
    except BacktestBusy:
        raise
    except Exception:  # the shared cache is away: one backtest per process
        log.warning("backtest: shared cache unavailable, limiting this process alone")
        if not _local.acquire(blocking=False):
            raise BacktestBusy("a backtest is running in this process: try again") from None
        try:
            yield
        finally:
            _local.release()
        return
    try:
        yield
    finally:
        try:
            cache.delete_many(held)
        except Exception:  # they expire after SLOT_SECONDS
            log.warning("backtest: slots not freed; they expire in %s s", SLOT_SECONDS)


def policy_backtest_guarded(
    *,
    user_key: str,
    days: int,
    policy_ids: list[int] | None = None,
    now: datetime | None = None,
) -> Backtest:
    """``policy_backtest`` through the cache and the slots (``BacktestBusy`` when none is
    free). ``user_key`` names who asks (their id); ``days`` is cut to BACKTEST_MAX_DAYS."""
    days = max(1, min(days, settings.BACKTEST_MAX_DAYS))
    if policy_ids is None:
        policies = policies_enabled()
    else:
        policies = list(Policy.objects.filter(pk__in=policy_ids).order_by("order", "id"))
    key = _key(days, policies)
    try:
        cached = cache.get(key)
    except Exception:
        cached = None
    if isinstance(cached, Backtest):
        return cached
    with backtest_slot(user_key):
        result = policy_backtest(
            days=days, policy_ids=[p.pk for p in policies] if policy_ids else None, now=now
        )
    try:
        cache.set(key, result, settings.BACKTEST_CACHE_SECONDS)
    except Exception:
        log.warning("backtest: result not cached")
    return result
