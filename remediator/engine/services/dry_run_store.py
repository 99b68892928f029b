"""The Policies page's dry run: computed by the worker, read by the page.

``policy_dry_run`` reads every open finding (seconds at a million), so it does
not run in a page view. The worker runs it (``remediator.policy_dry_run_refresh``:
beat every POLICY_DRY_RUN_REFRESH_SECONDS, the page's "Run dry run now" button,
and every change to the policies from the admin or apply_config) and stores the
result in the shared cache (CACHE_URL) with its time. A page view only computes
it itself when none is stored and there are few open findings
(POLICY_DRY_RUN_INLINE_LIMIT), so a fresh install shows a result at once.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from findings.models import Finding
from remediator.engine.models import Policy

from . import queue
from .dry_run import RuleDryRun, policy_dry_run

CACHE_KEY = "remediator:policy-dry-run:v1"
QUEUED_KEY = "remediator:policy-dry-run:queued"
QUEUED_TIMEOUT = 600
"""A queued run not started by then (worker down) no longer blocks asking again."""


@dataclass(frozen=True)
class StoredDryRun:
    results: list[RuleDryRun]
    as_of: datetime
    seconds: float
    policies_version: tuple
    """``policies_version()`` when it ran: the page says when the policies changed since."""


def policies_version() -> tuple:
    """Changes whenever a policy is created, edited or deleted (one small query)."""
    found = Policy.objects.aggregate(count=Count("id"), changed=Max("updated_at"))
    return (found["count"], found["changed"])


def policy_dry_run_refresh() -> StoredDryRun:
    """Run the dry run over all enabled policies and store it for every process."""
    version = policies_version()
    started = time.perf_counter()
    results = policy_dry_run()
    stored = StoredDryRun(
        results=results,
        as_of=timezone.now(),
        seconds=time.perf_counter() - started,
        policies_version=version,
    )
    cache.set(CACHE_KEY, stored, None)
    return stored


@dataclass(frozen=True)
class DryRunState:
    """What the Policies page shows."""

    stored: StoredDryRun | None
    queued: bool
    """A refresh is queued and has not started yet."""
    stale: bool
    """The policies changed after the stored dry run ran."""


def policy_dry_run_refresh_queued() -> StoredDryRun:
    """The worker's refresh: a change made while it runs queues the next one."""
    cache.delete(QUEUED_KEY)
    return policy_dry_run_refresh()


def policy_dry_run_read() -> DryRunState:
    """The stored dry run; computed here only when none is and few findings are open."""
    found = cache.get_many([CACHE_KEY, QUEUED_KEY])
    stored = found.get(CACHE_KEY)
    if stored is None and _few_open_findings():
        stored = policy_dry_run_refresh()
    stale = stored is not None and stored.policies_version != policies_version()
    return DryRunState(stored=stored, queued=QUEUED_KEY in found, stale=stale)


def policy_dry_run_queued() -> bool:
    return cache.get(QUEUED_KEY) is not None


def policy_dry_run_enqueue() -> bool:
    """Queue one refresh for the worker (after commit); False when one is already queued."""
    if policy_dry_run_queued():
        return False
    transaction.on_commit(_enqueue)
    return True


def _enqueue() -> None:
    if cache.add(QUEUED_KEY, timezone.now(), QUEUED_TIMEOUT):
        try:
            queue.enqueue_dry_run_refresh()
        except Exception:
            cache.delete(QUEUED_KEY)
            raise


def _few_open_findings() -> bool:
    limit = settings.POLICY_DRY_RUN_INLINE_LIMIT
    return Finding.objects.open().order_by()[:limit].count() < limit
