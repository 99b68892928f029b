"""Remediation figures, the pure part: percentiles, spreads, age buckets, compliance.

No Django and no database: ``findings.selectors.remediation`` reads the rows and hands
them here (on SQLite) or lets PostgreSQL compute the same percentiles
(``percentile_cont``: linear interpolation between the closest ranks, as ``percentile``
below does, so the two agree).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

DAY = 86400.0

AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("30-90", 30, 90),
    ("90-180", 90, 180),
    ("180+", 180, None),
)
"""Open findings' age by first_seen: (label, from days inclusive, to days exclusive)."""

UNOWNED = "unowned"
"""The team key of a finding whose repository no team owns."""


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation between the closest
    ranks: PostgreSQL's ``percentile_cont``. None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    lower = int(position)
    upper = min(lower + 1, len(ordered) - 1)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


@dataclass(frozen=True)
class Spread:
    """How long something took over a set of findings, in days: how many, median, p90."""

    count: int
    median_days: float | None
    p90_days: float | None

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> Spread:
        median, p90 = percentile(seconds, 0.5), percentile(seconds, 0.9)
        return cls(
            count=len(seconds),
            median_days=None if median is None else median / DAY,
            p90_days=None if p90 is None else p90 / DAY,
        )


@dataclass(frozen=True)
class FixedRow:
    """One fixed finding, as the report's query reads it."""

    key: str
    first_seen: datetime
    fixed_at: datetime
    stopped_at: datetime | None
    """The latest ``running_last_seen`` of its vulnerable digests (None: none seen running)."""
    still_running: bool


@dataclass(frozen=True)
class MttrRow:
    """Time to remediate for one group (a severity, a team, or all)."""

    key: str
    fixed: int
    to_fix: Spread
    """first_seen -> fixed_at (the scan that verified the fix)."""
    to_not_running: Spread
    """first_seen -> the last sighting of a vulnerable digest, over findings whose
    vulnerable digests were seen running and no longer are."""
    still_running: int
    """Fixed, but a vulnerable digest was seen running after the fix and still is."""
    never_running: int
    """Fixed findings none of whose vulnerable digests was ever seen running."""

    @classmethod
    def none(cls, key: str) -> MttrRow:
        empty = Spread(0, None, None)
        return cls(key, 0, empty, empty, 0, 0)


def mttr_rows(rows: Iterable[FixedRow], *, keys: Sequence[str] = ()) -> list[MttrRow]:
    """One MttrRow per key (``keys`` first, in that order, then the others sorted)."""
    fix: dict[str, list[float]] = {}
    stop: dict[str, list[float]] = {}
    running: dict[str, int] = {}
    never: dict[str, int] = {}
    for row in rows:
        fix.setdefault(row.key, []).append((row.fixed_at - row.first_seen).total_seconds())
        if row.still_running:
            running[row.key] = running.get(row.key, 0) + 1
        elif row.stopped_at is None:
            never[row.key] = never.get(row.key, 0) + 1
        else:
            gone = max(row.stopped_at - row.first_seen, timedelta(0))
            stop.setdefault(row.key, []).append(gone.total_seconds())
    ordered = [k for k in keys if k in fix] + sorted(k for k in fix if k not in keys)
    return [
        MttrRow(
            key=key,
            fixed=len(fix[key]),
            to_fix=Spread.of_seconds(fix[key]),
            to_not_running=Spread.of_seconds(stop.get(key, [])),
            still_running=running.get(key, 0),
            never_running=never.get(key, 0),
        )
        for key in ordered
    ]


def age_bucket(age: timedelta) -> str:
    """The AGE_BUCKETS label of an open finding this old."""
    days = age.total_seconds() / DAY
    for label, low, high in AGE_BUCKETS:
        if days >= low and (high is None or days < high):
            return label
    return AGE_BUCKETS[0][0]  # first seen in the future (clock skew): the youngest


@dataclass(frozen=True)
class ComplianceMonth:
    """Findings fixed in one month that had a due date, and how many were in time."""

    month: str
    """YYYY-MM."""
    with_due: int
    in_time: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.in_time / self.with_due, 1) if self.with_due else None

    @classmethod
    def total(cls, months: Iterable[ComplianceMonth]) -> ComplianceMonth:
        """Several months as one."""
        months = list(months)
        return cls(
            month="all",
            with_due=sum(m.with_due for m in months),
            in_time=sum(m.in_time for m in months),
        )


def months_back(now: datetime, count: int) -> list[str]:
    """The ``count`` months up to and including ``now``'s, oldest first (YYYY-MM)."""
    year, month = now.year, now.month
    labels = []
    for _ in range(count):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def month_start(label: str, tzinfo) -> datetime:
    year, month = (int(part) for part in label.split("-"))
    return datetime(year, month, 1, tzinfo=tzinfo)
