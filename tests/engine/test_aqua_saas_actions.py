"""The engine's Aqua calls (mark risky, lift it, re-scan, acknowledge) through a fake Aqua
Platform (SaaS) that checks the HMAC-signed token request (tests/fake_aqua_saas.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from findings.models import Finding
from remediator.engine.models import ActionState, AuditEvent, RemediationAction
from remediator.engine.services import action_transition, scan_evaluate
from remediator.engine.services.risk import finding_accept_risk
from remediator.engine.services.verify import verify_overdue

from ..fake_aqua_saas import API_SECRET, FakeAquaSaas
from .factories import ingest, vuln

S = ActionState
pytestmark = pytest.mark.django_db
AQUA_IMAGE = {"registry": "registry.example.com", "repository": "acme/api", "tag": "1.4"}


@pytest.fixture
def succeeded(defaults) -> RemediationAction:
    [action] = scan_evaluate(scan_id=ingest(vuln(), digest_no=1).pk)
    for to in (S.APPROVED, S.DISPATCHED, S.RUNNING, S.SUCCEEDED):
        action = action_transition(action_id=action.pk, to=to)
    return action


def calls(fake: FakeAquaSaas, path: str) -> list[dict]:
    return [body for called, _, body in fake.calls if called == path]


def assert_signed_and_secret_free(fake: FakeAquaSaas) -> None:
    assert fake.refused == []
    assert len(fake.issued) == 1  # one signed token request served every call
    recorded = str(list(AuditEvent.objects.values("message", "data")))
    for secret in (API_SECRET, *fake.issued):
        assert secret not in recorded


def test_failed_verification_disallows_and_a_later_fix_allows_through_saas(succeeded, aqua_saas):
    scan_evaluate(scan_id=ingest(vuln(), digest_no=2).pk)  # the CVE survived the rebuild

    action = RemediationAction.objects.get(pk=succeeded.pk)
    assert (action.state, action.risky_marked) == (S.VERIFICATION_FAILED, True)
    assert [c["images"] for c in calls(aqua_saas, "/api/v1/images/disallow")] == [[AQUA_IMAGE]]
    assert_signed_and_secret_free(aqua_saas)


def test_overdue_verification_asks_saas_to_rescan(succeeded, aqua_saas):
    past = timezone.now() - timedelta(minutes=1)
    RemediationAction.objects.filter(pk=succeeded.pk).update(verify_deadline=past)

    assert verify_overdue() == 1

    [rescan] = calls(aqua_saas, "/api/v1/images/rescan")
    assert rescan["images"] == [AQUA_IMAGE]
    assert_signed_and_secret_free(aqua_saas)


def test_verified_action_lifts_its_risky_mark_through_saas(succeeded, aqua_saas):
    RemediationAction.objects.filter(pk=succeeded.pk).update(risky_marked=True)

    scan_evaluate(scan_id=ingest(digest_no=2).pk)

    assert [c["images"] for c in calls(aqua_saas, "/api/v1/images/allow")] == [[AQUA_IMAGE]]
    assert not RemediationAction.objects.get(pk=succeeded.pk).risky_marked


def test_accepted_risk_is_acknowledged_through_saas(people, aqua_saas):
    ingest(vuln(), tag="1.4")
    finding = Finding.objects.get()

    finding_accept_risk(
        finding_id=finding.pk,
        user=people["alice"],
        reason="not reachable",
        until=timezone.now() + timedelta(days=30, hours=1),
    )

    [ack] = calls(aqua_saas, "/api/v2/risks/acknowledge")
    (issue,) = ack["issues"]
    assert issue["issue_name"] == finding.vulnerability_id
    assert issue["expiration_days"] == 30
    assert_signed_and_secret_free(aqua_saas)


def test_a_refused_signature_is_audited_without_the_secret_and_changes_nothing(
    succeeded, aqua_saas, monkeypatch
):
    monkeypatch.setenv("AQUA_API_SECRET", "a-wrong-secret-never-logged")

    scan_evaluate(scan_id=ingest(vuln(), digest_no=2).pk)

    action = RemediationAction.objects.get(pk=succeeded.pk)
    assert (action.state, action.risky_marked) == (S.VERIFICATION_FAILED, False)
    assert aqua_saas.refused == ["invalid signature"]
    failure = AuditEvent.objects.filter(message__contains="marking the image risky").get()
    assert "HTTP 401" in failure.message
    assert "a-wrong-secret-never-logged" not in str(failure.data) + failure.message
