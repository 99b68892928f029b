"""Open findings past their deadline: the owning team is told once per finding.

A beat task finds open findings whose ``due_at`` has passed and that were never
reported (``sla_breach_notified_at`` empty), groups them by the team that owns their
image (unowned: the global channels alone), marks them reported, then sends one
message per team naming each finding's vulnerability, image and how overdue it is.
Marking comes first, so a finding is never reported twice, even when a send fails
(the failure is audited, as every notification's).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from findings.deadline import deadline_of
from findings.models import Finding
from remediator.engine.notifications import default_channels, notify_send
from remediator.engine.notify_routes import routes_for
from remediator.teams.models import Team

from .deadlines import OPEN

LISTED = 50
"""Findings named in one message; the rest are counted."""


def breach_message(team: Team | None, findings: list[Finding], *, now: datetime) -> tuple[str, str]:
    """(subject, text) naming the overdue findings, the most overdue first."""
    owner = team.name if team else "unowned images"
    subject = f"[Remediator] {len(findings)} finding(s) past their deadline: {owner}"
    lines = [f"These findings of {owner} are past their remediation deadline:"]
    for finding in findings[:LISTED]:
        image = f"{finding.repository.registry}/{finding.repository.name}:{finding.tag.name}"
        days = deadline_of(finding, now=now).overdue_days
        lines.append(
            f"- {finding.vulnerability_id} ({finding.severity}) in {finding.package} "
            f"{finding.installed_version}, image {image}: overdue by {days} day(s), "
            f"due {finding.due_at:%Y-%m-%d}"
        )
    if len(findings) > LISTED:
        lines.append(f"... and {len(findings) - LISTED} more")
    lines.append(f"Overdue findings: {settings.BASE_URL}/findings/?overdue=true")
    return subject, "\n".join(lines)


def _claim(now: datetime) -> dict[int | None, list[Finding]]:
    """The unreported overdue findings, marked reported, by owning team id."""
    with transaction.atomic():
        rows = list(
            Finding.objects.select_for_update(of=("self",))
            .filter(status__in=OPEN, due_at__lt=now, sla_breach_notified_at__isnull=True)
            .select_related("repository", "tag")
            .order_by("due_at", "pk")
        )
        for start in range(0, len(rows), 500):
            chunk = [f.pk for f in rows[start : start + 500]]
            Finding.objects.filter(pk__in=chunk).update(sla_breach_notified_at=now)
    grouped: dict[int | None, list[Finding]] = defaultdict(list)
    for finding in rows:
        grouped[finding.repository.owner_id].append(finding)
    return grouped


def sla_breaches_notify(*, now: datetime | None = None) -> int:
    """Tell each owning team (once) about its findings past their deadline; how many."""
    now = now or timezone.now()
    grouped = _claim(now)
    teams = Team.objects.in_bulk([pk for pk in grouped if pk is not None])
    for team_id, findings in grouped.items():
        team = teams.get(team_id) if team_id is not None else None
        subject, text = breach_message(team, findings, now=now)
        notify_send(
            routes_for(team, default_channels()),
            subject,
            text,
            event="sla_breach",
            data={"findings": len(findings)},
        )
    return sum(len(findings) for findings in grouped.values())
