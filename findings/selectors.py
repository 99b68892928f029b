"""Named reads for the dashboard: each is a bounded number of aggregate queries.

"Open at time T" is derived from a finding's dates, never from a history
table: ``first_seen <= T and (fixed_at is null or fixed_at > T)``. Findings
that people closed by hand (accepted, false positive) are left out of every
point, so the points stay comparable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Case, Count, DurationField, F, IntegerField, Q, Sum, When
from django.utils import timezone

from .models import SEVERITY_RANK, Delivery, Finding, Repository

SEVERITIES = ("critical", "high", "medium", "low", "negligible", "unknown")
RISK_WEIGHTS = {"critical": 10, "high": 5, "medium": 2, "low": 1}
CLOSED_BY_PEOPLE = (Finding.Status.ACCEPTED, Finding.Status.FALSE_POSITIVE)


def open_at(at: datetime) -> Q:
    """The filter for "this finding was open at ``at``"."""
    return Q(first_seen__lte=at) & (Q(fixed_at__isnull=True) | Q(fixed_at__gt=at))


def _countable():
    return Finding.objects.exclude(status__in=CLOSED_BY_PEOPLE).order_by()


@dataclass(frozen=True)
class SeveritySnapshot:
    label: str
    at: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def open_by_severity_at(*, points: dict[str, datetime]) -> list[SeveritySnapshot]:
    """Open findings per severity at each named point: one aggregate query for all points."""
    aggregates = {}
    for index, at in enumerate(points.values()):
        for severity in SEVERITIES:
            rank = SEVERITY_RANK[severity]
            aggregates[f"p{index}_{severity}"] = Count(
                "id", filter=open_at(at) & Q(severity_rank=rank)
            )
    row = _countable().aggregate(**aggregates)
    return [
        SeveritySnapshot(
            label=label,
            at=at,
            counts={s: row[f"p{index}_{s}"] or 0 for s in SEVERITIES},
        )
        for index, (label, at) in enumerate(points.items())
    ]


@dataclass(frozen=True)
class TrendPoint:
    day: datetime
    critical: int
    high: int


def open_trend(*, days: int, now: datetime | None = None) -> list[TrendPoint]:
    """Open critical and high findings at the end of each of the last ``days`` days.

    One query: one filtered count per point and severity, over the critical and
    high findings that could have been open in the window.
    """
    now = now or timezone.now()
    ends = [now - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    aggregates = {}
    for index, at in enumerate(ends):
        aggregates[f"c{index}"] = Count("id", filter=open_at(at) & Q(severity_rank=5))
        aggregates[f"h{index}"] = Count("id", filter=open_at(at) & Q(severity_rank=4))
    row = (
        _countable()
        .filter(severity_rank__gte=4, first_seen__lte=now)
        .filter(Q(fixed_at__isnull=True) | Q(fixed_at__gt=ends[0]))
        .aggregate(**aggregates)
    )
    return [
        TrendPoint(day=at, critical=row[f"c{i}"] or 0, high=row[f"h{i}"] or 0)
        for i, at in enumerate(ends)
    ]


@dataclass(frozen=True)
class FixableShare:
    open: int
    fixable: int

    @property
    def percent(self) -> int:
        return round(100 * self.fixable / self.open) if self.open else 0


def fixable_share() -> FixableShare:
    row = (
        Finding.objects.open()
        .order_by()
        .aggregate(open=Count("id"), fixable=Count("id", filter=Q(fixable=True)))
    )
    return FixableShare(open=row["open"] or 0, fixable=row["fixable"] or 0)


def mean_time_to_remediate(*, days: int, now: datetime | None = None) -> timedelta | None:
    """Mean of fixed_at - first_seen over the findings fixed in the last ``days`` days."""
    now = now or timezone.now()
    row = (
        Finding.objects.filter(fixed_at__gt=now - timedelta(days=days), fixed_at__lte=now)
        .order_by()
        .aggregate(
            mttr=Avg(F("fixed_at") - F("first_seen"), output_field=DurationField()),
            fixed=Count("id"),
        )
    )
    value = row["mttr"]
    if value is None:
        return None
    if not isinstance(value, timedelta):  # some backends hand back microseconds
        value = timedelta(microseconds=float(value))
    return value


def mttr_fixed_count(*, days: int, now: datetime | None = None) -> int:
    now = now or timezone.now()
    return Finding.objects.filter(
        fixed_at__gt=now - timedelta(days=days), fixed_at__lte=now
    ).count()


@dataclass(frozen=True)
class RiskyImage:
    repository: Repository
    score: int
    critical: int
    high: int
    medium: int
    low: int


def riskiest_images(*, limit: int = 10) -> list[RiskyImage]:
    """Repositories ranked by weighted open severities (critical 10, high 5, medium 2, low 1)."""
    weight = Case(
        *(When(severity_rank=SEVERITY_RANK[s], then=w) for s, w in RISK_WEIGHTS.items()),
        default=0,
        output_field=IntegerField(),
    )
    rows = list(
        Finding.objects.open()
        .filter(severity_rank__gte=SEVERITY_RANK["low"])
        .order_by()
        .values("repository_id")
        .annotate(
            score=Sum(weight),
            critical=Count("id", filter=Q(severity_rank=5)),
            high=Count("id", filter=Q(severity_rank=4)),
            medium=Count("id", filter=Q(severity_rank=3)),
            low=Count("id", filter=Q(severity_rank=2)),
        )
        .order_by("-score", "repository_id")[:limit]
    )
    repositories = Repository.objects.in_bulk([r["repository_id"] for r in rows])
    return [
        RiskyImage(
            repository=repositories[r["repository_id"]],
            score=r["score"] or 0,
            critical=r["critical"],
            high=r["high"],
            medium=r["medium"],
            low=r["low"],
        )
        for r in rows
        if r["repository_id"] in repositories
    ]


def recent_deliveries(*, limit: int = 10):
    return Delivery.objects.defer("body_gz", "headers").order_by("-id")[:limit]


def open_counts_for_repositories(repository_ids: list[int]) -> dict[int, dict[str, int]]:
    """Open findings per severity for a page of repositories: one grouped query."""
    counts: dict[int, dict[str, int]] = {pk: dict.fromkeys(SEVERITIES, 0) for pk in repository_ids}
    if not repository_ids:
        return counts
    rows = (
        Finding.objects.open()
        .filter(repository_id__in=repository_ids)
        .order_by()
        .values("repository_id", "severity")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["repository_id"]][row["severity"]] = row["n"]
    for value in counts.values():
        value["fixable"] = 0
    fixable = (
        Finding.objects.open()
        .filter(repository_id__in=repository_ids, fixable=True)
        .order_by()
        .values("repository_id")
        .annotate(n=Count("id"))
    )
    for row in fixable:
        counts[row["repository_id"]]["fixable"] = row["n"]
    return counts
