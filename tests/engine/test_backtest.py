"""Policy backtest: the pure replay (a table of cases) and the table on the demo data."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from findings.models import Finding, ThreatIntel
from remediator.engine.models import Policy
from remediator.engine.rules.criteria import FindingFacts
from remediator.engine.rules.remediation import RemediationRule as Rule
from remediator.engine.rules.replay import ScanEvent, replay
from tests.dashboard.conftest import make_user

T0 = datetime(2026, 11, 1, tzinfo=UTC)
SINCE = T0 - timedelta(days=1)


def facts(id: int, *, severity: str = "critical", seen: datetime = T0, **kw) -> FindingFacts:
    values = {
        "repository": "docker.io/acme/api",
        "tag": "1",
        "vulnerability": f"CVE-2026-{id:04d}",
        "package": "openssl",
        "fixable": True,
        "fixable_since": None,
        "vendor_status": "",
        **kw,
    }
    return FindingFacts(id=id, severity=severity, first_seen=seen, **values)


def scan(n: int, *found: FindingFacts, days: float = 0, repository="docker.io/acme/api"):
    at = T0 + timedelta(days=days)
    return ScanEvent(scan_id=n, at=at, repository=repository, tag="1", listed=found)


REBUILD = Rule(id=1, name="rebuild-criticals", min_severity="critical", action="rebuild")


def test_new_findings_of_a_tag_join_the_open_action_until_they_are_fixed():
    a, b = facts(1), facts(2, seen=T0 + timedelta(days=1))
    result = replay(
        [
            scan(1, a),
            scan(2, a, b, days=1),  # b joins the open rebuild: no second action
            scan(3, days=2),  # both gone: the action closes
            scan(4, facts(3, seen=T0 + timedelta(days=3)), days=3),  # a new one: a new action
        ],
        [REBUILD],
        since=SINCE,
    )
    assert (result.scans, result.actions, result.joined, result.approvals) == (4, 2, 1, 2)
    assert result.rules[0].findings == 3 and len(result.rules[0].images) == 1


def test_the_storm_is_the_busiest_day_and_old_findings_are_out_of_scope():
    old = facts(9, seen=SINCE - timedelta(days=30))  # open before the window: not replayed
    events = [
        scan(n, facts(n), repository=f"docker.io/acme/svc{n}", days=0.1 * n) for n in range(1, 6)
    ]
    result = replay([scan(0, old), *events], [REBUILD], since=SINCE)
    assert result.actions == 5 and len(result.images) == 5
    assert result.peak == (T0.date(), 5)


@pytest.mark.parametrize(
    "rule, finding, acts",
    [
        (Rule(id=1, name="kev", kev=True, action="rebuild"), facts(1, kev=True), True),
        (Rule(id=1, name="kev", kev=True, action="rebuild"), facts(1), False),
        (Rule(id=1, name="epss", min_epss=0.5, action="rebuild"), facts(1, epss=0.7), True),
        (Rule(id=1, name="epss", min_epss=0.5, action="rebuild"), facts(1, epss=0.1), False),
        (Rule(id=1, name="epss", min_epss=0.5, action="rebuild"), facts(1), False),
        (Rule(id=1, name="run", running=True, action="rebuild"), facts(1), False),
        (
            Rule(id=1, name="prod", namespace_glob="prod-*", action="rebuild"),
            facts(1, namespaces=("prod-eu", "dev")),
            True,
        ),
        (
            Rule(id=1, name="prod", namespace_glob="prod-*", action="rebuild"),
            facts(1, namespaces=("dev",)),
            False,
        ),
        (Rule(id=1, name="quiet", action="ignore"), facts(1), False),
    ],
)
def test_threat_intel_and_inventory_rules_in_the_replay(rule, finding, acts):
    assert replay([scan(1, finding)], [rule], since=SINCE).actions == (1 if acts else 0)


def test_a_fix_published_after_the_scan_is_not_known_to_it():
    later = T0 + timedelta(days=2)
    finding = facts(1, fixable_since=later)
    needs_fix = Rule(id=1, name="fixable", fix_available=True, action="rebuild")
    assert replay([scan(1, finding)], [needs_fix], since=SINCE).actions == 0
    both = [scan(1, finding), scan(2, finding, days=3)]
    assert replay(both, [needs_fix], since=SINCE).actions == 1


@pytest.mark.django_db
def test_a_backtest_table_on_the_demo_data(client):
    call_command("demo", images=6, stdout=io.StringIO())
    assert ThreatIntel.objects.filter(kev=True, vulnerability__findings__isnull=False).exists()
    kev_policy = Policy.objects.create(
        name="rebuild-known-exploited", order=1, kev=True, action="rebuild", enabled=False
    )
    client.force_login(make_user("vera", "Viewer"))
    page = client.get("/policies/?days=45").content.decode()
    assert 'id="backtest-totals"' in page and 'id="backtest-rules"' in page
    backtest = client.get("/policies/?days=45").context["backtest"]
    assert backtest.replay.scans > 0 and backtest.replay.actions > 0
    assert backtest.replay.peak[1] >= 1
    # one disabled draft policy alone: only the images with the KEV finding (the demo's
    # history spans twelve weeks: the window holds its first scans)
    kev_only = client.get(f"/policies/?days=90&policy={kev_policy.pk}").context["backtest"]
    kev_tags = set(
        Finding.objects.filter(vulnerability__intel__kev=True).values_list(
            "repository__name", "tag__name"
        )
    )
    assert 0 < kev_only.replay.actions <= len(kev_tags)
    assert kev_only.actual.actions == 0  # a draft never acted

    api = APIClient()
    api.force_authenticate(make_user("reader", "Viewer"))
    body = api.get(f"/api/v1/policies/{kev_policy.pk}/backtest/?days=90").json()
    assert body["simulated"]["actions"] == kev_only.replay.actions
    assert body["simulated"]["approvals"] == kev_only.replay.actions  # requires_approval
    assert len(body["daily"]) in (90, 91)
    assert api.get(f"/api/v1/policies/{kev_policy.pk}/backtest/?days=0").status_code == 400
    assert api.get("/api/v1/policies/999999/backtest/").status_code == 404
