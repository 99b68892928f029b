"""Remediation figures, the queries: time to fix two ways, SLA compliance by month,
overdue counts and the age of open findings. ``findings.remediation`` holds the pure part.

Time to verified fix: ``fixed_at - first_seen`` of each finding fixed in the window
(``fixed_by_scan`` is the scan that proved it). Time to no longer running: the
vulnerable digests of a finding are the images of its tag that scans saw from its
first_seen until (not including) its fix; it stopped running at the latest
``Image.running_last_seen`` among them. A finding none of whose digests was seen
running is left out of that measure; one whose vulnerable digest was seen after the fix
and is still in the inventory is "still running", counted apart.

Percentiles: PostgreSQL computes them (``percentile_cont``, one grouped statement per
grouping); other databases (SQLite) read one row per fixed finding and
``findings.remediation.percentile`` interpolates the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Aggregate,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, TruncMonth
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


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, *, fraction: float) -> None:
        super().__init__(expression, fraction=float(fraction))


class EpochSeconds(Func):
    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


GROUPINGS = {"severity": F("severity"), "team": TEAM_KEY, "all": Value("all")}


def _mttr_in_sql(fixed: QuerySet, by: str) -> list[MttrRow]:
    to_fix = EpochSeconds(
        ExpressionWrapper(F("fixed_at") - F("first_seen"), output_field=DurationField())
    )
    stopped = Q(still_running=False, stopped_at__isnull=False)
    to_gone = Case(
        When(
            stopped,
            then=Greatest(
                EpochSeconds(
                    ExpressionWrapper(
                        F("stopped_at") - F("first_seen"), output_field=DurationField()
                    )
                ),
                Value(0.0),
            ),
        ),
        output_field=FloatField(),
    )
    rows = (
        fixed.annotate(group=GROUPINGS[by])
        .values("group")
        .annotate(
            fixed=Count("id"),
            fix_median=PercentileCont(to_fix, fraction=0.5),
            fix_p90=PercentileCont(to_fix, fraction=0.9),
            gone=Count("id", filter=stopped),
            gone_median=PercentileCont(to_gone, fraction=0.5),
            gone_p90=PercentileCont(to_gone, fraction=0.9),
            running=Count("id", filter=Q(still_running=True)),
        )
    )

    def days(seconds: float | None) -> float | None:
        return None if seconds is None else float(seconds) / DAY

    found = {
        row["group"]: MttrRow(
            key=row["group"],
            fixed=row["fixed"],
            to_fix=Spread(row["fixed"], days(row["fix_median"]), days(row["fix_p90"])),
            to_not_running=Spread(row["gone"], days(row["gone_median"]), days(row["gone_p90"])),
            still_running=row["running"],
            never_running=row["fixed"] - row["gone"] - row["running"],
        )
        for row in rows
        if row["fixed"]  # grouped by a constant, an empty set still gives one row
    }
    return [found[key] for key in _ordered(found, by)]


def _ordered(keys, by: str) -> list[str]:
    first = SEVERITIES if by == "severity" else ()
    return [k for k in first if k in keys] + sorted(k for k in keys if k not in first)


def _mttr_in_python(fixed: QuerySet, by: str) -> list[MttrRow]:
    rows = fixed.annotate(group=GROUPINGS[by]).values_list(
        "group", "first_seen", "fixed_at", "stopped_at", "still_running"
    )
    return mttr_rows(
        (FixedRow(*row) for row in rows.iterator(chunk_size=5000)),
        keys=SEVERITIES if by == "severity" else (),
    )


def mttr(fixed: QuerySet, *, by: str) -> list[MttrRow]:
    """Time to remediate, both ways, per ``by`` ("severity", "team" or "all") over the
    findings ``fixed_between`` gave."""
    if is_postgresql():
        return _mttr_in_sql(fixed, by)
    return _mttr_in_python(fixed, by)


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
    groupings: Sequence[str] = ("all", "severity", "team"),
) -> RemediationReport:
    """Every figure of the Reports page and the API for one team / severity."""
    now = now or timezone.now()
    until = until or now
    since = since or until - timedelta(days=DEFAULT_WINDOW_DAYS)
    scoped = findings_scoped(team=team, severity=severity)
    fixed = fixed_between(scoped, since, until)
    spreads = {by: mttr(fixed, by=by) if by in groupings else [] for by in GROUPINGS}
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
        critical=next(iter(mttr(critical, by="all")), None) or MttrRow.none("all"),
        overdue=scoped.filter(status__in=ACTIVE_STATUSES, due_at__lt=now).count(),
        compliance=ComplianceMonth.total(compliance_by_month(scoped, now=now)),
    )
