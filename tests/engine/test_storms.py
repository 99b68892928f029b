"""No storms: one open action per tag and kind, findings join it, a cooldown after failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding
from remediator.engine.models import ActionState, RemediationAction
from remediator.engine.services import action_transition, scan_evaluate

from .factories import ingest, vuln

S = ActionState
pytestmark = pytest.mark.django_db


def test_fifty_webhook_ingests_of_one_image_make_one_open_action(
    defaults, eager, django_capture_on_commit_callbacks
):
    """Each ingest commits, fires scan_ingested, and the receiver runs scan_evaluate."""
    for n in range(50):
        with django_capture_on_commit_callbacks(execute=True):
            ingest(vuln(), vuln(f"CVE-2025-{n:04d}", f"pkg{n}"))

    actions = RemediationAction.objects.all()
    assert [(a.kind, a.state) for a in actions] == [("rebuild", "awaiting_approval")]
    assert actions[0].findings.count() == 51
    present = Finding.objects.exclude(status="fixed")  # each scan dropped the previous extra
    assert set(present.values_list("status", flat=True)) == {"in_remediation"}
    assert present.count() == 2


def test_findings_after_dispatch_wait_for_the_verification_scan(defaults):
    [action] = scan_evaluate(scan_id=ingest(vuln()).pk)
    action_transition(action_id=action.pk, to=S.APPROVED)
    action_transition(action_id=action.pk, to=S.DISPATCHED)

    later = ingest(vuln(), vuln("CVE-2025-0001", "zlib"))
    assert scan_evaluate(scan_id=later.pk) == []

    assert RemediationAction.objects.count() == 1
    assert action.findings.count() == 1
    assert Finding.objects.get(vulnerability_id="CVE-2025-0001").status == "open"


def test_a_critical_without_fix_gets_one_notify_action_beside_the_rebuild(defaults):
    scan_evaluate(scan_id=ingest(vuln(), vuln("CVE-2025-0002", "glibc", fixed="")).pk)
    scan_evaluate(scan_id=ingest(vuln(), vuln("CVE-2025-0002", "glibc", fixed="")).pk)

    kinds = sorted(RemediationAction.objects.values_list("kind", "state"))
    # notify needs no approval: it went straight to approved (dispatch is queued)
    assert kinds == [("notify", "approved"), ("rebuild", "awaiting_approval")]


def test_no_new_action_during_the_cooldown_after_a_failure(defaults, settings):
    [first] = scan_evaluate(scan_id=ingest(vuln()).pk)
    action_transition(action_id=first.pk, to=S.APPROVED)
    action_transition(action_id=first.pk, to=S.DISPATCHED)
    action_transition(action_id=first.pk, to=S.FAILED, reason="pipeline failed")

    assert scan_evaluate(scan_id=ingest(vuln()).pk) == []
    assert RemediationAction.objects.count() == 1

    RemediationAction.objects.filter(pk=first.pk).update(
        finished_at=timezone.now() - timedelta(minutes=settings.ACTION_COOLDOWN_MINUTES + 1)
    )
    [second] = scan_evaluate(scan_id=ingest(vuln()).pk)
    assert second.pk != first.pk and second.state == S.AWAITING_APPROVAL


def test_cooldown_is_per_tag(defaults):
    [first] = scan_evaluate(scan_id=ingest(vuln(), tag="1.4").pk)
    action_transition(action_id=first.pk, to=S.CANCELLED)
    [again] = scan_evaluate(scan_id=ingest(vuln(), tag="1.4").pk)
    action_transition(action_id=again.pk, to=S.REJECTED)

    assert scan_evaluate(scan_id=ingest(vuln(), tag="1.4").pk) == []
    [other] = scan_evaluate(scan_id=ingest(vuln(), tag="1.5").pk)
    assert other.tag.name == "1.5"


def test_ignore_rule_and_disabled_rules_create_nothing(defaults):
    from remediator.engine.models import Policy

    Policy.objects.create(name="ignore-acme", order=1, image_glob="acme/*", action="ignore")
    assert scan_evaluate(scan_id=ingest(vuln()).pk) == []
    Policy.objects.update(enabled=False)
    assert scan_evaluate(scan_id=ingest(vuln()).pk) == []
    assert not RemediationAction.objects.exists()
