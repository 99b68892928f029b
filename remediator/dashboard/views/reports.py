"""The Reports page: time to remediate two ways, SLA compliance by month, overdue counts
and the age of open findings, for one team and severity; each table as CSV too."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from findings.report_params import report_params
from findings.selectors.remediation import RemediationReport, remediation_report
from remediator.core import permissions
from remediator.core.severity import SEVERITIES
from remediator.dashboard.common import require_perm
from remediator.dashboard.csv_export import csv_download
from remediator.dashboard.report_tables import TABLES, Table
from remediator.teams.models import Team

from ..charts import Bar, Series, bar_chart, line_chart


def _charts(report: RemediationReport, tables: dict[str, Table]) -> dict:
    bars = []
    for row in report.by_severity:
        for way, spread, css in (
            ("fix", row.to_fix, f"bar sev-{row.key}"),
            ("not running", row.to_not_running, "bar"),
        ):
            if spread.median_days is not None:
                bars.append(Bar(f"{row.key} · {way}", round(spread.median_days, 1), css))
    compliance = [m for m in report.compliance if m.with_due]  # no fix, no percentage
    return {
        "mttr": bar_chart(title="Median days to remediate, two ways", bars=bars, width=520),
        "compliance": line_chart(
            title="SLA compliance by month (%)",
            labels=[m.month for m in compliance],
            series=[Series("Fixed in time %", [m.percent for m in compliance], "sev-low")],
            height=200,
        ),
        "overdue": bar_chart(
            title="Overdue open findings by team",
            bars=[Bar(row[0], row[-1], "bar sev-high") for row in tables["overdue"].rows],
        ),
        "aging": bar_chart(
            title="Open findings by age",
            bars=[Bar(row[0], row[-1], "bar") for row in tables["aging"].rows],
        ),
    }


@require_perm(permissions.VIEW_FINDING)
def report_page(request: HttpRequest) -> HttpResponse:
    params, problem = report_params(request.GET)
    report = remediation_report(**params) if not problem else remediation_report()
    tables = {name: build(report) for name, build in TABLES.items()}
    return render(
        request,
        "findings/reports.html",
        {
            "report": report,
            "problem": problem,
            "tables": tables,
            "mttr_tables": [tables["mttr-severity"], tables["mttr-team"]],
            "charts": _charts(report, tables),
            "teams": Team.objects.order_by("name").values_list("slug", "name"),
            "severities": SEVERITIES,
            "query": request.GET.urlencode(),
        },
    )


@require_perm(permissions.VIEW_FINDING)
def report_export(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the page, with the page's parameters, as CSV; 400 naming a bad one."""
    if table not in TABLES:
        raise Http404("no such table")
    params, problem = report_params(request.GET)
    if problem:
        return JsonResponse({"error": "invalid", "detail": problem}, status=400)
    shown = TABLES[table](remediation_report(**params))
    return csv_download(f"remediation-{table}", shown.header, shown.rows)
