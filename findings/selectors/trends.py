"""Open findings over time (the overview's figures): two grouped scans for them all.

"Open at time T" is derived from a finding's dates, never from a history
table: ``first_seen <= T and (fixed_at is null or fixed_at > T)``. Findings
that people closed by hand (accepted, false positive) are left out of every
point, so the points stay comparable.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate

from django.db.models import Count, DurationField, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from findings.models import Finding
from findings.status import DECIDED
from remediator.core.severity import SEVERITIES, SEVERITY_RANK


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


# "Open at T" = #(first_seen <= T) - #(fixed_at <= T), because fixed_at is set only
# after first_seen. So two grouped scans (findings by day first seen, and by day
# fixed, per severity) give every point of every figure at day resolution, instead
# of one filtered count per point and row. A point is the end of its day (UTC by
# default, TIME_ZONE); today's point is now.


@dataclass(frozen=True)
class OverviewFigures:
    snapshots: list[SeveritySnapshot]
    trend: list[TrendPoint]
    fixable: FixableShare
    mttr: timedelta | None


def _day_rows(now: datetime) -> tuple[list[dict], list[dict]]:
    base = Finding.objects.order_by().exclude(status__in=DECIDED)
    active = Q(status__in=("open", "in_remediation"))
    seen = list(
        base.filter(first_seen__lte=now)
        .annotate(day=TruncDate("first_seen"))
        .values("day", "severity_rank")
        .annotate(
            n=Count("id"),
            active=Count("id", filter=active),
            fixable=Count("id", filter=active & Q(fixable=True)),
        )
    )
    fixed = list(
        base.filter(fixed_at__isnull=False, fixed_at__lte=now)
        .annotate(day=TruncDate("fixed_at"))
        .values("day", "severity_rank")
        .annotate(
            n=Count("id"),
            spent=Sum(F("fixed_at") - F("first_seen"), output_field=DurationField()),
        )
    )
    return seen, fixed


def _as_timedelta(value) -> timedelta:
    if value is None:
        return timedelta(0)
    if isinstance(value, timedelta):
        return value
    return timedelta(microseconds=float(value))  # some backends hand back microseconds


Cumulative = dict[int, tuple[list[date], list[int]]]


def _cumulative(rows: list[dict]) -> Cumulative:
    """Per severity rank: sorted days and the running total of findings up to each."""
    per_rank: dict[int, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        per_rank[row["severity_rank"]][row["day"]] += row["n"]
    result: Cumulative = {}
    for rank, per_day in per_rank.items():
        days = sorted(per_day)
        result[rank] = (days, list(accumulate(per_day[d] for d in days)))
    return result


def _through(cumulative: Cumulative, day: date, ranks: set[int]) -> int:
    total = 0
    for rank in ranks:
        days, sums = cumulative.get(rank, ((), ()))
        index = bisect_right(days, day)
        total += sums[index - 1] if index else 0
    return total


def overview_figures(
    *, points: dict[str, datetime], days: int, now: datetime | None = None
) -> OverviewFigures:
    """Every count-like figure of the overview from two grouped scans."""
    return overview_figures_by_days(points=points, days=(days,), now=now)[days]


def overview_figures_by_days(
    *, points: dict[str, datetime], days: Iterable[int], now: datetime | None = None
) -> dict[int, OverviewFigures]:
    """The overview figures for several trend windows from the same two grouped scans."""
    now = now or timezone.now()
    seen, fixed = _day_rows(now)
    return {d: _figures(seen, fixed, points=points, days=d, now=now) for d in days}


def _figures(
    seen: list[dict], fixed: list[dict], *, points: dict[str, datetime], days: int, now: datetime
) -> OverviewFigures:
    opened, closed = _cumulative(seen), _cumulative(fixed)

    def _open_through(day: date, ranks: set[int]) -> int:
        return _through(opened, day, ranks) - _through(closed, day, ranks)

    def day_of(at: datetime) -> date:
        return timezone.localtime(at).date()

    snapshots = [
        SeveritySnapshot(
            label,
            at,
            {s: _open_through(day_of(at), {SEVERITY_RANK[s]}) for s in SEVERITIES},
        )
        for label, at in points.items()
    ]
    trend = [
        TrendPoint(
            day=at,
            critical=_open_through(day_of(at), {5}),
            high=_open_through(day_of(at), {4}),
        )
        for at in (now - timedelta(days=offset) for offset in range(days - 1, -1, -1))
    ]
    share = FixableShare(
        open=sum(r["active"] for r in seen), fixable=sum(r["fixable"] for r in seen)
    )
    since = day_of(now - timedelta(days=days))
    window = [r for r in fixed if r["day"] > since]
    count_fixed = sum(r["n"] for r in window)
    spent = sum((_as_timedelta(r["spent"]) for r in window), timedelta(0))
    mttr = spent / count_fixed if count_fixed else None
    return OverviewFigures(snapshots=snapshots, trend=trend, fixable=share, mttr=mttr)


def open_by_severity_at(*, points: dict[str, datetime]) -> list[SeveritySnapshot]:
    """Open findings per severity at the end of each point's day."""
    return overview_figures(points=points, days=1).snapshots


def open_trend(*, days: int, now: datetime | None = None) -> list[TrendPoint]:
    """Open critical and high findings at the end of each of the last ``days`` days."""
    return overview_figures(points={}, days=days, now=now).trend


def fixable_share() -> FixableShare:
    return overview_figures(points={}, days=1).fixable


def mean_time_to_remediate(*, days: int, now: datetime | None = None) -> timedelta | None:
    """Mean of fixed_at - first_seen over the findings fixed in the last ``days`` days."""
    return overview_figures(points={}, days=days, now=now).mttr
