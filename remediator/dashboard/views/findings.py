"""Findings: filtered keyset list, CSV export of the whole filtered set, detail."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from findings.inventory import running_for_finding
from findings.models import Finding
from findings.seen import scans_that_saw, witnesses_live
from findings.threat_intel.queries import ORDERINGS, sorted_by
from remediator.core import permissions
from remediator.dashboard.common import keyset_page, query_without, require_perm
from remediator.dashboard.filters import FindingFilterForm
from remediator.engine.models import AuditEvent

from .decisions import decision_buttons, tomorrow

LIST_KEYS = ORDERINGS["severity"]
"""Worst first, newest first: the list's default order and the CSV's."""
CSV_COLUMNS = (
    "id",
    "vulnerability",
    "severity",
    "cvss",
    "status",
    "registry",
    "repository",
    "tag",
    "package",
    "package_type",
    "installed_version",
    "fixed_version",
    "first_seen",
    "last_seen",
    "fixed_at",
)


def list_keys(form: FindingFilterForm, keys: tuple[str, ...]) -> tuple[str, ...]:
    """The keyset order of the list (``keys``: the chosen sort's). In the default order,
    worst first, newest first, a severity filter pins the rank to one value, so the
    order is the id's alone: a deep page is then a range of the primary key (PostgreSQL
    walked it from the top and discarded 833k rows for page 500 of the critical
    findings)."""
    if keys == LIST_KEYS and form.is_valid() and form.cleaned_data["severity"]:
        return ("-id",)
    return keys


def _filtered(request: HttpRequest) -> tuple[FindingFilterForm, object]:
    form = FindingFilterForm(request.GET)
    return form, form.apply(Finding.objects.all())


@require_perm(permissions.VIEW_FINDING)
def finding_list(request: HttpRequest) -> HttpResponse:
    form, queryset = _filtered(request)
    sort = form.cleaned_data.get("sort", "") if form.is_valid() else ""
    queryset, keys = sorted_by(queryset, sort)
    page = keyset_page(
        request,
        queryset.select_related("repository", "tag", "vulnerability__intel").defer(
            "vulnerability__description", "locations", "status_reason"
        ),
        keys=list_keys(form, keys),
    )
    return render(
        request,
        "findings/finding_list.html",
        {
            "form": form,
            "page": page,
            "export_query": query_without(request),
            "now": timezone.now(),
        },
    )


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(queryset) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    rows = (
        queryset.with_last_seen()
        .order_by(*LIST_KEYS)
        .values_list(
            "id",
            "vulnerability_id",
            "severity",
            "cvss_score",
            "status",
            "repository__registry",
            "repository__name",
            "tag__name",
            "package",
            "package_type",
            "installed_version",
            "fixed_version",
            "first_seen",
            "last_seen",
            "fixed_at",
            "head_seen_at",
        )
    )
    for *row, head in rows.iterator(chunk_size=2000):
        if head is not None and head > row[LAST_SEEN]:
            row[LAST_SEEN] = head  # the live last sighting (Finding.seen_at)
        yield writer.writerow([_cell(v) for v in row])


LAST_SEEN = CSV_COLUMNS.index("last_seen")


def _cell(value: object) -> object:
    """A CSV cell; text a spreadsheet would run as a formula (report-supplied package
    names, versions) gets a leading apostrophe (OWASP's CSV injection advice)."""
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


@require_perm(permissions.VIEW_FINDING)
def finding_export(request: HttpRequest) -> StreamingHttpResponse:
    """Every row of the current filter as CSV, streamed (memory does not grow with rows)."""
    _, queryset = _filtered(request)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response = StreamingHttpResponse(_csv_rows(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="findings-{stamp}.csv"'
    return response


@require_perm(permissions.VIEW_FINDING)
def finding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(
        Finding.objects.with_last_seen().select_related(
            "repository",
            "tag",
            "vulnerability__intel",
            "first_scan",
            "last_scan",
            "fixed_by_scan",
        ),
        pk=pk,
    )
    seen_by = scans_that_saw(finding, limit=50)
    actions = finding.actions.select_related("tag").order_by("-id")[:20]
    witnesses = witnesses_live(
        finding.witnesses.select_related("first_scan", "last_scan", "absent_since_scan")
    ).order_by("scanner_key")
    decided = (
        AuditEvent.objects.filter(
            kind=AuditEvent.Kind.FINDING, object_type="finding", object_id=str(finding.pk)
        )
        .select_related("actor")
        .order_by("-id")
        .first()
    )
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
            "buttons": decision_buttons(finding, request.user),
            "tomorrow": tomorrow(),
        },
    )
