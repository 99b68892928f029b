"""The overview page: where we stand, where we were, what needs a person."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .. import selectors
from ..charts import Bar, Series, bar_chart, line_chart
from .common import require_perm

TREND_DAYS = (30, 90)


def duration_text(value: timedelta | None) -> str:
    """ "3d 4h", "5h 10m", "12m"; "" for none."""
    if value is None:
        return ""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _days(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        return 30
    return days if days in TREND_DAYS else 30


def _action_chart():
    # The dashboard reads both apps; the findings models never import the engine.
    from remediator.models import ActionState, RemediationAction

    counts = dict(
        RemediationAction.objects.order_by()
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    bars = [
        Bar(label=state.label, value=counts.get(state.value, 0), css_class=f"bar st-{state.value}")
        for state in ActionState
    ]
    return bar_chart(title="Remediation actions by state", bars=bars), counts


def _expensive_figures(days: int, now):
    """The figures that scan the findings table, kept DASHBOARD_OVERVIEW_CACHE_SECONDS
    in Django's cache (0: computed on every view). They are dated on the page."""

    def compute():
        figures = selectors.overview_figures(
            points={
                "Now": now,
                "7 days ago": now - timedelta(days=7),
                "30 days ago": now - timedelta(days=30),
            },
            days=days,
            now=now,
        )
        return figures, selectors.riskiest_images(limit=10), now

    seconds = settings.DASHBOARD_OVERVIEW_CACHE_SECONDS
    if seconds <= 0:
        return compute()
    return cache.get_or_set(f"dashboard:overview:{days}", compute, seconds)


@require_perm("findings.view_finding")
def overview(request: HttpRequest) -> HttpResponse:
    from remediator.models import ActionState

    now = timezone.now()
    days = _days(request)
    figures, risky, as_of = _expensive_figures(days, now)
    snapshots, trend = figures.snapshots, figures.trend
    trend_chart = line_chart(
        title=f"Open critical and high findings, last {days} days",
        labels=[point.day.strftime("%b %d") for point in trend],
        series=[
            Series("Critical", [p.critical for p in trend], "sev-critical"),
            Series("High", [p.high for p in trend], "sev-high", dash="6 3"),
        ],
    )
    actions_chart, action_counts = _action_chart()
    severity_rows = [
        {
            "severity": severity,
            "now": snapshots[0].counts[severity],
            "week": snapshots[1].counts[severity],
            "month": snapshots[2].counts[severity],
            "delta_week": snapshots[0].counts[severity] - snapshots[1].counts[severity],
            "delta_month": snapshots[0].counts[severity] - snapshots[2].counts[severity],
        }
        for severity in selectors.SEVERITIES
    ]
    return render(
        request,
        "findings/overview.html",
        {
            "days": days,
            "trend_days": TREND_DAYS,
            "snapshots": snapshots,
            "severity_rows": severity_rows,
            "fixable": figures.fixable,
            "mttr_text": duration_text(figures.mttr),
            "trend_chart": trend_chart,
            "actions_chart": actions_chart,
            "awaiting": action_counts.get(ActionState.AWAITING_APPROVAL, 0),
            "risky": risky,
            "as_of": as_of,
            "cache_seconds": settings.DASHBOARD_OVERVIEW_CACHE_SECONDS,
            "deliveries": selectors.recent_deliveries(limit=10),
        },
    )
