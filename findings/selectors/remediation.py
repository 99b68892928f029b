"""Remediation figures, the queries: time to fix two ways, SLA compliance by month,
overdue counts and the age of open findings. ``findings.remediation`` holds the pure part.

Time to verified fix: ``fixed_at - first_seen`` of each finding fixed in the window
(``fixed_by_scan`` is the scan that proved it). Time to no longer running: the
vulnerable digests of a finding are the images of its tag that scans saw from its
first_seen until (not including) its fix; it stopped running at the latest
``Image.running_last_seen`` among them. A finding none of whose digests was seen
running is left out of that measure; one whose vulnerable digest was seen after the fix
and is still in the inventory is "still running", counted apart.

Percentiles: PostgreSQL computes them (``percentile_cont``: one statement for every
grouping, the per-finding subqueries run once each); other databases (SQLite) read one
row per fixed finding and ``findings.remediation.percentile`` interpolates the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from findings.bulk import is_postgresql
from findings.models import Finding, Scan
from findings.querysets import ACTIVE_STATUSES
from findings.remediation import (
    AGE_BUCKETS,
    DAY,
    UNOWNED,
    ComplianceMonth,
    FixedRow,
    MttrRow,
    Spread,
    month_start,
    months_back,
    mttr_rows,
)
from remediator.core.severity import SEVERITIES

DEFAULT_WINDOW_DAYS = 90
COMPLIANCE_MONTHS = 12
TEAM_KEY = Coalesce(F("repository__owner__slug"), Value(UNOWNED))


def findings_scoped(*, team: str = "", severity: str = "") -> QuerySet[Finding]:
    """Findings of one team's repositories (``UNOWNED``: no team's) and one severity;
    an empty value does not filter."""
    findings = Finding.objects.order_by()
    if team == UNOWNED:
        findings = findings.filter(repository__owner__isnull=True)
    elif team:
        findings = findings.filter(repository__owner__slug=team)
    if severity:
        findings = findings.filter(severity=severity)
    return findings


def fixed_between(findings: QuerySet[Finding], since: datetime, until: datetime) -> QuerySet:
    """Findings fixed in [since, until), each with ``stopped_at`` (the latest sighting of
    a vulnerable digest) and ``still_running``."""
    vulnerable = Scan.objects.order_by().filter(
        tag=OuterRef("tag"),
        scanned_at__gte=OuterRef("first_seen"),
        scanned_at__lt=OuterRef("fixed_at"),
    )
    stopped = (
        vulnerable.filter(image__running_last_seen__isnull=False)
        .values("tag")
        .annotate(at=Max("image__running_last_seen"))
        .values("at")
    )
    running = vulnerable.filter(image__running__last_seen__gt=OuterRef("fixed_at"))
    return findings.filter(
        status=Finding.Status.FIXED, fixed_at__gte=since, fixed_at__lt=until
    ).annotate(stopped_at=Subquery(stopped), still_running=Exists(running))


GROUPINGS = ("all", "severity", "team")

# One statement on PostgreSQL: the per-finding subqueries run once per finding (a CTE),
# then every grouping's counts and percentiles come from one GROUP BY GROUPING SETS.
_SQL = """
WITH f AS ({inner}),
m AS (
  SELECT severity, team, still_running, stopped_at IS NOT NULL AND NOT still_running AS gone,
         EXTRACT(EPOCH FROM fixed_at - first_seen) AS fix_s,
         GREATEST(EXTRACT(EPOCH FROM stopped_at - first_seen), 0) AS gone_s
  FROM f
)
SELECT GROUPING(severity) AS g_severity, GROUPING(team) AS g_team, severity, team,
       count(*),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY fix_s),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY fix_s),
       count(*) FILTER (WHERE gone),
       percentile_cont(0.5) WITHIN GROUP (ORDER BY gone_s) FILTER (WHERE gone),
       percentile_cont(0.9) WITHIN GROUP (ORDER BY gone_s) FILTER (WHERE gone),
       count(*) FILTER (WHERE still_running)
FROM m GROUP BY GROUPING SETS ((), (severity), (team))
"""


def _rows_of(fixed: QuerySet):  # -> QuerySet of tuples
    return fixed.annotate(team=TEAM_KEY).values_list(
        "severity", "team", "first_seen", "fixed_at", "stopped_at", "still_running"
    )


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else float(seconds) / DAY


def _mttr_in_sql(fixed: QuerySet) -> dict[str, list[MttrRow]]:
    inner, params = _rows_of(fixed).query.sql_with_params()
    found: dict[str, dict[str, MttrRow]] = {by: {} for by in GROUPINGS}
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(inner=inner), params)
        for g_sev, g_team, severity, team, n, f50, f90, gone, g50, g90, running in cursor:
            if not n:  # the grand total of nothing
                continue
            by, key = (
                ("all", "all")
                if g_sev and g_team
                else ("team", team)
                if g_sev
                else ("severity", severity)
            )
            found[by][key] = MttrRow(
                key=key,
                fixed=n,
                to_fix=Spread(n, _days(f50), _days(f90)),
                to_not_running=Spread(gone, _days(g50), _days(g90)),
                still_running=running,
                never_running=n - gone - running,
            )
    return {by: [rows[key] for key in _ordered(rows, by)] for by, rows in found.items()}


def _ordered(keys, by: str) -> list[str]:
    first = SEVERITIES if by == "severity" else ()
    return [k for k in first if k in keys] + sorted(k for k in keys if k not in first)


def _mttr_in_python(fixed: QuerySet) -> dict[str, list[MttrRow]]:
    rows = list(_rows_of(fixed).iterator(chunk_size=5000))
    return {
        "all": mttr_rows(FixedRow("all", *row[2:]) for row in rows),
        "severity": mttr_rows((FixedRow(row[0], *row[2:]) for row in rows), keys=SEVERITIES),
        "team": mttr_rows(FixedRow(row[1], *row[2:]) for row in rows),
    }


def mttr(fixed: QuerySet) -> dict[str, list[MttrRow]]:
    """Time to remediate, both ways, over the findings ``fixed_between`` gave: for all of
    them ("all"), per severity and per team, each a list of rows (none when nothing was
    fixed)."""
    if is_postgresql():
        return _mttr_in_sql(fixed)
    return _mttr_in_python(fixed)


def compliance_by_month(
    findings: QuerySet[Finding], *, now: datetime, months: int = COMPLIANCE_MONTHS
) -> list[ComplianceMonth]:
    """Per month of the last ``months`` (this one included): findings fixed then that had
    a due date, and how many of them were fixed by it (one grouped statement)."""
    labels = months_back(timezone.localtime(now), months)
    start = month_start(labels[0], timezone.get_current_timezone())
    rows = (
        findings.filter(status=Finding.Status.FIXED, fixed_at__gte=start, due_at__isnull=False)
        .annotate(month=TruncMonth("fixed_at"))
        .values("month")
        .annotate(n=Count("id"), in_time=Count("id", filter=Q(fixed_at__lte=F("due_at"))))
    )
    found = {row["month"].strftime("%Y-%m"): row for row in rows}
    return [
        ComplianceMonth(
            month=label,
            with_due=found.get(label, {}).get("n", 0),
            in_time=found.get(label, {}).get("in_time", 0),
        )
        for label in labels
    ]


@dataclass(frozen=True)
class Count2:
    """One count of open findings under two keys (team or bucket, and severity)."""

    key: str
    severity: str
    count: int


def overdue_counts(findings: QuerySet[Finding], *, now: datetime) -> list[Count2]:
    """Open findings past their due date, by team and severity (one statement)."""
    rows = (
        findings.filter(status__in=ACTIVE_STATUSES, due_at__lt=now)
        .annotate(team=TEAM_KEY)
        .values("team", "severity")
        .annotate(n=Count("id"))
    )
    return sorted(
        (Count2(row["team"], row["severity"], row["n"]) for row in rows),
        key=lambda c: (c.key, _severity_index(c.severity)),
    )


def _severity_index(severity: str) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def aging_counts(findings: QuerySet[Finding], *, now: datetime) -> list[Count2]:
    """Open findings by age (AGE_BUCKETS, from first_seen) and severity (one statement)."""
    bucket = Case(
        *(
            When(first_seen__gt=now - timedelta(days=high), then=Value(index))
            for index, (_, _, high) in enumerate(AGE_BUCKETS)
            if high is not None
        ),
        default=Value(len(AGE_BUCKETS) - 1),
        output_field=IntegerField(),
    )
    rows = (
        findings.filter(status__in=ACTIVE_STATUSES)
        .annotate(bucket=bucket)
        .values("bucket", "severity")
        .annotate(n=Count("id"))
    )
    return sorted(
        (Count2(AGE_BUCKETS[row["bucket"]][0], row["severity"], row["n"]) for row in rows),
        key=lambda c: ([b[0] for b in AGE_BUCKETS].index(c.key), _severity_index(c.severity)),
    )


@dataclass(frozen=True)
class RemediationReport:
    since: datetime
    until: datetime
    team: str
    severity: str
    overall: MttrRow
    by_severity: list[MttrRow]
    by_team: list[MttrRow]
    compliance: list[ComplianceMonth]
    overdue: list[Count2]
    aging: list[Count2]
    as_of: datetime = field(default_factory=timezone.now)

    @property
    def overdue_total(self) -> int:
        return sum(c.count for c in self.overdue)

    @property
    def compliance_total(self) -> ComplianceMonth:
        """All months of the compliance table together."""
        return ComplianceMonth.total(self.compliance)


def remediation_report(
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    team: str = "",
    severity: str = "",
    now: datetime | None = None,
) -> RemediationReport:
    """Every figure of the Reports page and the API for one team / severity."""
    now = now or timezone.now()
    until = until or now
    since = since or until - timedelta(days=DEFAULT_WINDOW_DAYS)
    scoped = findings_scoped(team=team, severity=severity)
    fixed = fixed_between(scoped, since, until)
    spreads = mttr(fixed)
    return RemediationReport(
        since=since,
        until=until,
        team=team,
        severity=severity,
        overall=next(iter(spreads["all"]), None) or MttrRow.none("all"),
        by_severity=spreads["severity"],
        by_team=spreads["team"],
        compliance=compliance_by_month(scoped, now=now),
        overdue=overdue_counts(scoped, now=now),
        aging=aging_counts(scoped, now=now),
        as_of=now,
    )


@dataclass(frozen=True)
class RemediationSummary:
    """The overview's card: criticals' time to remediate, overdue, compliance."""

    critical: MttrRow
    overdue: int
    compliance: ComplianceMonth
    window_days: int = DEFAULT_WINDOW_DAYS


def remediation_summary(*, now: datetime | None = None) -> RemediationSummary:
    now = now or timezone.now()
    scoped = findings_scoped()
    critical = fixed_between(
        scoped.filter(severity="critical"), now - timedelta(days=DEFAULT_WINDOW_DAYS), now
    )
    return RemediationSummary(
        critical=next(iter(mttr(critical)["all"]), None) or MttrRow.none("all"),
        overdue=scoped.filter(status__in=ACTIVE_STATUSES, due_at__lt=now).count(),
        compliance=ComplianceMonth.total(compliance_by_month(scoped, now=now)),
    )
