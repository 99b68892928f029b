"""The policy conditions kev, min_epss, running and namespace_glob: YAML, dry run, engine."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from findings.models import RunningImage, ThreatIntel
from remediator.engine.models import Policy, RemediationAction
from remediator.engine.services.dry_run import policy_dry_run
from remediator.engine.services.evaluate import tag_evaluate
from tests.dashboard.factories import make_findings, make_tag

pytestmark = pytest.mark.django_db


def test_yaml_declares_the_threat_intel_and_inventory_conditions(tmp_path):
    path = tmp_path / "remediator.yaml"
    path.write_text(
        "policies:\n"
        "  - name: kev-in-prod\n    kev: true\n    min_epss: 0.5\n    running: true\n"
        "    namespace: prod-*\n    action: rebuild\n"
    )
    call_command("apply_config", str(path), stdout=StringIO())
    policy = Policy.objects.get(name="kev-in-prod")
    assert (policy.kev, policy.min_epss, policy.running, policy.namespace_glob) == (
        True,
        0.5,
        True,
        "prod-*",
    )
    path.write_text("policies:\n  - name: bad\n    min_epss: 2\n    action: rebuild\n")
    with pytest.raises(CommandError, match="min_epss: must be a number from 0 to 1"):
        call_command("apply_config", str(path), stdout=StringIO())


def _running(tag, namespace: str, days_ago: float = 0) -> None:
    seen = timezone.now() - timedelta(days=days_ago)
    RunningImage.objects.create(
        namespace=namespace, kind="Deployment", name="api", container="api",
        image_ref=str(tag.repository), repository=tag.repository, source="inventory",
        first_seen=seen, last_seen=seen,
    )  # fmt: skip


def test_the_dry_run_and_the_engine_apply_kev_epss_and_namespace_rules():
    Policy.objects.all().delete()
    prod, dev, stale = make_tag("team/prod"), make_tag("team/dev"), make_tag("team/stale")
    _running(prod, "prod-eu")
    _running(dev, "dev")
    _running(stale, "prod-us", days_ago=30)  # not seen for a month: not running
    found = [make_findings(tag, 2, severities=["high"]) for tag in (prod, dev, stale)]
    for findings in found:
        ThreatIntel.objects.create(vulnerability_id=findings[0].vulnerability_id, kev=True)
        ThreatIntel.objects.create(vulnerability_id=findings[1].vulnerability_id, epss_score=0.7)
    kev = Policy.objects.create(
        name="kev-prod", order=1, kev=True, namespace_glob="prod-*", action="rebuild"
    )
    epss = Policy.objects.create(name="likely", order=2, min_epss=0.5, action="notify")
    results = {r.rule_name: r for r in policy_dry_run()}
    assert (results["kev-prod"].findings, results["kev-prod"].images) == (1, 1)
    assert results["likely"].findings == 3  # EPSS 0.7 everywhere
    assert results["(no rule matched)"].findings == 2  # the KEV ones not running in prod

    actions = tag_evaluate(tag=prod)
    assert {(a.kind, a.policy_id) for a in actions} == {("rebuild", kev.pk), ("notify", epss.pk)}
    assert {a.kind for a in tag_evaluate(tag=dev)} == {"notify"}
    assert RemediationAction.objects.filter(tag=stale).count() == 0
