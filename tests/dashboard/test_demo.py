"""``manage.py demo``: living data through the real ingestion; refuses to clobber."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from findings.models import Delivery, Finding, RunningImage
from remediator.engine.models import RemediationAction


@pytest.mark.django_db
def test_demo_fills_the_database_and_refuses_to_run_twice_without_reset():
    out = io.StringIO()
    call_command("demo", images=3, stdout=out)
    assert "Demo ready" in out.getvalue()
    assert Finding.objects.filter(status="fixed").exists()
    assert Delivery.objects.filter(status="rejected").count() == 4
    assert RemediationAction.objects.exists()
    assert RunningImage.objects.filter(cluster="prod-eu").exists()
    users = get_user_model().objects.filter(username__in=["alice", "bob", "victor"])
    assert {u.username for u in users} == {"alice", "bob", "victor"}
    assert users.get(username="victor").has_perm("findings.view_finding")
    assert not users.get(username="victor").has_perm("remediator.approve_action")
    with pytest.raises(CommandError, match="--reset"):
        call_command("demo", images=3, stdout=io.StringIO())
    call_command("demo", images=2, reset=True, stdout=io.StringIO())
    assert Delivery.objects.filter(status="rejected").count() == 4


OS_ECOSYSTEMS = {"apk", "deb", "rpm"}


@pytest.mark.parametrize("seed", range(40))
def test_a_demo_trivy_report_holds_the_packages_of_one_distribution(seed):
    """Merged sample reports add application dependencies, never another distribution's
    packages: an Alpine image has no rpm or deb packages."""
    import random

    from findings.parsers.ecosystems import package_type_from_trivy
    from remediator.engine.management.commands._demo_scans import OS_PACKAGES, _trivy_merged

    report = _trivy_merged(random.Random(seed))

    os_results = [r for r in report["Results"] if r.get("Class") == OS_PACKAGES]
    assert len(os_results) == 1, [r.get("Type") for r in os_results]
    family = report["Metadata"]["OS"]["Family"]
    assert os_results[0]["Type"] == family
    kinds = {package_type_from_trivy(r.get("Type")) for r in report["Results"]}
    assert kinds & OS_ECOSYSTEMS == {package_type_from_trivy(family)}


@pytest.mark.django_db
def test_every_demo_image_s_findings_come_from_one_distribution():
    call_command("demo", images=12, stdout=io.StringIO())

    by_repository: dict[int, set[str]] = {}
    for repository, kind in Finding.objects.values_list("repository_id", "package_type"):
        by_repository.setdefault(repository, set()).add(kind)

    assert len(by_repository) >= 10
    mixed = {r: kinds & OS_ECOSYSTEMS for r, kinds in by_repository.items()}
    assert all(len(kinds) <= 1 for kinds in mixed.values()), mixed


@pytest.mark.django_db
def test_the_demo_history_measures_remediation_two_ways_with_a_realistic_spread():
    from findings.models import Image, Repository
    from findings.selectors.remediation import remediation_report

    out = io.StringIO()
    call_command("demo", images=12, stdout=out)

    assert "to no longer running" in out.getvalue()
    report = remediation_report()
    overall = report.overall
    assert overall.fixed >= 10
    fix, gone = overall.to_fix, overall.to_not_running
    assert gone.count >= overall.fixed // 2  # most fixed digests were seen running
    assert fix.median_days != gone.median_days  # two different measures
    assert fix.p90_days > 1.5 * fix.median_days  # skewed: a long tail, not one value
    assert overall.still_running >= 1  # a rollout that never reached the fixed build
    assert report.overdue_total >= 1
    assert 0 < report.compliance_total.in_time < report.compliance_total.with_due  # some late
    assert len(report.by_team) >= 2
    assert Repository.objects.filter(owner__isnull=False).exists()
    assert not Finding.objects.filter(due_at__isnull=True, severity="critical").exists()
    assert Image.objects.filter(running_last_seen__isnull=False).count() > 12
