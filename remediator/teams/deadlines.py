"""When a finding must be fixed: the pure rules, with the presets as their sources state them.

- **FedRAMP** (Continuous Monitoring: remediate high-risk vulnerabilities within 30 days,
  moderate within 90 and low within 180, counted from discovery; a critical is held to the
  high deadline).
- **PCI DSS 4.0, requirement 6.3.3** (critical and high-risk security patches installed
  within one month of their release): the clock starts when a fix was released, which is
  when a scan first reported a fixed version (``fixable_since``); one calendar month. Lower
  severities are left to "appropriate time frames": no deadline unless a team sets days.
- **CISA BOD 22-01**: a vulnerability in the Known Exploited Vulnerabilities catalogue must
  be remediated by its ``dueDate``; with ``kev_caps`` (every preset, and the default) that
  date caps any other deadline, and gives one to a finding that had none.

A finding with no clock (PCI: no fix released yet) and no KEV entry has no deadline.
Time paused by an accepted risk (``paused_seconds``) moves the policy's deadline later,
never the KEV catalogue's date. A clock restarted (``restarted_at``: an exempt acceptance
ended, the finding reopened) counts from the restart when that is later than its start.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

DETECTED = "detected"
FIX_RELEASED = "fix_released"
SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Terms:
    """An SLA policy as the rules read it."""

    days: Mapping[str, int | None]
    clock: str = DETECTED
    kev_caps: bool = True
    months: Mapping[str, int] = field(default_factory=dict)
    """Severities counted in calendar months instead of days (PCI's "one month")."""


@dataclass(frozen=True)
class Preset:
    key: str
    title: str
    source: str
    terms: Terms


PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (
        Preset(
            "fedramp",
            "FedRAMP",
            "FedRAMP Continuous Monitoring: high (and critical) 30 days, moderate 90, low 180, "
            "from discovery",
            Terms(days={"critical": 30, "high": 30, "medium": 90, "low": 180}, clock=DETECTED),
        ),
        Preset(
            "pci-dss-4",
            "PCI DSS 4.0 req. 6.3.3",
            "critical and high-risk security patches within one month of release",
            Terms(
                days={"critical": None, "high": None, "medium": None, "low": None},
                clock=FIX_RELEASED,
                months={"critical": 1, "high": 1},
            ),
        ),
        Preset(
            "cisa-bod-22-01",
            "CISA BOD 22-01",
            "known exploited vulnerabilities by the catalogue's due date",
            Terms(days={}, clock=DETECTED),
        ),
    )
}


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` later (the month's last day when it is shorter)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def kev_deadline(kev_due_date: date) -> datetime:
    """The end of the catalogue's due date, UTC."""
    return datetime.combine(kev_due_date, time(23, 59, 59), tzinfo=UTC)


def due_at(
    terms: Terms,
    *,
    severity: str,
    detected_at: datetime,
    fixable_since: datetime | None,
    kev_due_date: date | None,
    paused_seconds: int = 0,
    restarted_at: datetime | None = None,
) -> datetime | None:
    """The deadline of one finding under ``terms``, or None when it has none."""
    start = detected_at if terms.clock == DETECTED else fixable_since
    if start is not None and restarted_at is not None:
        start = max(start, restarted_at)
    deadline = None
    if start is not None:
        if terms.months.get(severity):
            deadline = add_months(start, terms.months[severity])
        elif terms.days.get(severity) is not None:
            deadline = start + timedelta(days=terms.days[severity])
    if deadline is not None and paused_seconds:
        deadline += timedelta(seconds=paused_seconds)
    if terms.kev_caps and kev_due_date is not None:  # the catalogue's date is never paused
        kev = kev_deadline(kev_due_date)
        deadline = kev if deadline is None else min(deadline, kev)
    return deadline
