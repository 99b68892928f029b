"""Where a finding stands against its deadline (``Finding.due_at``), as pages and the API
show it: on track, due soon, overdue (by how many days), paused or exempt (an accepted
risk), none; and, once fixed, whether it was fixed in time.

Days are whole days: ``days_left`` rounds down (1 day 20 hours left: 1), so a finding
overdue by an hour has ``days_left`` -1 and is "overdue by 1 day". A finding fixed while
its clock was paused is judged at the pause: it was in time if the pause began in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings

from .models import Finding

S = Finding.Status
SLA_STATES = ("on_track", "due_soon", "overdue", "paused", "exempt", "none")
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deadline:
    state: str
    """on_track | due_soon | overdue | paused | exempt | none"""
    due_at: datetime | None
    days_left: int | None = None
    """Whole days until the deadline of an open finding (negative: overdue)."""
    closed_in_time: bool | None = None
    """A fixed finding with a deadline: fixed by it?"""
    late_days: int | None = None
    """A fixed finding fixed late: by how many days (started days)."""

    @property
    def overdue_days(self) -> int | None:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else None


def _days_left(due: datetime, now: datetime) -> int:
    return (due - now) // DAY


def deadline_of(finding: Finding, *, now: datetime) -> Deadline:
    """``finding``'s standing at ``now`` (reads only its own columns: no query)."""
    due = finding.due_at
    if finding.status == S.ACCEPTED:
        return Deadline("paused" if finding.sla_paused_at else "exempt", due)
    if finding.status == S.FIXED:
        if due is None or finding.fixed_at is None:
            return Deadline("none", due)
        stopped = finding.sla_paused_at or finding.fixed_at
        if stopped <= due:
            return Deadline("none", due, closed_in_time=True)
        return Deadline("none", due, closed_in_time=False, late_days=-_days_left(due, stopped))
    if finding.status not in (S.OPEN, S.IN_REMEDIATION) or due is None:
        return Deadline("none", due)
    left = _days_left(due, now)
    if due < now:
        state = "overdue"
    elif due - now <= timedelta(days=settings.SLA_DUE_SOON_DAYS):
        state = "due_soon"
    else:
        state = "on_track"
    return Deadline(state, due, days_left=left)
