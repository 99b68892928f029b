"""The audit log: every transition and outside call, filterable (by day too), keyset
paginated, and downloadable as CSV with the same filters."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render

from remediator.core import permissions
from remediator.dashboard.common import keyset_page, list_filter, query_without, require_perm
from remediator.dashboard.csv_export import csv_download
from remediator.engine.filters import AuditEventFilter
from remediator.engine.models import AuditEvent
from remediator.engine.selectors import (
    AUDIT_EXPORT_COLUMNS,
    audit_events_listed,
    audit_export_rows,
)


@require_perm(permissions.VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    filterset, queryset = list_filter(request, AuditEventFilter, audit_events_listed())
    page = keyset_page(request, queryset, keys=("-id",))
    context = {"filter": filterset, "page": page, "export_query": query_without(request)}
    return render(request, "remediator/audit_list.html", context)


@require_perm(permissions.VIEW_AUDIT)
def audit_export(request: HttpRequest) -> StreamingHttpResponse | JsonResponse:
    """Every event the page's filters let through (not only one page), as CSV; 400
    naming the filter when one is not valid (never an empty file that looks complete)."""
    filterset, queryset = list_filter(request, AuditEventFilter, AuditEvent.objects.all())
    if not filterset.is_valid():
        problems = "; ".join(f"{name}: {' '.join(e)}" for name, e in filterset.errors.items())
        return JsonResponse({"error": "invalid", "detail": problems}, status=400)
    return csv_download("audit", AUDIT_EXPORT_COLUMNS, audit_export_rows(queryset))
