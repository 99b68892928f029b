"""Named reads of findings: the orders a list may take, the rows a list or an export
shows, and identifiers matched whatever their case.

Identifiers are stored as scanners send them (``CVE-2024-3094``, ``GHSA-8r8j-…``,
``openSUSE-SU-2024:0001-1``; packages ``Newtonsoft.Json``, ``openssl``), and people type
them in any case. Both sides go through the database's ``UPPER()``, so the comparison is
the database's own: a package through the expression index ``finding_package_idx`` on
``UPPER(package)``, a vulnerability id through the vulnerabilities table (thousands of
rows, not millions) and then the findings' index on ``vulnerability_id``.
"""

from __future__ import annotations

from django.db.models import QuerySet, Value
from django.db.models.functions import Upper

from findings.models import Finding, Vulnerability
from remediator.core.filtering import sort_keys

from .threat_intel import with_risk

ORDERINGS: dict[str, tuple[str, ...]] = {
    "severity": ("-severity_rank", "-id"),
    "risk": ("-risk_rank", "-id"),
    "epss": ("-epss_rank", "-id"),
    "newest": ("-id",),
}
"""How a list of findings may be sorted (its keyset keys, a unique key last): worst
first, newest first; by risk (KEV, then EPSS, then severity); by EPSS; newest first."""


def findings_sorted(
    queryset: QuerySet[Finding], sort: str, *, one_severity: bool = False
) -> tuple[QuerySet[Finding], tuple[str, ...]]:
    """``queryset`` ready for ``sort`` (annotated when it needs the ranks) and its keys;
    ``-name`` is the order ``name`` reversed.

    Worst first under a filter to one severity is newest first: the rank is the same on
    every row, so the order is the id's alone and a deep page is a range of an index
    (PostgreSQL walked it from the top and discarded 833k rows for page 500 of the
    critical findings)."""
    if sort.lstrip("-") == "severity" and one_severity:
        sort = sort.replace("severity", "newest")
    keys = sort_keys(ORDERINGS, sort)
    if keys[0].lstrip("-") in ("risk_rank", "epss_rank"):
        queryset = with_risk(queryset)
    return queryset, keys


def findings_listed(queryset: QuerySet[Finding] | None = None) -> QuerySet[Finding]:
    """Findings with what the findings page shows of each (no query per row)."""
    queryset = Finding.objects.all() if queryset is None else queryset
    return queryset.select_related("repository__owner", "tag", "vulnerability__intel").defer(
        "vulnerability__description", "locations", "status_reason"
    )


def findings_live() -> QuerySet[Finding]:
    """Findings with their live last sighting and what the API shows of each."""
    return Finding.objects.with_last_seen().select_related(
        "repository__owner", "tag", "vulnerability__intel"
    )


def findings_detailed() -> QuerySet[Finding]:
    """Findings with their live last sighting and what a finding's page shows of it."""
    return Finding.objects.with_last_seen().select_related(
        "repository__owner",
        "tag",
        "vulnerability__intel",
        "first_scan",
        "last_scan",
        "fixed_by_scan",
    )


EXPORT_COLUMNS = (
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
    "owner",
)
_LAST_SEEN = EXPORT_COLUMNS.index("last_seen")


def findings_export_rows(queryset: QuerySet[Finding], keys: tuple[str, ...]):
    """Every row of ``queryset`` as ``EXPORT_COLUMNS`` values, in the order ``keys``,
    streamed from the database in chunks (memory does not grow with rows)."""
    rows = (
        queryset.with_last_seen()
        .order_by(*keys)
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
            "repository__owner__slug",
            "head_seen_at",
        )
    )
    for *row, head in rows.iterator(chunk_size=2000):
        if head is not None and head > row[_LAST_SEEN]:
            row[_LAST_SEEN] = head  # the live last sighting (Finding.seen_at)
        yield row


def vulnerability_ids_like(text: str) -> list[str]:
    """The stored vulnerability ids equal to ``text`` ignoring case (one at most, unless
    two scanners spelled one id two ways)."""
    return list(
        Vulnerability.objects.alias(upper=Upper("id"))
        .filter(upper=Upper(Value(text.strip())))
        .values_list("id", flat=True)
    )


def findings_of_vulnerability(queryset: QuerySet[Finding], text: str) -> QuerySet[Finding]:
    """``queryset`` narrowed to findings of the vulnerability ``text``, ignoring case."""
    return queryset.filter(vulnerability_id__in=vulnerability_ids_like(text))


def findings_of_package(queryset: QuerySet[Finding], text: str) -> QuerySet[Finding]:
    """``queryset`` narrowed to findings in package ``text``, ignoring case."""
    return queryset.alias(package_upper=Upper("package")).filter(
        package_upper=Upper(Value(text.strip()))
    )
