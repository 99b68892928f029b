"""The overview's table-scanning figures: computed by the worker, read by the page.

Celery beat runs ``overview_refresh`` every DASHBOARD_OVERVIEW_REFRESH_SECONDS; it
computes the figures for every trend window from one pair of grouped scans and
stores them in the shared cache (CACHE_URL), where every web process reads them.
A page view computes them itself only when none are stored (first start, before
beat ran, or the cache was cleared), and stores what it computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from findings.models import Finding
from remediator.core.counting import ListCount, list_count

from .images import RiskyImage, riskiest_images
from .remediation import RemediationSummary, remediation_summary
from .threat_intel import kev_q
from .trends import OverviewFigures, overview_figures_by_days

TREND_DAYS = (30, 90)
RISKY_LIMIT = 10


@dataclass(frozen=True)
class StoredOverview:
    """What the page shows from the findings table, and when it was computed."""

    figures: OverviewFigures
    risky: list[RiskyImage]
    as_of: datetime
    kev_open: ListCount
    """Open findings in CISA's KEV catalogue (the "Do this first" panel)."""
    remediation: RemediationSummary
    """The Remediation card: criticals' time to fix, overdue, SLA compliance."""


def cache_key(days: int) -> str:
    return f"dashboard:overview:v4:{days}"


def _timeout() -> int:
    # Several refresh intervals, so the page still finds figures when beat is late.
    return 10 * max(1, settings.DASHBOARD_OVERVIEW_REFRESH_SECONDS)


def _points(now: datetime) -> dict[str, datetime]:
    return {
        "Now": now,
        "7 days ago": now - timedelta(days=7),
        "30 days ago": now - timedelta(days=30),
    }


def _compute(days: tuple[int, ...], now: datetime) -> dict[int, StoredOverview]:
    figures = overview_figures_by_days(points=_points(now), days=days, now=now)
    risky = riskiest_images(limit=RISKY_LIMIT)
    kev = list_count(Finding.objects.open().filter(kev_q(True)))
    remediation = remediation_summary(now=now)
    return {
        d: StoredOverview(
            figures=figures[d], risky=risky, as_of=now, kev_open=kev, remediation=remediation
        )
        for d in days
    }


def overview_refresh(*, now: datetime | None = None) -> dict[int, StoredOverview]:
    """Recompute the figures of every trend window and store them for all processes."""
    stored = _compute(TREND_DAYS, now or timezone.now())
    cache.set_many({cache_key(d): value for d, value in stored.items()}, _timeout())
    return stored


def overview_read(*, days: int) -> StoredOverview:
    """The stored figures for ``days``; computed and stored here only when none are."""
    stored = cache.get(cache_key(days))
    if stored is None:
        stored = _compute((days,), timezone.now())[days]
        cache.set(cache_key(days), stored, _timeout())
    return stored
