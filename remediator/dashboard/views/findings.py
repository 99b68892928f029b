"""Findings: filtered keyset list, CSV export of the whole filtered set, detail."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from findings.filters import FindingFilter
from findings.justifications import JUSTIFICATIONS
from findings.models import Finding
from findings.selectors.findings import (
    EXPORT_COLUMNS,
    ORDERINGS,
    findings_detailed,
    findings_export_rows,
    findings_listed,
)
from findings.selectors.scope import visible
from findings.selectors.seen import scans_that_saw, witnesses_live
from findings.vex.selectors import finding_statements
from remediator.cluster.selectors import running_for_finding
from remediator.core import permissions
from remediator.dashboard.common import (
    keyset_page,
    list_filter,
    query_without,
    require_perm,
    sort_headers,
)
from remediator.dashboard.csv_export import csv_download
from remediator.dashboard.readiness import with_readiness
from remediator.engine.selectors import finding_actions, finding_last_decision
from remediator.engine.services.bulk import OPERATIONS

from .decisions import decision_buttons, tomorrow

SORT_COLUMNS = {"severity": "severity", "exploit": "risk", "first_seen": "newest"}
"""The findings page's sortable columns and the order each sorts by."""
EXPORT_KEYS = ORDERINGS["severity"]
"""The CSV's order: worst first, newest first."""


@require_perm(permissions.VIEW_FINDING)
def finding_list(request: HttpRequest) -> HttpResponse:
    filterset, queryset = list_filter(request, FindingFilter, Finding.objects.all())
    queryset, keys = filterset.sorted(queryset, default="severity")
    page = keyset_page(request, findings_listed(queryset), keys=keys)
    return render(
        request,
        "findings/finding_list.html",
        {
            "filter": filterset,
            "page": page,
            "sorts": sort_headers(request, filterset, SORT_COLUMNS, default="severity"),
            "bulk_operations": [
                (op, label)
                for op, (label, perm) in OPERATIONS.items()
                if request.user.has_perm(perm)
            ],
            "tomorrow": tomorrow(),
            "export_query": query_without(request),
            "now": timezone.now(),
        },
    )


@require_perm(permissions.VIEW_FINDING)
def finding_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every row of the current filter as CSV, streamed (memory does not grow with rows)."""
    _, queryset = list_filter(request, FindingFilter, Finding.objects.all())
    return csv_download("findings", EXPORT_COLUMNS, findings_export_rows(queryset, EXPORT_KEYS))


@require_perm(permissions.VIEW_FINDING)
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(visible(findings_detailed(), request.user), pk=pk)
    seen_by = scans_that_saw(finding, limit=50)
    actions = list(finding_actions(finding, limit=20))
    with_readiness(actions)
    witnesses = witnesses_live(
        finding.witnesses.select_related("first_scan", "last_scan", "absent_since_scan")
    ).order_by("scanner_key")
    decided = finding_last_decision(finding)
    statements = finding_statements(Finding.objects.filter(pk=finding.pk)).get(finding.pk, [])
    return render(
        request,
        "findings/finding_detail.html",
        {
            "finding": finding,
            "running": running_for_finding(finding.pk),
            "seen_by": seen_by,
            "witnesses": witnesses,
            "actions": actions,
            "decided": decided,
            "vex_statements": statements,
            "buttons": decision_buttons(finding, request.user),
            "tomorrow": tomorrow(),
            "now": timezone.now(),
            "justifications": [(value, *text) for value, text in JUSTIFICATIONS.items()],
        },
    )
