"""The audit log: every transition and outside call, filterable, keyset paginated."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from remediator.core import permissions
from remediator.dashboard.common import keyset_page, list_filter, require_perm
from remediator.engine.filters import AuditEventFilter
from remediator.engine.selectors import audit_events_listed


@require_perm(permissions.VIEW_AUDIT)
def audit_list(request: HttpRequest) -> HttpResponse:
    filterset, queryset = list_filter(request, AuditEventFilter, audit_events_listed())
    page = keyset_page(request, queryset, keys=("-id",))
    return render(request, "remediator/audit_list.html", {"filter": filterset, "page": page})
