"""The Reports page's tables, each defined once for the page and its CSV download: a
title, a header and rows of plain values (None where there is no figure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from findings.remediation import AGE_BUCKETS, MttrRow
from findings.selectors.remediation import Count2, RemediationReport
from remediator.core.severity import SEVERITIES

MTTR_HEADER = (
    "Fixed",
    "Fix median",
    "Fix p90",
    "Not running n",
    "Not running median",
    "Not running p90",
    "Still running",
    "Never ran",
)
"""Days from first seen to the verified fix, and to no longer running (over "n" findings);
fixed findings still running, and those never seen running."""


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    header: Sequence[str]
    rows: list[tuple]


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _mttr(rows: list[MttrRow]) -> list[tuple]:
    return [
        (
            row.key,
            row.fixed,
            _days(row.to_fix.median_days),
            _days(row.to_fix.p90_days),
            row.to_not_running.count,
            _days(row.to_not_running.median_days),
            _days(row.to_not_running.p90_days),
            row.still_running,
            row.never_running,
        )
        for row in rows
    ]


def _pivot(counts: list[Count2], keys: Sequence[str]) -> tuple[list[str], list[tuple]]:
    """Rows by key, a column per severity that has a count, and a total."""
    columns = [s for s in SEVERITIES if any(c.severity == s for c in counts)]
    cells = {(c.key, c.severity): c.count for c in counts}
    rows = []
    for key in keys:
        values = [cells.get((key, s), 0) for s in columns]
        rows.append((key, *values, sum(values)))
    return columns, rows


def _overdue(report: RemediationReport) -> Table:
    teams = sorted({c.key for c in report.overdue})
    columns, rows = _pivot(report.overdue, teams)
    return Table("overdue", "Overdue open findings", ("Team", *columns, "Total"), rows)


def _aging(report: RemediationReport) -> Table:
    buckets = [f"{label} days" for label, _, _ in AGE_BUCKETS]
    columns, rows = _pivot(report.aging, [label for label, _, _ in AGE_BUCKETS])
    rows = [(name, *row[1:]) for name, row in zip(buckets, rows, strict=True)]
    return Table("aging", "Open findings by age", ("Age", *columns, "Total"), rows)


TABLES: dict[str, Callable[[RemediationReport], Table]] = {
    "mttr-severity": lambda r: Table(
        "mttr-severity",
        "Time to remediate by severity",
        ("Severity", *MTTR_HEADER),
        _mttr([*r.by_severity, r.overall] if r.overall.fixed else []),
    ),
    "mttr-team": lambda r: Table(
        "mttr-team", "Time to remediate by team", ("Team", *MTTR_HEADER), _mttr(r.by_team)
    ),
    "compliance": lambda r: Table(
        "compliance",
        "SLA compliance by month",
        ("Month", "Fixed with a due date", "Fixed in time", "Compliance %"),
        [(m.month, m.with_due, m.in_time, m.percent) for m in r.compliance],
    ),
    "overdue": _overdue,
    "aging": _aging,
}
