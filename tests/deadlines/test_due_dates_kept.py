"""Every open finding has its deadline: after each scan, a KEV import, a policy change,
and from ``manage.py deadlines_refresh`` for findings stored before deadlines existed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from findings.models import Finding, Repository
from remediator.engine.services import scan_evaluate
from remediator.engine.services.deadlines import policy_due_dates_refresh
from remediator.engine.services.threat_intel import threat_intel_import
from remediator.teams.deadlines import add_months
from remediator.teams.models import OwnershipRule
from tests.engine.factories import ingest, vuln

pytestmark = pytest.mark.django_db
KEV = Path(__file__).parents[1] / "fixtures" / "threat_intel"
KEV = KEV / "known_exploited_vulnerabilities_excerpt.json"


def scanned(*findings: dict, **kw):
    scan = ingest(*findings, **kw)
    scan_evaluate(scan_id=scan.pk)
    return scan


def test_a_scans_new_findings_get_the_default_policys_deadline(presets, defaults):
    scan = scanned(vuln(), vuln("CVE-2024-0002", "zlib", severity="medium"))

    due = dict(Finding.objects.values_list("severity", "due_at"))
    assert due == {
        "critical": scan.scanned_at + timedelta(days=30),
        "medium": scan.scanned_at + timedelta(days=90),
    }


def test_pci_deadline_starts_when_a_later_scan_first_reports_the_fix(presets, shop, defaults):
    first = ingest(vuln(fixed=""))
    OwnershipRule.objects.create(team=shop, image_glob="*")  # the scan's evaluation applies it
    scan_evaluate(scan_id=first.pk)
    assert Finding.objects.get().due_at is None  # no fix released: no PCI deadline

    second = scanned(vuln())

    finding = Finding.objects.get()
    assert finding.fixable_since == second.scanned_at
    assert finding.due_at == add_months(second.scanned_at, 1)


def test_a_scan_leaves_the_deadlines_it_did_not_change_alone(presets, defaults):
    scanned(vuln())
    moved = datetime(2030, 1, 1, tzinfo=UTC)
    Finding.objects.update(due_at=moved)  # as a policy applied since would leave it

    scanned(vuln(), vuln("CVE-2024-0002", "zlib", severity="high"))

    assert Finding.objects.get(vulnerability_id="CVE-2024-6119").due_at == moved
    assert Finding.objects.get(vulnerability_id="CVE-2024-0002").due_at is not None


def test_a_kev_import_caps_the_deadlines_of_its_cves(presets, defaults):
    scan = scanned(vuln("CVE-2014-0160", "openssl", severity="high"), vuln())
    assert set(Finding.objects.values_list("due_at", flat=True)) == {
        scan.scanned_at + timedelta(days=30)
    }

    threat_intel_import(kev=str(KEV), force=True)

    heartbleed = Finding.objects.get(vulnerability_id="CVE-2014-0160")
    assert heartbleed.due_at == datetime(2022, 5, 25, 23, 59, 59, tzinfo=UTC)
    other = Finding.objects.get(vulnerability_id="CVE-2024-6119")
    assert other.due_at == scan.scanned_at + timedelta(days=30)


def test_changing_a_policy_moves_its_findings_deadlines(presets, shop, defaults):
    scan = scanned(vuln())
    policy = presets["fedramp"]
    policy.preset, policy.critical_days = "", 7
    policy.save()

    changed = policy_due_dates_refresh(policy_id=policy.pk)

    assert changed == 1
    assert Finding.objects.get().due_at == scan.scanned_at + timedelta(days=7)


def test_saving_a_policy_in_the_admin_refreshes_its_teams_findings(
    presets, shop, defaults, admin_client, eager, django_capture_on_commit_callbacks
):
    OwnershipRule.objects.create(team=shop, image_glob="*")
    scan = scanned(vuln(fixed=""))
    assert Repository.objects.get().owner == shop
    policy = presets["pci-dss-4"]
    policy.preset = ""
    form = {
        "name": policy.name,
        "description": "",
        "preset": "",
        "critical_days": "14",
        "clock": "detected",
        "kev_caps": "on",
        "accepted": "pause",
    }

    with django_capture_on_commit_callbacks(execute=True):
        answer = admin_client.post(f"/admin/teams/slapolicy/{policy.pk}/change/", form)

    assert answer.status_code == 302, answer.content[:2000]
    assert Finding.objects.get().due_at == scan.scanned_at + timedelta(days=14)


def test_deadlines_refresh_fills_open_findings_stored_before(presets, defaults):
    scan = scanned(vuln(), vuln("CVE-2024-0002", "zlib", severity="low"))
    Finding.objects.update(due_at=None)
    Finding.objects.filter(severity="low").update(status=Finding.Status.FALSE_POSITIVE)
    out = StringIO()

    call_command("deadlines_refresh", stdout=out)

    assert out.getvalue().strip() == "1 open finding(s) got a new deadline"
    assert Finding.objects.get(severity="critical").due_at == scan.scanned_at + timedelta(days=30)
    assert Finding.objects.get(severity="low").due_at is None


def test_without_any_policy_a_deadline_left_from_a_deleted_one_is_cleared():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from remediator.engine.services.deadlines import due_dates_refresh
    from remediator.teams.models import SlaPolicy

    ingest(vuln(), vuln("CVE-2024-0002", "zlib"), vuln("CVE-2024-0003", "expat"))
    SlaPolicy.objects.all().delete()
    left = datetime(2030, 1, 1, tzinfo=UTC)
    Finding.objects.filter(package="zlib").update(due_at=left)

    with CaptureQueriesContext(connection) as queries:
        changed = due_dates_refresh(Finding.objects.all())

    assert changed == 1
    assert set(Finding.objects.values_list("due_at", flat=True)) == {None}
    read = next(
        q["sql"] for q in queries.captured_queries if '"due_at"' in q["sql"].split("FROM")[0]
    )
    assert "IS NOT NULL" in read  # the findings without a deadline are not even read
