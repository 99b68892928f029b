"""The overview page: where we stand, where we were, what needs a person."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from findings.selectors.deliveries import recent_deliveries
from findings.selectors.overview import TREND_DAYS, overview_read
from remediator.cluster.selectors import exposure_ranking
from remediator.core import permissions
from remediator.core.severity import SEVERITIES
from remediator.dashboard.common import require_perm
from remediator.dashboard.do_first import RUNNING_RANKED, first_things
from remediator.engine.checklist.summary import setup_to_do
from remediator.engine.models import ActionState
from remediator.engine.selectors import actions_by_state

from ..charts import Bar, Series, bar_chart, line_chart
from .setup import may_see_setup


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
    counts = actions_by_state()
    bars = [
        Bar(label=state.label, value=counts.get(state.value, 0), css_class=f"bar st-{state.value}")
        for state in ActionState
    ]
    return bar_chart(title="Remediation actions by state", bars=bars), counts


@require_perm(permissions.VIEW_FINDING)
def overview(request: HttpRequest) -> HttpResponse:
    days = _days(request)
    stored = overview_read(days=days)  # computed by the worker (findings.selectors.overview)
    figures = stored.figures
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
    ranked = exposure_ranking(limit=RUNNING_RANKED)
    to_set_up = []
    if may_see_setup(request.user):
        to_set_up = setup_to_do(serving=request.build_absolute_uri("/"))
    severity_rows = [
        {
            "severity": severity,
            "now": snapshots[0].counts[severity],
            "week": snapshots[1].counts[severity],
            "month": snapshots[2].counts[severity],
            "delta_week": snapshots[0].counts[severity] - snapshots[1].counts[severity],
            "delta_month": snapshots[0].counts[severity] - snapshots[2].counts[severity],
        }
        for severity in SEVERITIES
    ]
    return render(
        request,
        "findings/overview.html",
        {
            "days": days,
            "first": first_things(kev=stored.kev_open, action_counts=action_counts, ranked=ranked),
            "trend_days": TREND_DAYS,
            "snapshots": snapshots,
            "severity_rows": severity_rows,
            "fixable": figures.fixable,
            "mttr_text": duration_text(figures.mttr),
            "trend_chart": trend_chart,
            "actions_chart": actions_chart,
            "awaiting": action_counts.get(ActionState.AWAITING_APPROVAL, 0),
            "risky": stored.risky,
            "stored": stored,
            "as_of": stored.as_of,
            "refresh_seconds": settings.DASHBOARD_OVERVIEW_REFRESH_SECONDS,
            "deliveries": recent_deliveries(limit=10),
            "exposed": ranked[:10],
            "stale_days": settings.INVENTORY_STALE_DAYS,
            "to_set_up": to_set_up,
        },
    )
