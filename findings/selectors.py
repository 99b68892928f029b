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


CLOSED = ~Q(status__in=CLOSED_BY_PEOPLE)


@dataclass(frozen=True)
class SeveritySnapshot:
    label: str
    at: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class TrendPoint:
    day: datetime
    critical: int
    high: int


@dataclass(frozen=True)
class FixableShare:
    open: int
    fixable: int

    @property
    def percent(self) -> int:
        return round(100 * self.fixable / self.open) if self.open else 0


# Each figure is a set of filtered aggregates over the findings table plus a reader
# of the result row, so the overview asks for all of them in ONE scan of the table.


def _snapshot_aggregates(points: dict[str, datetime]) -> dict:
    aggregates = {}
    for index, at in enumerate(points.values()):
        for severity in SEVERITIES:
            aggregates[f"p{index}_{severity}"] = Count(
                "id", filter=CLOSED & open_at(at) & Q(severity_rank=SEVERITY_RANK[severity])
            )
    return aggregates


def _snapshots(row: dict, points: dict[str, datetime]) -> list[SeveritySnapshot]:
    return [
        SeveritySnapshot(label, at, {s: row[f"p{index}_{s}"] or 0 for s in SEVERITIES})
        for index, (label, at) in enumerate(points.items())
    ]


def _trend_ends(days: int, now: datetime) -> list[datetime]:
    return [now - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _trend_aggregates(ends: list[datetime]) -> dict:
    aggregates = {}
    for index, at in enumerate(ends):
        aggregates[f"c{index}"] = Count("id", filter=CLOSED & open_at(at) & Q(severity_rank=5))
        aggregates[f"h{index}"] = Count("id", filter=CLOSED & open_at(at) & Q(severity_rank=4))
    return aggregates


def _trend(row: dict, ends: list[datetime]) -> list[TrendPoint]:
    return [
        TrendPoint(day=at, critical=row[f"c{i}"] or 0, high=row[f"h{i}"] or 0)
        for i, at in enumerate(ends)
    ]


def _fixable_aggregates() -> dict:
    active = Q(status__in=("open", "in_remediation"))
    return {
        "fx_open": Count("id", filter=active),
        "fx_fixable": Count("id", filter=active & Q(fixable=True)),
    }


def _fixable(row: dict) -> FixableShare:
    return FixableShare(open=row["fx_open"] or 0, fixable=row["fx_fixable"] or 0)


def _mttr_aggregates(days: int, now: datetime) -> dict:
    window = Q(fixed_at__gt=now - timedelta(days=days), fixed_at__lte=now)
    return {
        "mttr": Avg(F("fixed_at") - F("first_seen"), output_field=DurationField(), filter=window)
    }


def _mttr(row: dict) -> timedelta | None:
    value = row["mttr"]
    if value is None or isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))  # some backends hand back microseconds


def open_by_severity_at(*, points: dict[str, datetime]) -> list[SeveritySnapshot]:
    """Open findings per severity at each named point: one aggregate query for all points."""
    return _snapshots(Finding.objects.order_by().aggregate(**_snapshot_aggregates(points)), points)


def open_trend(*, days: int, now: datetime | None = None) -> list[TrendPoint]:
    """Open critical and high findings at the end of each of the last ``days`` days."""
    ends = _trend_ends(days, now or timezone.now())
    return _trend(Finding.objects.order_by().aggregate(**_trend_aggregates(ends)), ends)


def fixable_share() -> FixableShare:
    return _fixable(Finding.objects.order_by().aggregate(**_fixable_aggregates()))


def mean_time_to_remediate(*, days: int, now: datetime | None = None) -> timedelta | None:
    """Mean of fixed_at - first_seen over the findings fixed in the last ``days`` days."""
    return _mttr(
        Finding.objects.order_by().aggregate(**_mttr_aggregates(days, now or timezone.now()))
    )


@dataclass(frozen=True)
class OverviewFigures:
    snapshots: list[SeveritySnapshot]
    trend: list[TrendPoint]
    fixable: FixableShare
    mttr: timedelta | None


def overview_figures(
    *, points: dict[str, datetime], days: int, now: datetime | None = None
) -> OverviewFigures:
    """Every count-like figure of the overview in one scan of the findings table."""
    now = now or timezone.now()
    ends = _trend_ends(days, now)
    row = Finding.objects.order_by().aggregate(
        **_snapshot_aggregates(points),
        **_trend_aggregates(ends),
        **_fixable_aggregates(),
        **_mttr_aggregates(days, now),
    )
    return OverviewFigures(
        snapshots=_snapshots(row, points),
        trend=_trend(row, ends),
        fixable=_fixable(row),
        mttr=_mttr(row),
    )


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
