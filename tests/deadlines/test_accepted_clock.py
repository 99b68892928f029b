"""Accepted risks and deadlines: a pause moves the deadline by its length (not a KEV
date); an exempt finding has none while accepted and starts afresh when reopened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from findings.models import Finding, ThreatIntel
from remediator.engine.services.deadlines import scan_due_dates_refresh
from remediator.engine.services.risk import (
    accepted_risks_expire,
    finding_accept_risk,
    finding_reopen,
)
from remediator.teams.models import SlaPolicy
from tests.engine.factories import ingest, vuln

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(presets, people) -> Finding:
    scan_due_dates_refresh(scan=ingest(vuln()))  # no policy run: the finding stays open
    return Finding.objects.get()


def paused_for(finding: Finding, days: int) -> None:
    """Move the recorded start of the pause ``days`` back (it began that long ago)."""
    Finding.objects.filter(pk=finding.pk).update(
        sla_paused_at=timezone.now() - timedelta(days=days)
    )


def test_accepting_pauses_and_reopening_moves_the_deadline_by_the_pause(finding, people):
    due = finding.due_at
    finding_accept_risk(finding_id=finding.pk, user=people["alice"], reason="not reachable")
    finding.refresh_from_db()
    assert finding.sla_paused_at is not None and finding.due_at == due
    paused_for(finding, 10)

    finding_reopen(finding_id=finding.pk, user=people["alice"], reason="reachable after all")

    finding.refresh_from_db()
    assert finding.sla_paused_at is None
    assert 10 * 86400 <= finding.sla_paused_seconds < 10 * 86400 + 60
    assert finding.due_at == due + timedelta(seconds=finding.sla_paused_seconds)


def test_an_expired_acceptance_ends_the_pause(finding, people):
    due = finding.due_at
    until = timezone.now() + timedelta(days=1)
    finding_accept_risk(finding_id=finding.pk, user=people["alice"], reason="r", until=until)
    paused_for(finding, 3)

    accepted_risks_expire(now=until + timedelta(seconds=1))

    finding.refresh_from_db()
    assert finding.status == "open" and finding.sla_paused_at is None
    assert 4 * 86400 <= finding.sla_paused_seconds <= 4 * 86400 + 1  # 3 days + 1 day accepted
    assert finding.due_at == due + timedelta(seconds=finding.sla_paused_seconds)


def test_a_pause_does_not_move_a_kev_due_date(finding, people):
    ThreatIntel.objects.create(
        vulnerability_id=finding.vulnerability_id, kev=True, kev_due_date=datetime(2026, 11, 20)
    )
    kev = datetime(2026, 11, 20, 23, 59, 59, tzinfo=UTC)
    finding_accept_risk(finding_id=finding.pk, user=people["alice"], reason="r")
    paused_for(finding, 30)

    finding_reopen(finding_id=finding.pk, user=people["alice"])

    finding.refresh_from_db()
    assert finding.sla_paused_seconds >= 30 * 86400
    assert finding.due_at == kev


def test_exempt_has_no_deadline_while_accepted_and_restarts_when_reopened(finding, people, presets):
    SlaPolicy.objects.filter(pk=presets["fedramp"].pk).update(accepted="exempt")
    finding_accept_risk(finding_id=finding.pk, user=people["alice"], reason="compensating")
    finding.refresh_from_db()
    assert finding.due_at is None and finding.sla_paused_at is None

    before = timezone.now()
    finding_reopen(finding_id=finding.pk, user=people["alice"])
    after = timezone.now()

    finding.refresh_from_db()
    assert before <= finding.sla_clock_from <= after
    assert finding.due_at == finding.sla_clock_from + timedelta(days=30)
    assert finding.sla_paused_seconds == 0


def test_finding_page_shows_paused_since_and_exempt(finding, people, client, presets):
    client.force_login(people["vera"])
    finding_accept_risk(finding_id=finding.pk, user=people["alice"], reason="r")
    page = client.get(f"/findings/{finding.pk}/").content.decode()
    since = f"{timezone.now():%Y-%m-%d}"
    assert "paused</span> <span" in page and f"since {since}" in page

    finding_reopen(finding_id=finding.pk, user=people["alice"])
    SlaPolicy.objects.filter(pk=presets["fedramp"].pk).update(accepted="exempt")
    finding_accept_risk(finding_id=finding.pk, user=people["alice"], reason="r")

    page = client.get(f"/findings/{finding.pk}/").content.decode()
    assert 'class="sla sla-exempt"' in page and "paused" not in page.split('id="deadline"')[1][:200]
